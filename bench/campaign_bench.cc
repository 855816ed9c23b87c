// campaign_bench: the campaign engine's two figures of issue 15.
//  1. The freeze's write path: 1,000,000 delivery rows written in chunks of 10,000 through
//     DeliveryStore::InsertChunk into a file database (target <= 10 s). The planner's audience
//     reads are not measured here (they are the plan's, built apart).
//  2. Dispatch against the simulator (scrm-sim's Platform, in process, on loopback) at the
//     configured platform rate: an OA template campaign through the real stack (Dispatcher ->
//     OaOutbound -> OaClient -> ApiCaller with the default RateGovernor -> curl -> scrm-sim),
//     the simulator limiting message/template/send to the same rate with errcode 45009.
//     Targets: >= 95 % of the allowed rate, 0 x 45009.
// Prints the figures, the targets and the conditions; exits 1 on a miss. Run on purpose:
//   campaign_bench [recipients to dispatch, default 12000]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "campaigns/engine/dispatcher.h"
#include "channels/official_account/oa_outbound.h"
#include "sim/platform.h"
#include "sim/sim_server.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/oa_client.h"
#include "src/platform/sleeper.h"
#include "src/platform/token_service.h"
#include "src/storage/campaign_store.h"
#include "src/storage/database.h"
#include "src/storage/delivery_store.h"
#include "src/storage/send_batch_store.h"

namespace {

using namespace scrm;
using Steady = std::chrono::steady_clock;

constexpr int64_t kFreezeRows = 1000000;
constexpr size_t kFreezeChunk = 10000;
constexpr double kFreezeTargetS = 10.0;
constexpr double kRateTarget = 0.95;

// The same text for everyone: the bench measures sending, not rendering.
class StaticMessage final : public campaigns::MessageSource {
 public:
  core::StatusOr<model::MessageContent> Render(const model::Campaign&, int64_t, const std::string&,
                                               const std::optional<std::string>&) override {
    model::OaTemplateContent content;
    content.template_id = "BENCH_TPL";
    content.data["thing1"] = model::OaTemplateField{"spring sale", ""};
    return model::MessageContent(content);
  }
};

std::unique_ptr<storage::Database> OpenDb(const std::string& path) {
  storage::DatabaseOptions options;
  options.path = path;
  auto db = storage::Database::Open(options);
  if (!db.ok() || !(*db)->Migrate(0).ok()) {
    std::fprintf(stderr, "database %s: %s\n", path.c_str(), db.status().ToString().c_str());
    std::exit(2);
  }
  return std::move(db).value();
}

model::Campaign RunningCampaign(storage::CampaignStore& store, const std::string& account) {
  model::Campaign c;
  c.name = "bench";
  c.kind = model::CampaignKind::kOaTemplate;
  c.account_id = account;
  c.segment_id = 1;
  c.segment_version = 1;
  c.template_id = 1;
  c.template_version = 1;
  c.state = model::CampaignState::kRunning;
  c.created_by = "bench";
  model::CampaignAuditEntry audit;
  audit.to_state = "running";
  audit.actor = "bench";
  auto stored = store.Insert(c, audit);
  if (!stored.ok()) std::exit(2);
  return *stored;
}

std::string Openid(int64_t i) { return "oBENCH" + std::to_string(1000000 + i); }

// Writes `count` planned rows for `campaign` in chunks; returns seconds.
double Freeze(storage::DeliveryStore& store, const model::Campaign& campaign, int64_t count) {
  const auto start = Steady::now();
  std::vector<model::Delivery> chunk;
  chunk.reserve(kFreezeChunk);
  for (int64_t i = 0; i < count; ++i) {
    model::Delivery d;
    d.campaign_id = campaign.id;
    d.customer_id = i + 1;
    d.channel_key = model::DeliveryChannelKey(campaign.account_id, "", Openid(i));
    d.idempotency_key = model::DeliveryIdempotencyKey(campaign.id, d.customer_id, d.channel_key);
    chunk.push_back(std::move(d));
    if (chunk.size() == kFreezeChunk || i + 1 == count) {
      if (!store.InsertChunk(chunk).ok()) std::exit(2);
      chunk.clear();
    }
  }
  return std::chrono::duration<double>(Steady::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t recipients = argc > 1 ? std::atoll(argv[1]) : 12000;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("campaign_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  // 1. Freeze.
  double freeze_s = 0;
  {
    auto db = OpenDb((dir / "freeze.db").string());
    storage::CampaignStore campaigns(*db);
    storage::DeliveryStore deliveries(*db);
    const model::Campaign campaign = RunningCampaign(campaigns, "shop");
    freeze_s = Freeze(deliveries, campaign, kFreezeRows);
    if (deliveries.Total(campaign.id).value() != kFreezeRows) return 2;
  }

  // 2. Dispatch at the configured rate of message/template/send.
  // The per-minute limit scrmd runs with (GovernorOptions default). Its daily quota bucket
  // (100 000 / day) is left out: with a burst of 2 000 and 1.13 permits/s after it, it would
  // pace this run, not the per-minute limit the target names.
  platform::GovernorOptions limits;
  const platform::RateLimit per_minute = limits.oa_api.at("message/template/send").front();
  limits.oa_api["message/template/send"] = {per_minute};
  const double allowed_per_s =
      static_cast<double>(per_minute.limit) / static_cast<double>(per_minute.window.count());
  core::SystemClock clock;
  core::SecureRandom random;
  sim::World world;
  world.oa.account = "shop";
  for (int64_t i = 0; i < recipients; ++i) {
    sim::Follower f;
    f.openid = Openid(i);
    world.oa.followers.push_back(f);
  }
  world.rate_limits.push_back(sim::RateLimitRule{"message/template/send", per_minute.limit,
                                                 per_minute.window.count(), 45009});
  sim::Platform sim_platform(world, clock, random);
  sim::SimServerOptions sim_options;
  sim::SimServer sim_server(sim_platform, sim_options);
  if (!sim_server.Start().ok()) return 2;

  net::CurlGlobal curl;
  net::CurlHttpClient http;
  core::MetricsRegistry metrics;
  platform::RealSleeper sleeper;
  platform::TokenService tokens(http, clock, metrics, core::MakeNullLogger());
  platform::RateGovernor governor(clock, limits);
  platform::ApiCaller caller(http, tokens, governor, clock, random, sleeper, metrics,
                             core::MakeNullLogger());
  platform::Credential credential;
  credential.account_id = "shop";
  credential.platform = model::Platform::kOfficialAccount;
  credential.api_base = sim_server.base_url();
  credential.app_id = world.oa.app_id;
  credential.secret = world.oa.app_secret;
  platform::OaClient client(credential, caller);
  channels::OutboundDirectory directory;
  if (!directory.Add(std::make_unique<channels::oa::OaOutbound>("shop", client)).ok()) return 2;

  auto db = OpenDb((dir / "dispatch.db").string());
  storage::CampaignStore campaigns(*db);
  storage::DeliveryStore deliveries(*db);
  storage::SendBatchStore batches(*db);
  const model::Campaign campaign = RunningCampaign(campaigns, "shop");
  Freeze(deliveries, campaign, recipients);
  StaticMessage messages;
  campaigns::Dispatcher dispatcher(campaigns, batches, directory, messages, nullptr, clock,
                                   metrics);
  const auto start = Steady::now();
  while (campaigns.Get(campaign.id).value().state == model::CampaignState::kRunning) {
    auto round = dispatcher.RunOnce();
    if (!round.ok()) {
      std::fprintf(stderr, "dispatch: %s\n", round.status().ToString().c_str());
      return 2;
    }
  }
  const double dispatch_s = std::chrono::duration<double>(Steady::now() - start).count();
  sim_server.Stop();

  int64_t accepted = 0;
  int64_t quota_errors = 0;
  for (const sim::RecordedRequest& r : sim_platform.Requests("message/template/send")) {
    if (r.errcode == 45009) ++quota_errors;
    if (r.errcode == 0 && r.note != "deduplicated") ++accepted;
  }
  const auto counts = deliveries.Count(campaign.id).value();
  int64_t sent = 0;
  for (const auto& c : counts) sent += c.state == model::DeliveryState::kSent ? c.count : 0;
  const double achieved_per_s = static_cast<double>(accepted) / dispatch_s;
  const double share = achieved_per_s / allowed_per_s;
  std::filesystem::remove_all(dir);

  const std::string conditions =
      std::to_string(std::thread::hardware_concurrency()) +
      " cores, SQLite file in the temp directory, simulator in process on loopback";
  const bool freeze_ok = freeze_s <= kFreezeTargetS;
  const bool rate_ok =
      share >= kRateTarget && quota_errors == 0 && sent == recipients && accepted == recipients;
  std::printf(
      "| campaign_bench freeze write | %lld rows in %.2f s (%.0f rows/s) | target <= %.0f s "
      "| %s | %s |\n",
      static_cast<long long>(kFreezeRows), freeze_s, static_cast<double>(kFreezeRows) / freeze_s,
      kFreezeTargetS, conditions.c_str(), freeze_ok ? "ok" : "MISS");
  std::printf(
      "| campaign_bench dispatch oa_template | %lld sent in %.1f s = %.1f/s of %.1f/s allowed "
      "(%.1f %%), %lld x 45009, %lld delivery rows sent | target >= %.0f %%, 0 x 45009 | "
      "governor %lld/%llds (default per-minute limit), simulator the same limit; %s | %s |\n",
      static_cast<long long>(accepted), dispatch_s, achieved_per_s, allowed_per_s, share * 100,
      static_cast<long long>(quota_errors), static_cast<long long>(sent), kRateTarget * 100,
      static_cast<long long>(per_minute.limit), static_cast<long long>(per_minute.window.count()),
      conditions.c_str(), rate_ok ? "ok" : "MISS");
  return freeze_ok && rate_ok ? 0 : 1;
}
