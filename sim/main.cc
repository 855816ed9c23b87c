// scrm-sim: plays WeCom and the Official Account on loopback (docs/simulator.md).
//   scrm-sim serve --world FILE [--port 0] [--scenario FILE --target URL]
//   scrm-sim play  --scenario FILE --target URL [--sim URL]
#include <httplib.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "sim/platform.h"
#include "sim/player.h"
#include "sim/sim_server.h"
#include "sim/world.h"
#include "src/core/clock.h"
#include "src/core/random.h"

namespace {

using namespace scrm;
using nlohmann::json;

// A WorldSink that forwards to a running `scrm-sim serve` through its control API, so a separate
// `play` changes the world that server answers from and shows up in its /sim/deliveries.
class RemoteSink final : public sim::WorldSink {
 public:
  RemoteSink(std::string host, int port) : host_(std::move(host)), port_(port) {}

  int64_t NowMs() const override {
    httplib::Client client(host_, port_);
    auto res = client.Get("/sim/clock");
    if (res && res->status == 200) {
      json doc = json::parse(res->body, nullptr, false);
      if (!doc.is_discarded() && doc.contains("now_ms")) return doc.value("now_ms", int64_t{0});
    }
    return clock_.NowUnixMillis();
  }
  core::Status ApplyEvent(const sim::ScenarioEvent& event) override {
    httplib::Client client(host_, port_);
    auto res = client.Post("/sim/events", json(event).dump(), "application/json");
    if (!res) return core::UnavailableError("simulator unreachable at /sim/events");
    if (res->status != 200) return core::InvalidArgumentError("/sim/events: " + res->body);
    return core::OkStatus();
  }
  void RecordDelivery(const sim::DeliveryRecord& record) override {
    httplib::Client client(host_, port_);
    client.Post("/sim/deliveries", json(record).dump(), "application/json");
  }

 private:
  std::string host_;
  int port_;
  core::SystemClock clock_;
};

int Serve(const std::string& world_path, const std::string& host, int port, uint64_t seed,
          int64_t token_lifetime_s, const std::string& scenario_path, const std::string& target) {
  sim::World world;
  if (!world_path.empty()) {
    auto loaded = sim::LoadWorldFile(world_path);
    if (!loaded.ok()) {
      std::cerr << "scrm-sim: " << loaded.status().message() << "\n";
      return 2;
    }
    world = std::move(loaded).value();
  }
  if (token_lifetime_s > 0) world.token_lifetime_s = token_lifetime_s;
  std::vector<sim::ScenarioEvent> events;
  if (!scenario_path.empty()) {
    auto scenario = sim::LoadWorldFile(scenario_path);
    if (!scenario.ok()) {
      std::cerr << "scrm-sim: " << scenario.status().message() << "\n";
      return 2;
    }
    events = scenario->events;
  }

  // Signals are taken by sigwait below; block them before any thread starts so none gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  core::SystemClock clock;
  core::FakeRandom random(seed);  // deterministic tokens and ids for a given seed
  sim::Platform platform(world, clock, random);
  sim::SimServerOptions options;
  options.host = host;
  options.port = port;
  options.play.target = target;
  sim::SimServer server(platform, options);
  if (auto started = server.Start(); !started.ok()) {
    std::cerr << "scrm-sim: " << started.message() << "\n";
    return 1;
  }
  std::cout << "scrm-sim listening on " << server.base_url() << std::endl;

  if (!events.empty()) {
    if (target.empty()) {
      std::cerr << "scrm-sim: --scenario needs --target\n";
      return 2;
    }
    auto player = sim::Player::Create(platform.WorldSnapshot(), options.play, platform);
    if (!player.ok()) {
      std::cerr << "scrm-sim: " << player.status().message() << "\n";
      return 2;
    }
    auto result = (*player)->Play(events);
    if (!result.ok()) {
      std::cerr << "scrm-sim: " << result.status().message() << "\n";
    } else {
      std::cout << "scrm-sim played " << result->events << " events: " << result->delivered
                << " delivered, " << result->failed << " failed" << std::endl;
    }
  }

  int signo = 0;
  sigwait(&signals, &signo);
  server.Stop();
  return 0;
}

int Play(const std::string& scenario_path, const std::string& target, const std::string& sim_url,
         int64_t timeout_ms, int retries, int64_t retry_interval_ms, uint64_t seed) {
  auto scenario = sim::LoadWorldFile(scenario_path);
  if (!scenario.ok()) {
    std::cerr << "scrm-sim: " << scenario.status().message() << "\n";
    return 2;
  }
  core::SystemClock clock;
  sim::StandaloneSink standalone(clock);
  std::unique_ptr<RemoteSink> remote;
  sim::WorldSink* sink = &standalone;
  if (!sim_url.empty()) {
    auto base = sim::ParseLoopbackBase(sim_url);
    if (!base.ok()) {
      std::cerr << "scrm-sim: --sim: " << base.status().message() << "\n";
      return 2;
    }
    remote = std::make_unique<RemoteSink>(base->first, base->second);
    sink = remote.get();
  }
  sim::PlayerOptions options;
  options.target = target;
  options.response_timeout = std::chrono::milliseconds(timeout_ms);
  options.max_retries = retries;
  options.retry_interval = std::chrono::milliseconds(retry_interval_ms);
  options.seed = seed;
  auto player = sim::Player::Create(*scenario, options, *sink);
  if (!player.ok()) {
    std::cerr << "scrm-sim: " << player.status().message() << "\n";
    return 2;
  }
  auto result = (*player)->Play(scenario->events);
  if (!result.ok()) {
    std::cerr << "scrm-sim: " << result.status().message() << "\n";
    return 1;
  }
  for (const auto& d : result->deliveries) std::cout << json(d).dump() << "\n";
  std::cout << "scrm-sim played " << result->events << " events: " << result->delivered
            << " delivered, " << result->failed << " failed" << std::endl;
  return result->failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scrm-sim: WeCom and Official Account simulator on loopback"};
  app.require_subcommand(1);

  std::string world_path;
  std::string host = "127.0.0.1";
  int port = 0;
  uint64_t seed = 1;
  int64_t token_lifetime_s = 0;
  std::string scenario_path;
  std::string target;
  auto* serve = app.add_subcommand("serve", "answer the platform APIs and the /sim control API");
  serve->add_option("--world", world_path, "world JSON file (docs/simulator.md)");
  serve->add_option("--host", host, "loopback address to listen on");
  serve->add_option("--port", port, "port; 0 = ephemeral (printed on stdout)");
  serve->add_option("--seed", seed, "seed for tokens, ids and fault fractions");
  serve->add_option("--token-lifetime", token_lifetime_s, "token lifetime in seconds");
  serve->add_option("--scenario", scenario_path, "play this scenario's events once listening");
  serve->add_option("--target", target, "scrmd base URL for callbacks (http://127.0.0.1:PORT)");

  std::string play_scenario;
  std::string play_target;
  std::string sim_url;
  int64_t timeout_ms = 5000;
  int retries = 3;
  int64_t retry_interval_ms = 1000;
  uint64_t play_seed = 1;
  auto* play = app.add_subcommand("play", "deliver a scenario's callbacks to scrmd");
  play->add_option("--scenario", play_scenario, "scenario JSON file")->required();
  play->add_option("--target", play_target, "scrmd base URL (http://127.0.0.1:PORT)")->required();
  play->add_option("--sim", sim_url, "a running scrm-sim serve to update and record into");
  play->add_option("--timeout-ms", timeout_ms, "answer deadline per attempt (platform: 5000)");
  play->add_option("--retries", retries, "re-deliveries after the first attempt (platform: 3)");
  play->add_option("--retry-interval-ms", retry_interval_ms, "pause between attempts");
  play->add_option("--seed", play_seed, "seed for nonces and AES prefixes");

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) {
    return Serve(world_path, host, port, seed, token_lifetime_s, scenario_path, target);
  }
  return Play(play_scenario, play_target, sim_url, timeout_ms, retries, retry_interval_ms,
              play_seed);
}
