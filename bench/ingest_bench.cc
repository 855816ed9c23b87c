// ingest_bench: end-to-end durable ingest. Starts the real scrmd binary on a fresh SQLite file
// (one WeCom account, storage.synchronous as given (default full, scrmd's own default), log
// level warn, every http.* key at its default),
// drives encrypted WeCom callbacks into it over keep-alive connections from the load generator
// in this process (same machine, same cores), then drives the same generator against
// bare_server, a cpp-httplib server set up like scrmd that answers 200 without doing any work.
// A 200 from scrmd means the event is committed (group commit, then ack). Prints one row per
// server and the ratio, all measured in the same run, and checks after scrmd has shut down that
// the database holds exactly one row per request answered 200.
//
// Usage: ingest_bench [requests=100000] [connections=64] [warmup=5000] [synchronous=full|normal]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_generator.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// The account the callbacks are signed for (PROTOCOL §1: Token, EncodingAESKey, CorpID).
constexpr char kAccount[] = "bench";
constexpr char kCorpId[] = "wwbench5f3c0a9e21d7";
constexpr char kToken[] = "QDG6eK3uXbZ1benchToken";
constexpr char kAesKey[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";  // 43 characters

// Targets from the issue: durable ingest on 2 cores.
constexpr double kTargetMsgPerSecond = 15'000;
constexpr double kTargetP99Ms = 20;
constexpr double kTargetRatio = 0.60;

// User + system CPU seconds of a /proc stat file (fields 14 and 15); 0 when unreadable.
double StatCpuSeconds(const fs::path& path) {
  std::ifstream stat(path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t pos = paren + 2;
  while (pos < text.size() && fields.size() < 13) {
    const size_t space = text.find(' ', pos);
    fields.push_back(text.substr(pos, space - pos));
    pos = space == std::string::npos ? text.size() : space + 1;
  }
  if (fields.size() < 13) return 0;  // fields[11] is utime (14), fields[12] stime (15)
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr)) /
         ticks;
}

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "scrmd-ingest-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A child process whose stdout we read line by line and whose stderr goes to a file. The
// destructor kills it if it is still running.
class Child {
 public:
  Child() = default;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool Spawn(const std::vector<std::string>& argv, const fs::path& stderr_file) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }

  // The first stdout line containing `needle`, or nullopt on timeout or exit.
  std::optional<std::string> WaitForLine(const std::string& needle, std::chrono::seconds limit) {
    const Clock::time_point deadline = Clock::now() + limit;
    std::string buffer;
    while (Clock::now() < deadline) {
      pollfd pfd{stdout_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char chunk[512];
      const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer.append(chunk, static_cast<size_t>(n));
      for (size_t end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
        std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 1);
        if (line.find(needle) != std::string::npos) return line;
      }
    }
    return std::nullopt;
  }

  // SIGTERM, then the exit status (SIGKILL after `limit`); -1 when it had to be killed.
  int Terminate(std::chrono::seconds limit) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const Clock::time_point deadline = Clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // User + system CPU seconds the child has used so far (/proc/PID/stat fields 14 and 15).
  double CpuSeconds() const { return StatCpuSeconds("/proc/" + std::to_string(pid_) + "/stat"); }

  // The same per thread name (/proc/PID/task/*/comm), threads of one name added up.
  std::map<std::string, double> ThreadCpuSeconds() const {
    std::map<std::string, double> out;
    std::error_code ec;
    const fs::path tasks = "/proc/" + std::to_string(pid_) + "/task";
    for (const auto& entry : fs::directory_iterator(tasks, ec)) {
      std::ifstream comm(entry.path() / "comm");
      std::string name;
      std::getline(comm, name);
      out[name] += StatCpuSeconds(entry.path() / "stat");
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

double SelfCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::optional<int> PortOf(const std::string& line) {
  const size_t colon = line.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  const int port = std::atoi(line.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return std::nullopt;
  return port;
}

std::string Tail(const fs::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// One server's measured run.
struct Measured {
  scrm::bench::LoadResult warmup;
  scrm::bench::LoadResult timed;
  size_t average_body_bytes = 0;
  double server_cpu_us_per_request = 0;
  double generator_cpu_us_per_request = 0;
  std::map<std::string, double> thread_cpu_us_per_request;  // the server's, by thread name
};

// Builds fresh callbacks for `port` (signed now), warms the connections up, then measures.
std::optional<Measured> Drive(const Child& server, int port, size_t warmup, size_t requests,
                              int connections) {
  scrm::bench::Target target;
  target.port = port;
  target.path = std::string("/callbacks/wecom/") + kAccount;
  scrm::bench::CallbackSpec spec;
  spec.token = kToken;
  spec.encoding_aes_key = kAesKey;
  spec.receive_id = kCorpId;
  spec.seed = 20240601;
  const int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  auto warm = scrm::bench::BuildCallbackRequests(spec, target, warmup, 0, now_s);
  auto timed = scrm::bench::BuildCallbackRequests(spec, target, requests, warmup, now_s);
  if (!warm.ok() || !timed.ok()) {
    std::fprintf(stderr, "ingest_bench: building requests failed: %s\n",
                 (warm.ok() ? timed.status() : warm.status()).ToString().c_str());
    return std::nullopt;
  }
  scrm::bench::LoadOptions options;
  options.connections = connections;
  scrm::bench::LoadGenerator generator(target, options);
  Measured out;
  auto warm_result = generator.Run(warm->wire);
  if (!warm_result.ok()) return std::nullopt;
  out.warmup = std::move(warm_result).value();
  const double server_cpu = server.CpuSeconds();
  const auto thread_cpu = server.ThreadCpuSeconds();
  const double self_cpu = SelfCpuSeconds();
  auto result = generator.Run(timed->wire);
  if (!result.ok()) return std::nullopt;
  const double n = static_cast<double>(std::max<size_t>(result->sent, 1));
  out.server_cpu_us_per_request = (server.CpuSeconds() - server_cpu) * 1e6 / n;
  for (const auto& [name, seconds] : server.ThreadCpuSeconds()) {
    const auto before = thread_cpu.find(name);
    const double used = seconds - (before == thread_cpu.end() ? 0 : before->second);
    if (used > 0) out.thread_cpu_us_per_request[name] = used * 1e6 / n;
  }
  out.generator_cpu_us_per_request = (SelfCpuSeconds() - self_cpu) * 1e6 / n;
  out.timed = std::move(result).value();
  out.average_body_bytes = timed->wire.empty() ? 0 : timed->body_bytes / timed->wire.size();
  return out;
}

// The inbox's group commit as scrmd's /metrics saw it over the whole run (warm-up included):
// interactions per transaction and the mean transaction time. Empty when it cannot be read.
std::string InboxNote(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(10));
  const httplib::Result res = client.Get("/metrics");
  if (!res || res->status != 200) return "";
  auto value = [&](const std::string& name) -> double {
    const std::string key = "\n" + name + " ";
    const size_t at = res->body.find(key);
    return at == std::string::npos ? 0 : std::strtod(res->body.c_str() + at + key.size(), nullptr);
  };
  const double commits = value("scrmd_inbox_commit_seconds_count");
  if (commits <= 0) return "";
  char text[192];
  std::snprintf(text, sizeof text,
                "inbox: %.0f transactions, %.1f interactions each, %.2f ms each; key index %.0f "
                "transactions, %.0f ms in all",
                commits, value("scrmd_inbox_batch_size_sum") / commits,
                value("scrmd_inbox_commit_seconds_sum") * 1e3 / commits,
                value("scrmd_inbox_key_index_seconds_count"),
                value("scrmd_inbox_key_index_seconds_sum") * 1e3);
  return text;
}

// Where the server's CPU went during the timed phase: µs per request by thread name, largest
// first (a thread that exited during the phase is not counted).
std::string ThreadNote(const Measured& m) {
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [name, us] : m.thread_cpu_us_per_request) rows.emplace_back(us, name);
  std::sort(rows.rbegin(), rows.rend());
  std::string text = "server CPU by thread (us/req):";
  for (const auto& [us, name] : rows) {
    char cell[96];
    std::snprintf(cell, sizeof cell, " %s %.1f", name.c_str(), us);
    text += cell;
  }
  return text;
}

std::string CpuNote(const Measured& m) {
  char text[128];
  std::snprintf(text, sizeof text, ", server CPU %.0f us/req, generator CPU %.0f us/req",
                m.server_cpu_us_per_request, m.generator_cpu_us_per_request);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  const int connections = argc > 2 ? std::atoi(argv[2]) : 64;
  const size_t warmup = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 5'000;
  const std::string synchronous = argc > 4 ? argv[4] : "full";
  if (requests == 0 || connections <= 0 || requests > 2'000'000 ||
      (synchronous != "full" && synchronous != "normal")) {
    std::fprintf(stderr,
                 "usage: ingest_bench [requests=100000] [connections=64] [warmup=5000] "
                 "[synchronous=full|normal]\n");
    return 2;
  }
  TempDir dir;
  if (dir.path().empty()) {
    std::fprintf(stderr, "ingest_bench: cannot create a temporary directory\n");
    return 1;
  }
  const fs::path db_path = dir.path() / "scrmd.db";
  // storage.inbox_path is left to its default, next to the main file.
  const fs::path inbox_path = dir.path() / "scrmd-inbox.db";
  const fs::path config_path = dir.path() / "scrmd.json";
  const nlohmann::json config = {
      {"listen", "127.0.0.1:0"},
      {"data_dir", dir.path().string()},
      {"log", {{"level", "warn"}}},
      {"storage", {{"path", db_path.string()}, {"synchronous", synchronous}}},
      {"accounts",
       {{{"id", kAccount},
         {"platform", "wecom"},
         {"corp_id", kCorpId},
         {"token", kToken},
         {"encoding_aes_key", kAesKey}}}}};
  std::ofstream(config_path) << config.dump(2);

  // --- scrmd ---
  std::optional<Measured> scrmd;
  std::string inbox_note;
  int scrmd_exit = -1;
  {
    Child child;
    const fs::path log = dir.path() / "scrmd.stderr";
    if (!child.Spawn({SCRM_SCRMD_BINARY, "serve", "--config", config_path.string()}, log)) {
      std::fprintf(stderr, "ingest_bench: cannot start %s\n", SCRM_SCRMD_BINARY);
      return 1;
    }
    const auto line = child.WaitForLine("listening on", std::chrono::seconds(30));
    const std::optional<int> port = line ? PortOf(*line) : std::nullopt;
    if (!port) {
      std::fprintf(stderr, "ingest_bench: scrmd did not start:\n%s\n", Tail(log).c_str());
      return 1;
    }
    scrmd = Drive(child, *port, warmup, requests, connections);
    inbox_note = InboxNote(*port);
    // The generator's connections are closed by now, so shutdown does not wait on them.
    scrmd_exit = child.Terminate(std::chrono::seconds(60));
    if (scrmd_exit != 0) {
      std::fprintf(stderr, "ingest_bench: scrmd exited with %d:\n%s\n", scrmd_exit,
                   Tail(log).c_str());
    }
  }
  if (!scrmd) return 1;

  // Rows stored, read after scrmd's graceful shutdown (WAL checkpointed, file closed).
  int64_t stored = -1;
  {
    scrm::storage::DatabaseOptions options;
    options.path = inbox_path.string();
    options.schema = scrm::storage::Schema::kInbox;
    options.synchronous = "normal";
    auto db = scrm::storage::Database::Open(options);
    if (db.ok()) {
      scrm::storage::InteractionStore store(**db);
      auto count = store.Count();
      if (count.ok()) stored = *count;
      (*db)->Close().IgnoreError();
    }
  }

  // --- bare cpp-httplib baseline, same generator, same request shapes ---
  std::optional<Measured> bare;
  {
    Child child;
    const fs::path log = dir.path() / "bare_server.stderr";
    if (!child.Spawn({SCRM_BARE_SERVER_BINARY}, log)) {
      std::fprintf(stderr, "ingest_bench: cannot start %s\n", SCRM_BARE_SERVER_BINARY);
      return 1;
    }
    const auto line = child.WaitForLine("listening on", std::chrono::seconds(30));
    const std::optional<int> port = line ? PortOf(*line) : std::nullopt;
    if (!port) {
      std::fprintf(stderr, "ingest_bench: bare_server did not start:\n%s\n", Tail(log).c_str());
      return 1;
    }
    bare = Drive(child, *port, warmup, requests, connections);
    child.Terminate(std::chrono::seconds(30));
  }
  if (!bare) return 1;

  const size_t answered_200 = scrmd->warmup.Count(200) + scrmd->timed.Count(200);
  const bool stored_ok = stored == static_cast<int64_t>(answered_200);
  std::printf("%s\n",
              scrm::bench::FormatRow(
                  "ingest durable: scrmd, encrypted WeCom callbacks, ack after commit",
                  scrmd->timed, connections, scrmd->average_body_bytes,
                  ", stored " + std::to_string(stored) + " of " + std::to_string(answered_200) +
                      " answered 200 incl. " + std::to_string(warmup) + " warm-up (" +
                      (stored_ok ? "match" : "MISMATCH") + "), synchronous=" + synchronous +
                      ", http defaults" + CpuNote(*scrmd))
                  .c_str());
  if (!inbox_note.empty()) std::printf("  %s\n", inbox_note.c_str());
  std::printf("  %s\n", ThreadNote(*scrmd).c_str());
  std::printf("%s\n", scrm::bench::FormatRow("bare cpp-httplib 200, same generator", bare->timed,
                                             connections, bare->average_body_bytes,
                                             ", elastic pool 8..1024" + CpuNote(*bare))
                          .c_str());
  const double scrmd_rate = scrmd->timed.PerSecond(200);
  const double bare_rate = bare->timed.PerSecond(200);
  const double ratio = bare_rate > 0 ? scrmd_rate / bare_rate : 0;
  const double p99 = scrmd->timed.PercentileMs(0.99);
  const bool met =
      scrmd_rate >= kTargetMsgPerSecond && p99 <= kTargetP99Ms && ratio >= kTargetRatio;
  std::printf(
      "| durable ingest / bare server | %.0f %% | %.0f / %.0f msg/s, scrmd p99 %.2f ms; "
      "target >= %.0f msg/s, p99 <= %.0f ms, >= %.0f %%: %s | same run, generator on the "
      "same %u cores |\n",
      ratio * 100, scrmd_rate, bare_rate, p99, kTargetMsgPerSecond, kTargetP99Ms,
      kTargetRatio * 100, met ? "met" : "NOT met", std::thread::hardware_concurrency());
  std::fflush(stdout);

  const bool all_answered = scrmd->timed.answered == scrmd->timed.sent &&
                            bare->timed.answered == bare->timed.sent &&
                            scrmd->timed.Count(200) == scrmd->timed.sent;
  return all_answered && stored_ok && scrmd_exit == 0 ? 0 : 1;
}
