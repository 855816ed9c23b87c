#include "src/server/elastic_task_queue.h"
#include "src/core/thread_name.h"

#include <algorithm>
#include <system_error>
#include <utility>

namespace scrm::server {

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads,
                                   std::chrono::milliseconds idle_timeout)
    : min_threads_(min_threads),
      max_threads_(std::max(min_threads, max_threads)),
      idle_timeout_(idle_timeout) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < min_threads_; ++i) {
    // If the system refuses threads now, Enqueue tries again when work arrives.
    if (!SpawnLocked()) break;
  }
}

ElasticTaskQueue::~ElasticTaskQueue() { Shutdown(); }

bool ElasticTaskQueue::SpawnLocked() {
  const size_t id = next_id_++;
  try {
    workers_.emplace(id, std::thread([this, id] { WorkerLoop(id); }));
  } catch (const std::system_error&) {
    // EAGAIN: out of threads or memory. Not fatal: the task waits for a busy worker instead.
    return false;
  }
  // Idle from birth until it takes a task: a worker that is still starting will pick up what is
  // queued, so Enqueue must not start another one for the same task.
  ++idle_;
  return true;
}

void ElasticTaskQueue::Enqueue(std::function<void()> fn) {
  std::vector<std::thread> retired;
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(fn));
    // Every idle worker will take one pending task; start another worker only for the excess.
    if (tasks_.size() > idle_ && workers_.size() < max_threads_) SpawnLocked();
    retired.swap(retired_);
  }
  cv_.notify_one();
  Reap(std::move(retired));
}

void ElasticTaskQueue::Shutdown() {
  std::map<size_t, std::thread> workers;
  std::vector<std::thread> retired;
  {
    std::lock_guard lock(mu_);
    if (joined_) return;
    shutdown_ = true;
  }
  cv_.notify_all();
  // Workers drain the queue before they exit, so joining them runs every accepted task. No new
  // worker can start once shutdown_ is set: only Enqueue spawns, and the owner stops enqueueing
  // before it calls Shutdown.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      retired.swap(retired_);
      if (workers_.empty() && retired.empty()) {
        joined_ = true;
        return;
      }
      // A worker moves its own handle to retired_ when it exits; take the live ones too and
      // join outside the lock, since they need mu_ to finish.
      workers.swap(workers_);
    }
    for (auto& [id, thread] : workers) thread.join();
    workers.clear();
    Reap(std::move(retired));
    retired.clear();
  }
}

void ElasticTaskQueue::WorkerLoop(size_t id) {
  core::NameThisThread("http-pool");
  std::unique_lock lock(mu_);
  // idle_ counts this worker whenever it is not running a task (see SpawnLocked).
  for (;;) {
    while (tasks_.empty() && !shutdown_) {
      const bool extra = workers_.size() > min_threads_;
      bool timed_out = false;
      if (extra) {
        timed_out = cv_.wait_for(lock, idle_timeout_) == std::cv_status::timeout;
      } else {
        cv_.wait(lock);
      }
      if (timed_out && tasks_.empty() && !shutdown_ && workers_.size() > min_threads_) {
        --idle_;
        // Retire: hand our own std::thread to retired_ for someone else to join. After
        // Shutdown() has taken the map, our handle is no longer in it and that caller joins us.
        auto self = workers_.find(id);
        if (self != workers_.end()) {
          retired_.push_back(std::move(self->second));
          workers_.erase(self);
        }
        return;
      }
    }
    if (tasks_.empty()) {  // shutdown_ and nothing left to run
      --idle_;
      return;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    task();
    lock.lock();
    ++idle_;
  }
}

void ElasticTaskQueue::Reap(std::vector<std::thread> retired) {
  // A retired worker has left its loop and released mu_; join only waits for it to return.
  for (auto& thread : retired) thread.join();
}

size_t ElasticTaskQueue::thread_count() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

size_t ElasticTaskQueue::idle_count() const {
  std::lock_guard lock(mu_);
  return idle_;
}

size_t ElasticTaskQueue::pending_count() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

}  // namespace scrm::server
