#include "src/core/metrics.h"

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace scrm::core {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("CounterFamily renders HELP, TYPE and one line per label tuple", "[unit]") {
  MetricsRegistry registry;
  auto& requests =
      registry.Counter("scrmd_requests_total", "Requests answered.", {"route", "status"});
  requests.Inc({"/a", "200"});
  requests.Inc({"/a", "200"}, 2);
  requests.Inc({"/b", "404"});

  CHECK(registry.Render() ==
        "# HELP scrmd_requests_total Requests answered.\n"
        "# TYPE scrmd_requests_total counter\n"
        "scrmd_requests_total{route=\"/a\",status=\"200\"} 3\n"
        "scrmd_requests_total{route=\"/b\",status=\"404\"} 1\n");
}

TEST_CASE("CounterFamily Value returns the count and 0 for an unseen tuple", "[unit]") {
  MetricsRegistry registry;
  auto& family = registry.Counter("c_total", "help", {"k"});
  family.Inc({"x"}, 5);
  CHECK(family.Value({"x"}) == 5);
  CHECK(family.Value({"y"}) == 0);
}

TEST_CASE("CounterFamily without labels renders 0 before the first Inc", "[unit]") {
  MetricsRegistry registry;
  registry.Counter("scrmd_restarts_total", "Restarts.", {});
  CHECK(Contains(registry.Render(), "\nscrmd_restarts_total 0\n"));
}

TEST_CASE("label values escape backslash, double quote and newline", "[unit]") {
  MetricsRegistry registry;
  auto& family = registry.Counter("c_total", "help", {"v"});
  family.Inc({"a\\b\"c\nd"});
  CHECK(Contains(registry.Render(), "c_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST_CASE("HELP text escapes backslash and newline but not the double quote", "[unit]") {
  MetricsRegistry registry;
  registry.Counter("c_total", "say \"hi\"\\\nbye", {});
  CHECK(Contains(registry.Render(), "# HELP c_total say \"hi\"\\\\\\nbye\n"));
}

TEST_CASE("HistogramFamily renders cumulative buckets, +Inf, _sum and _count", "[unit]") {
  MetricsRegistry registry;
  auto& latency = registry.Histogram("lat_seconds", "Latency.", {"route"}, {0.0005, 0.1, 1, 2.5});
  latency.Observe({"/a"}, 0.0005);  // on a bound: "le" is inclusive
  latency.Observe({"/a"}, 0.05);
  latency.Observe({"/a"}, 2);
  latency.Observe({"/a"}, 10);  // only +Inf

  CHECK(registry.Render() ==
        "# HELP lat_seconds Latency.\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{route=\"/a\",le=\"0.0005\"} 1\n"
        "lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
        "lat_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
        "lat_seconds_bucket{route=\"/a\",le=\"2.5\"} 3\n"
        "lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
        "lat_seconds_sum{route=\"/a\"} 12.0505\n"
        "lat_seconds_count{route=\"/a\"} 4\n");
  CHECK(latency.Count({"/a"}) == 4);
  CHECK(latency.Count({"/b"}) == 0);
}

TEST_CASE("HistogramFamily without labels puts le alone in the braces", "[unit]") {
  MetricsRegistry registry;
  auto& family = registry.Histogram("h", "help", {}, {1});
  family.Observe({}, 0.5);
  const std::string text = registry.Render();
  CHECK(Contains(text, "h_bucket{le=\"1\"} 1\n"));
  CHECK(Contains(text, "h_bucket{le=\"+Inf\"} 1\n"));
  CHECK(Contains(text, "h_sum 0.5\n"));
  CHECK(Contains(text, "h_count 1\n"));
}

TEST_CASE("HistogramFamily drops an explicit +Inf bound and ignores NaN", "[unit]") {
  MetricsRegistry registry;
  auto& family = registry.Histogram("h", "help", {}, {1, std::numeric_limits<double>::infinity()});
  family.Observe({}, std::numeric_limits<double>::quiet_NaN());
  family.Observe({}, 3);
  const std::string text = registry.Render();
  CHECK(Contains(text, "h_bucket{le=\"1\"} 0\n"));
  CHECK(Contains(text, "h_bucket{le=\"+Inf\"} 1\n"));
  CHECK(Contains(text, "h_sum 3\n"));
  CHECK(family.Count({}) == 1);
}

TEST_CASE("GaugeFamily renders the last value set when set more than once", "[unit]") {
  MetricsRegistry registry;
  auto& lag = registry.Gauge("scrmd_queue_length", "Items waiting.", {"queue"});
  lag.Set({"inbox"}, 7);
  lag.Set({"inbox"}, 2.5);
  lag.Set({"outbox"}, 0);
  CHECK(lag.Value({"inbox"}) == 2.5);
  CHECK(lag.Value({"unseen"}) == 0);
  CHECK(registry.Render() ==
        "# HELP scrmd_queue_length Items waiting.\n"
        "# TYPE scrmd_queue_length gauge\n"
        "scrmd_queue_length{queue=\"inbox\"} 2.5\n"
        "scrmd_queue_length{queue=\"outbox\"} 0\n");
}

TEST_CASE("GaugeFamily without labels renders 0 before the first Set", "[unit]") {
  MetricsRegistry registry;
  registry.Gauge("scrmd_lag", "Lag.", {});
  CHECK(Contains(registry.Render(), "scrmd_lag 0\n"));
}

TEST_CASE("MetricsRegistry renders gauges in name order with the other families", "[unit]") {
  MetricsRegistry registry;
  registry.Gauge("scrmd_b", "B.", {});
  registry.Counter("scrmd_c", "C.", {});
  registry.Counter("scrmd_a", "A.", {});
  const std::string text = registry.Render();
  CHECK(text.find("scrmd_a") < text.find("scrmd_b"));
  CHECK(text.find("scrmd_b") < text.find("scrmd_c"));
  CHECK(&registry.Gauge("scrmd_b", "B.", {}) == &registry.Gauge("scrmd_b", "other help", {}));
}

TEST_CASE("MetricsRegistry returns the same family for the same name", "[unit]") {
  MetricsRegistry registry;
  auto& first = registry.Counter("c_total", "help", {"k"});
  auto& second = registry.Counter("c_total", "help", {"k"});
  CHECK(&first == &second);
  auto& h1 = registry.Histogram("h", "help", {"k"}, {1});
  auto& h2 = registry.Histogram("h", "help", {"k"}, {1});
  CHECK(&h1 == &h2);
}

TEST_CASE("MetricsRegistry renders families in name order and infos last", "[unit]") {
  MetricsRegistry registry;
  registry.SetInfo("scrmd_build_info", "Build.", {{"version", "0.1.0"}});
  registry.Counter("b_total", "b", {}).Inc({});
  registry.Histogram("a_seconds", "a", {}, {1});
  registry.Counter("c_total", "c", {});
  const std::string text = registry.Render();
  const auto a = text.find("# HELP a_seconds");
  const auto b = text.find("# HELP b_total");
  const auto c = text.find("# HELP c_total");
  const auto info = text.find("# HELP scrmd_build_info");
  REQUIRE(a != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c < info);
  CHECK(Contains(text, "# TYPE scrmd_build_info gauge\nscrmd_build_info{version=\"0.1.0\"} 1\n"));
}

TEST_CASE("SetInfo with the same name replaces the previous value", "[unit]") {
  MetricsRegistry registry;
  registry.SetInfo("build_info", "Build.", {{"version", "1"}});
  registry.SetInfo("build_info", "Build.", {{"version", "2"}});
  CHECK(registry.Render() ==
        "# HELP build_info Build.\n# TYPE build_info gauge\nbuild_info{version=\"2\"} 1\n");
}

TEST_CASE("CounterFamily counts every Inc when many threads increment", "[unit]") {
  MetricsRegistry registry;
  auto& family = registry.Counter("c_total", "help", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&family, t] {
      for (int i = 0; i < 1000; ++i) family.Inc({t % 2 == 0 ? "even" : "odd"});
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(family.Value({"even"}) == 4000);
  CHECK(family.Value({"odd"}) == 4000);
}

}  // namespace
}  // namespace scrm::core
