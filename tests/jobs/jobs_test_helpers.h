// Fixture for the outbox tests: the profile service and the outbox on a migrated SQLite file,
// the real platform clients (CurlHttpClient, TokenService, RateGovernor, ApiCaller) against the
// in-process simulator on loopback and the outbound channels over them, the enrichment, tag push
// and sweep handlers and a runner — all on one FakeClock.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "channels/common/outbound.h"
#include "channels/official_account/oa_outbound.h"
#include "channels/wecom/wecom_outbound.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/jobs/enrich_handler.h"
#include "src/jobs/outbox_runner.h"
#include "src/jobs/tag_push_handler.h"
#include "src/jobs/tag_sweep.h"
#include "src/model/job_kinds.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/oa_client.h"
#include "src/platform/wecom_client.h"
#include "src/profiles/profile_service.h"
#include "src/profiles/rule_set.h"
#include "src/storage/database.h"
#include "src/storage/outbox_store.h"
#include "src/storage/profile_store.h"
#include "src/storage/tag_push_store.h"
#include "tests/profiles/profile_wiring.h"
#include "tests/sim/sim_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::jobs::testing {

using sim::testing::SimCredential;

// Backoff waits return at once: time moves only when a test advances the clock.
class NoSleep final : public platform::Sleeper {
 public:
  void SleepFor(std::chrono::milliseconds) override {}
};

inline std::unique_ptr<storage::Database> OpenMigrated(const std::string& path, int64_t now_ms) {
  storage::DatabaseOptions options;
  options.path = path;
  auto db = storage::Database::Open(options);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto applied = (*db)->Migrate(now_ms);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  return std::move(db).value();
}

inline profiles::testing::ServiceOptions EnrichingOptions() {
  profiles::testing::ServiceOptions options;
  options.enrichment_accounts = {"acme", "brand"};  // the simulator world's accounts
  return options;
}

// Tag pushes to the simulator world's accounts, without enrichment (so that only the pushes run).
inline profiles::testing::ServiceOptions PushingOptions() {
  profiles::testing::ServiceOptions options;
  options.tag_push_accounts = {"acme", "brand"};
  return options;
}

inline platform::RetryPolicy FastPolicy() {
  platform::RetryPolicy policy;
  policy.request_timeout = std::chrono::milliseconds(3000);
  return policy;
}

struct Fixture {
  explicit Fixture(profiles::testing::ServiceOptions options = EnrichingOptions(),
                   sim::World world = sim::testing::TestWorld())
      : sim(std::move(world)), wired(store, rules, sim.clock, options) {
    REQUIRE(directory.Add(std::make_unique<channels::wecom::WecomOutbound>("acme", wecom)).ok());
    REQUIRE(directory.Add(std::make_unique<channels::oa::OaOutbound>("brand", oa)).ok());
    runner = MakeRunner();
  }

  std::unique_ptr<OutboxRunner> MakeRunner(OutboxRunnerOptions options = {}) {
    auto made = std::make_unique<OutboxRunner>(outbox, sim.clock, metrics, log, options);
    made->AddHandler(model::kEnrichJobKind, handler);
    made->AddHandler(model::kTagPushJobKind, tag_push);
    made->AddHandler(model::kTagSweepJobKind, tag_sweep);
    return made;
  }

  void Apply(std::vector<model::Interaction> items) {
    const core::Status status = service.ingest.ApplyChunk(items, std::nullopt);
    INFO(status.ToString());
    REQUIRE(status.ok());
  }
  size_t RunOnce(OutboxRunner* with = nullptr) {
    auto ran = (with != nullptr ? with : runner.get())->RunOnce();
    INFO(ran.status().ToString());
    REQUIRE(ran.ok());
    return *ran;
  }

  model::Interaction OaSubscribe(std::string openid) {
    model::Interaction it =
        Base(model::Platform::kOfficialAccount, "brand", model::InteractionKind::kSubscribe);
    it.openid = std::move(openid);
    return it;
  }
  model::Interaction WecomAdd(std::string external_userid, std::string userid) {
    model::Interaction it =
        Base(model::Platform::kWecom, "acme", model::InteractionKind::kContactAdd);
    it.external_userid = std::move(external_userid);
    it.userid = std::move(userid);
    model::ContactChangePayload payload;
    payload.change_type = "add_external_contact";
    it.payload = payload;
    return it;
  }

  std::optional<int64_t> Find(std::string_view platform, std::string_view account,
                              model::IdentityKind kind, std::string_view value) {
    auto found = service.queries.FindCustomer(platform, account, kind, value);
    INFO(found.status().ToString());
    REQUIRE(found.ok());
    return *found;
  }
  int64_t ByOpenid(std::string_view openid) {
    const auto id = Find("oa", "brand", model::IdentityKind::kOpenid, openid);
    REQUIRE(id.has_value());
    return *id;
  }
  int64_t ByExternal(std::string_view external_userid) {
    const auto id = Find("wecom", "acme", model::IdentityKind::kExternalUserid, external_userid);
    REQUIRE(id.has_value());
    return *id;
  }
  profiles::CustomerView View(int64_t customer_id) {
    auto view = service.queries.GetCustomer(customer_id);
    INFO(view.status().ToString());
    REQUIRE(view.ok());
    return std::move(view).value();
  }
  storage::OutboxJob Job(const std::string& dedupe_key) {
    auto job = outbox.FindByKey(dedupe_key);
    INFO(job.status().ToString());
    REQUIRE(job.ok());
    REQUIRE(job->has_value());
    return **job;
  }

  sim::testing::SimFixture sim;  // its FakeClock is everyone's clock
  scrm::testing::TempDir dir;
  std::unique_ptr<storage::Database> db =
      OpenMigrated(dir.File("scrmd.db"), sim.clock.NowUnixMillis());
  storage::ProfileStore store{*db};
  storage::OutboxStore outbox{*db};
  profiles::RuleSetHolder rules;
  profiles::testing::WiredProfiles wired;
  profiles::ProfileService& service = wired.service;
  std::shared_ptr<spdlog::logger> log = core::MakeNullLogger();
  core::MetricsRegistry metrics;
  net::CurlGlobal curl;
  net::CurlHttpClient http;
  core::FakeRandom random{11};
  NoSleep sleeper;
  platform::TokenService tokens{http, sim.clock, metrics, log};
  platform::RateGovernor governor{sim.clock};
  platform::ApiCaller caller{http,    tokens,  governor, sim.clock,   random,
                             sleeper, metrics, log,      FastPolicy()};
  platform::WecomClient wecom{SimCredential(sim.server, model::Platform::kWecom), caller};
  platform::OaClient oa{SimCredential(sim.server, model::Platform::kOfficialAccount), caller};
  channels::OutboundDirectory directory;  // acme: wecom, brand: oa
  EnrichHandler handler{service, directory, log};
  storage::TagPushStore pushes{*db};
  TagPushHandler tag_push{service, pushes, directory, sim.clock, log};
  TagSweepHandler tag_sweep{wired.tag_push, outbox, sim.clock, log};
  std::unique_ptr<OutboxRunner> runner;

 private:
  model::Interaction Base(model::Platform platform, std::string account,
                          model::InteractionKind kind) {
    model::Interaction it;
    it.id = ++next_id_;
    it.platform = platform;
    it.account_id = std::move(account);
    it.kind = kind;
    it.dedupe_key = "k" + std::to_string(it.id);
    it.occurred_at_ms = sim.clock.NowUnixMillis();
    it.received_at_ms = it.occurred_at_ms;
    it.raw_body = "<xml/>";
    return it;
  }
  int64_t next_id_ = int64_t{1767225600000} << 16;
};

}  // namespace scrm::jobs::testing
