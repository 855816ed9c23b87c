#include "src/server/connection_watch.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"

namespace scrm::server::internal {
namespace {

using namespace std::chrono_literals;

// The watch's rules on a FakeClock. Descriptor -1: a cut's send and shutdown fail harmlessly.
struct WatchFixture {
  explicit WatchFixture(WatchOptions options = Options()) : watch(options, clock, log) {}
  static WatchOptions Options() {
    WatchOptions options;
    options.request_timeout = 30s;
    options.min_body_bytes_per_s = 100;
    options.body_rate_grace = 5s;
    options.max_pending_body_bytes = 1000;
    return options;
  }
  uint64_t Cuts(const std::string& reason) {
    return metrics.Counter("scrmd_http_connections_cut_total", "", {"reason"}).Value({reason});
  }
  core::FakeClock clock;
  core::MetricsRegistry metrics;
  RequestLog log{core::MakeNullLogger(), metrics};
  ConnectionWatch watch;
};

TEST_CASE("ConnectionWatch cuts a request at its deadline, counted from accept", "[unit]") {
  WatchFixture f;
  WatchedConnection* c = f.watch.Open(-1, "127.0.0.2");
  f.clock.Advance(29s);
  CHECK(f.watch.Sweep() == 0);
  f.clock.Advance(1s);
  CHECK(f.watch.Sweep() == 1);
  CHECK(f.watch.Sweep() == 0);  // cut once
  CHECK(f.Cuts("request_timeout") == 1);
  f.watch.Close(c);
}

TEST_CASE("ConnectionWatch stops the deadline once the request is read, restarts it after",
          "[unit]") {
  WatchFixture f;
  WatchedConnection* c = f.watch.Open(-1, "x");
  f.watch.HeadersRead(c, "r1", 10);
  f.watch.BodyRead(c, 10);
  f.watch.Done(c);
  f.clock.Advance(60s);  // a slow handler is not the client's fault
  CHECK(f.watch.Sweep() == 0);
  f.watch.AwaitNext(c);
  f.clock.Advance(29s);
  CHECK(f.watch.Sweep() == 0);
  f.clock.Advance(1s);
  CHECK(f.watch.Sweep() == 1);
  f.watch.Close(c);
}

TEST_CASE("ConnectionWatch cuts a body slower than the minimum rate after the grace", "[unit]") {
  WatchFixture f;
  WatchedConnection* slow = f.watch.Open(-1, "a");
  WatchedConnection* fast = f.watch.Open(-1, "b");
  WatchedConnection* chunked = f.watch.Open(-1, "c");
  WatchedConnection* complete = f.watch.Open(-1, "d");
  f.watch.HeadersRead(slow, "r1", 1000);
  f.watch.HeadersRead(fast, "r2", 1000);
  f.watch.HeadersRead(chunked, "r3", -1);
  f.watch.HeadersRead(complete, "r4", 50);
  f.watch.BodyRead(complete, 50);  // the whole body: Dispatch comes next, never cut for rate
  f.clock.Advance(5s);             // the grace: nothing owed yet
  CHECK(f.watch.Sweep() == 0);
  f.watch.BodyRead(slow, 99);
  f.watch.BodyRead(fast, 100);
  f.watch.BodyRead(chunked, 100);
  f.clock.Advance(1s);  // 100 bytes owed
  CHECK(f.watch.Sweep() == 1);
  CHECK(f.Cuts("body_rate") == 1);
  f.clock.Advance(1s);  // 200 owed
  CHECK(f.watch.Sweep() == 2);
  CHECK(f.Cuts("body_rate") == 3);
  for (WatchedConnection* c : {slow, fast, chunked, complete}) f.watch.Close(c);
}

TEST_CASE("ConnectionWatch cuts on Stop only connections with a request begun", "[unit]") {
  WatchFixture f;
  WatchedConnection* idle = f.watch.Open(-1, "a");
  WatchedConnection* uploading = f.watch.Open(-1, "b");
  WatchedConnection* handled = f.watch.Open(-1, "c");
  f.watch.HeadersRead(uploading, "r1", 1000);
  f.watch.HeadersRead(handled, "r2", 0);
  f.watch.Done(handled);
  CHECK(f.watch.CutReading() == 1);
  CHECK(f.Cuts("stopping") == 1);
  for (WatchedConnection* c : {idle, uploading, handled}) f.watch.Close(c);
}

TEST_CASE("ConnectionWatch body budget refuses what would exceed it and takes back releases",
          "[unit]") {
  WatchFixture f;
  CHECK(f.watch.TryReserve(600));
  CHECK_FALSE(f.watch.TryReserve(401));
  CHECK(f.watch.reserved() == 600);
  CHECK(f.watch.TryReserve(400));
  f.watch.Release(600);
  CHECK(f.watch.TryReserve(600));
  CHECK(f.watch.reserved() == 1000);
}

}  // namespace
}  // namespace scrm::server::internal
