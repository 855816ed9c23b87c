// Subprocess: runs a program (the real scrmd) with pipes, for process-level integration tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scrm::testing {

// Not thread-safe; one test owns one Subprocess. Kills the child (SIGKILL) on destruction
// if it is still running.
class Subprocess {
 public:
  // argv[0] is the program path. `env` entries are added to the current environment.
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout until a line containing `needle` arrives; returns that line, or nullopt on
  // EOF or timeout.
  std::optional<std::string> WaitForStdoutLine(const std::string& needle,
                                               std::chrono::milliseconds timeout);
  void Signal(int signo);
  // Waits for exit; returns the exit code, 128+signal when killed, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Everything the child wrote (collected so far, and the rest after it exits).
  std::string Stdout();
  std::string Stderr();

 private:
  void Drain(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  size_t out_consumed_ = 0;
  std::optional<int> exit_code_;
};

// Runs to completion (timeout 60 s) and returns {exit code, stdout, stderr}.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult Run(std::vector<std::string> argv, std::map<std::string, std::string> env = {});

}  // namespace scrm::testing
