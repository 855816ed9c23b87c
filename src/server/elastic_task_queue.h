// ElasticTaskQueue: a worker pool that keeps some threads warm and grows with the work queued
// (HttpServer's handler pool; bench/bare_server hands it to cpp-httplib as its task queue).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace scrm::server {

// Why it grows: cpp-httplib (the benchmark baseline) enqueues one task per accepted connection,
// and that task serves the connection for its whole keep-alive life. With httplib's fixed
// ThreadPool, connection number pool+1 waits unread until some other client hangs up: requests
// starve while the CPU idles, and a load generator's latency percentiles do not show it. This
// queue keeps `min_threads` workers warm and starts another one whenever a task arrives and no
// worker is idle, up to `max_threads`; beyond that, tasks wait in FIFO order. Extra workers exit
// after `idle_timeout` without work. Shutdown() runs every queued task, then joins every worker.
// HttpServer gives it min_threads == max_threads: a fixed pool.
//
// Thread-safety: Enqueue may be called from any thread until Shutdown, which the owner calls
// once nothing enqueues any more; the introspection getters may be called from any thread.
class ElasticTaskQueue final {
 public:
  ElasticTaskQueue(size_t min_threads, size_t max_threads, std::chrono::milliseconds idle_timeout);
  ~ElasticTaskQueue();  // shuts down if Shutdown() was not called
  ElasticTaskQueue(const ElasticTaskQueue&) = delete;
  ElasticTaskQueue& operator=(const ElasticTaskQueue&) = delete;

  void Enqueue(std::function<void()> fn);
  void Shutdown();

  // Live workers (busy or idle), workers not running a task, tasks waiting for a worker.
  size_t thread_count() const;
  size_t idle_count() const;
  size_t pending_count() const;

 private:
  void WorkerLoop(size_t id);
  // Starts a worker; false when the system refuses another thread (callers queue instead).
  bool SpawnLocked();
  // Joins workers that retired on their idle timeout. Called without mu_ held.
  void Reap(std::vector<std::thread> retired);

  const size_t min_threads_;
  const size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::map<size_t, std::thread> workers_;  // live workers by id
  std::vector<std::thread> retired_;       // exited on idle, not joined yet
  size_t next_id_ = 0;
  size_t idle_ = 0;
  bool shutdown_ = false;
  bool joined_ = false;
};

}  // namespace scrm::server
