#include "src/server/elastic_task_queue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <latch>
#include <thread>

namespace scrm::server {
namespace {

using std::chrono::milliseconds;

// Waits (bounded) for a condition that other threads make true.
bool Eventually(const std::function<bool()>& condition,
                milliseconds deadline = milliseconds(5000)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return condition();
}

TEST_CASE("ElasticTaskQueue runs a task when every warm worker is blocked", "[unit]") {
  // The starvation case: two workers each hold a "connection"; a third must still be served.
  ElasticTaskQueue queue(2, 8, milliseconds(10'000));
  std::latch release(1);
  std::atomic<int> blocked{0};
  std::atomic<bool> third_ran{false};
  for (int i = 0; i < 2; ++i) {
    queue.Enqueue([&] {
      ++blocked;
      release.wait();
    });
  }
  REQUIRE(Eventually([&] { return blocked == 2; }));
  queue.Enqueue([&] { third_ran = true; });
  CHECK(Eventually([&] { return third_ran.load(); }));
  CHECK(queue.thread_count() == 3);
  release.count_down();
  queue.Shutdown();
}

TEST_CASE("ElasticTaskQueue queues tasks beyond max_threads and runs them later", "[unit]") {
  ElasticTaskQueue queue(1, 2, milliseconds(10'000));
  std::latch release(1);
  std::atomic<int> started{0};
  for (int i = 0; i < 4; ++i) {
    queue.Enqueue([&] {
      ++started;
      release.wait();
    });
  }
  REQUIRE(Eventually([&] { return started == 2; }));
  CHECK(queue.thread_count() == 2);
  CHECK(queue.pending_count() == 2);
  release.count_down();
  CHECK(Eventually([&] { return started == 4; }));
  queue.Shutdown();
}

TEST_CASE("ElasticTaskQueue reuses an idle worker instead of starting one", "[unit]") {
  ElasticTaskQueue queue(2, 8, milliseconds(10'000));
  REQUIRE(Eventually([&] { return queue.idle_count() == 2; }));
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    queue.Enqueue([&] { ++ran; });
    REQUIRE(Eventually([&] { return ran == i + 1 && queue.idle_count() == 2; }));
  }
  CHECK(queue.thread_count() == 2);
  queue.Shutdown();
}

TEST_CASE("ElasticTaskQueue retires idle extra workers down to min_threads", "[unit]") {
  ElasticTaskQueue queue(1, 8, milliseconds(20));
  std::latch release(1);
  std::atomic<int> started{0};
  for (int i = 0; i < 4; ++i) {
    queue.Enqueue([&] {
      ++started;
      release.wait();
    });
  }
  REQUIRE(Eventually([&] { return started == 4; }));
  CHECK(queue.thread_count() == 4);
  release.count_down();
  CHECK(Eventually([&] { return queue.thread_count() == 1; }));
  // The warm worker stays and still runs work.
  std::atomic<bool> ran{false};
  queue.Enqueue([&] { ran = true; });
  CHECK(Eventually([&] { return ran.load(); }));
  queue.Shutdown();
}

TEST_CASE("ElasticTaskQueue shutdown runs every queued task before joining", "[unit]") {
  std::atomic<int> ran{0};
  {
    ElasticTaskQueue queue(1, 1, milliseconds(10'000));
    for (int i = 0; i < 50; ++i) queue.Enqueue([&] { ++ran; });
    queue.Shutdown();
    CHECK(ran == 50);
    CHECK(queue.thread_count() == 0);
    queue.Shutdown();  // idempotent
  }
  CHECK(ran == 50);
}

}  // namespace
}  // namespace scrm::server
