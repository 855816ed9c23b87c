// scrmd entry point: the composition root. Parses the command line, loads config, builds every
// object by hand, owns the threads and the signal handling.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "campaigns/engine/campaign_scheduler.h"
#include "campaigns/engine/contact_channel_service.h"
#include "campaigns/engine/contact_channel_sink.h"
#include "campaigns/engine/dispatcher.h"
#include "campaigns/engine/dispatcher_message.h"
#include "campaigns/engine/welcome_handler.h"
#include "campaigns/render/template_files.h"
#include "campaigns/segments/segment_index_sink.h"
#include "channels/common/outbound.h"
#include "channels/official_account/oa_adapter.h"
#include "channels/official_account/oa_outbound.h"
#include "channels/wecom/wecom_adapter.h"
#include "channels/wecom/wecom_outbound.h"
#include "src/api/auth.h"
#include "src/api/callbacks.h"
#include "src/api/campaign_routes.h"
#include "src/api/campaign_stats_routes.h"
#include "src/api/channel_routes.h"
#include "src/api/customer_routes.h"
#include "src/api/interaction_routes.h"
#include "src/api/job_routes.h"
#include "src/api/quarantine_routes.h"
#include "src/api/routes.h"
#include "src/api/segment_routes.h"
#include "src/api/tag_routes.h"
#include "src/api/tag_rule_routes.h"
#include "src/api/template_routes.h"
#include "src/app/campaign_dispatch.h"
#include "src/app/campaign_schedule.h"
#include "src/app/cli_common.h"
#include "src/app/key_commands.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/ingest/inbox_writer.h"
#include "src/ingest/ingest_worker.h"
#include "src/ingest/profile_chunk_processor.h"
#include "src/ingest/quarantine.h"
#include "src/jobs/backfill.h"
#include "src/jobs/enrich_handler.h"
#include "src/jobs/outbox_runner.h"
#include "src/jobs/recurring.h"
#include "src/jobs/stage_sweep.h"
#include "src/jobs/tag_push_handler.h"
#include "src/jobs/tag_sweep.h"
#include "src/model/job_kinds.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/credential.h"
#include "src/platform/oa_client.h"
#include "src/platform/outbound_options.h"
#include "src/platform/rate_governor.h"
#include "src/platform/sleeper.h"
#include "src/platform/token_service.h"
#include "src/platform/wecom_client.h"
#include "src/profiles/enrich_enqueuer.h"
#include "src/profiles/profile_service.h"
#include "src/profiles/rule_set.h"
#include "src/profiles/tag_push_enqueuer.h"
#include "src/profiles/tag_rule_service.h"
#include "src/server/http_server.h"
#include "src/storage/api_key_store.h"
#include "src/storage/campaign_audience_store.h"
#include "src/storage/campaign_store.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/delivery_store.h"
#include "src/storage/inbox_lag.h"
#include "src/storage/interaction_store.h"
#include "src/storage/outbox_store.h"
#include "src/storage/profile_store.h"
#include "src/storage/quarantine_store.h"
#include "src/storage/segment_store.h"
#include "src/storage/sqlite_process.h"
#include "src/storage/stage_sweep_store.h"
#include "src/storage/tag_push_store.h"
#include "src/storage/tag_rule_store.h"
#include "src/storage/template_store.h"
#include "src/tagger/rule_json.h"

namespace scrm::app {

// Errors go to stderr as one line, so operators and scripts see exactly what is wrong.
int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "scrmd: %s\n", what.c_str());
  return code;
}

core::StatusOr<config::Config> LoadConfigFrom(const CommonFlags& flags) {
  config::ConfigSources sources;
  sources.config_file = flags.config_file;
  sources.secrets_file = flags.secrets_file;
  sources.env = config::ScrmdEnvironment();
  return config::LoadConfig(sources);
}

storage::DatabaseOptions DatabaseOptionsFrom(const config::Config& cfg, storage::Schema schema) {
  storage::DatabaseOptions options;
  options.schema = schema;
  options.path = schema == storage::Schema::kInbox ? cfg.InboxDatabasePath() : cfg.DatabasePath();
  options.synchronous = cfg.storage.synchronous;
  options.read_connections = cfg.storage.read_connections;
  options.busy_timeout_ms = cfg.storage.busy_timeout_ms;
  // The inbox's key index is read at random by every callback (storage/inbox_keys.h); a map
  // spares a read() per page the cache misses. Address space only: the kernel's page cache holds
  // the pages either way.
  if (schema == storage::Schema::kInbox) options.mmap_bytes = int64_t{256} << 20;
  return options;
}

server::ServerOptions ServerOptionsFrom(const config::Config& cfg) {
  server::ServerOptions options;
  options.host = cfg.ListenHost();
  options.port = cfg.ListenPort();
  options.threads = cfg.http.threads;
  options.max_connections = cfg.http.max_connections;
  options.keep_alive_max = cfg.http.keep_alive_max;
  options.keep_alive_timeout_s = cfg.http.keep_alive_timeout_s;
  options.read_timeout_s = cfg.http.read_timeout_s;
  options.write_timeout_s = cfg.http.write_timeout_s;
  options.max_body_bytes = cfg.http.max_body_bytes;
  options.max_connections_per_ip = cfg.http.max_connections_per_ip;
  options.request_timeout_s = cfg.http.request_timeout_s;
  options.min_body_bytes_per_s = cfg.http.min_body_bytes_per_s;
  options.body_rate_grace_s = cfg.http.body_rate_grace_s;
  options.max_pending_body_bytes = cfg.http.max_pending_body_bytes;
  return options;
}

// The admin listener (http.admin_listen): the main one's limits, sized for a scraper and an
// operator (one address, few connections).
server::ServerOptions AdminServerOptionsFrom(const config::Config& cfg) {
  server::ServerOptions options = ServerOptionsFrom(cfg);
  options.host = cfg.AdminListenHost();
  options.port = cfg.AdminListenPort();
  options.threads = 2;
  options.event_threads = 1;
  options.max_connections = 64;
  options.max_connections_per_ip = 0;
  return options;
}

// The two database files (docs/architecture.md "Storage"): the main one and the durable inbox,
// each with its own writer connection, lock, page cache, WAL and checkpointer.
struct Databases {
  std::unique_ptr<storage::Database> main;
  std::unique_ptr<storage::Database> inbox;
  int main_applied = 0;  // migrations applied by OpenMigrated
  int inbox_applied = 0;

  // Closes the inbox first (nothing writes it once the inbox writer and the worker stopped),
  // then the main file; both are closed even when the first fails. The first failure.
  core::Status Close() {
    core::Status inbox_closed = inbox->Close();
    core::Status main_closed = main->Close();
    return inbox_closed.ok() ? main_closed : inbox_closed;
  }
};

// Opens both databases and applies pending migrations (every command that touches data does):
// the inbox file's first, because main migration 8 moves an older store's interactions into it.
core::StatusOr<Databases> OpenMigrated(const config::Config& cfg, const core::Clock& clock,
                                       spdlog::logger& log) {
  Databases dbs;
  SCRM_ASSIGN_OR_RETURN(dbs.inbox,
                        storage::Database::Open(DatabaseOptionsFrom(cfg, storage::Schema::kInbox)));
  SCRM_ASSIGN_OR_RETURN(dbs.main,
                        storage::Database::Open(DatabaseOptionsFrom(cfg, storage::Schema::kMain)));
  SCRM_ASSIGN_OR_RETURN(dbs.inbox_applied, dbs.inbox->Migrate(clock.NowUnixMillis()));
  if (dbs.inbox_applied > 0) {
    log.info("applied {} migration(s) to {}", dbs.inbox_applied, dbs.inbox->path());
  }
  SCRM_ASSIGN_OR_RETURN(dbs.main_applied,
                        dbs.main->Migrate(clock.NowUnixMillis(), {dbs.inbox.get()}));
  if (dbs.main_applied > 0) {
    log.info("applied {} migration(s) to {}", dbs.main_applied, dbs.main->path());
  }
  return dbs;
}

// An exclusive flock on "<main database>.lock", held by `scrmd serve` for its lifetime and by a
// CLI command while it migrates: a CLI command that finds the schema behind knows from it whether
// a serve runs on the store (then it must not migrate under it). flock, not the database file's
// own locks: SQLite holds POSIX locks there, which closing any other fd on that file would drop.
class StoreLock {
 public:
  StoreLock() = default;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

  static std::string PathFor(const config::Config& cfg) { return cfg.DatabasePath() + ".lock"; }

  // Takes the lock, waiting up to `wait_ms` for whoever holds it. False with `error` when it is
  // still held then, or when the file cannot be opened. ":memory:" stores have nothing to lock.
  bool Acquire(const config::Config& cfg, int64_t wait_ms, std::string& error) {
    if (cfg.DatabasePath() == ":memory:") return true;
    const std::string path = PathFor(cfg);
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);  // 0700 under the process umask
    }
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error = "cannot open " + path + ": " + std::strerror(errno);
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        error = "cannot lock " + path + ": " + std::strerror(errno);
        return false;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        error =
            path + " is held by another scrmd (a running `scrmd serve`, or a command migrating)";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

 private:
  int fd_ = -1;
};

// The main database for a short CLI command (`scrmd keys ...`) that may run beside `scrmd serve`:
// it must never make serve answer 503, so it takes the write lock only for its own statements.
// No checkpointer and no TRUNCATE checkpoint on close (serve checkpoints the WAL), no inbox
// file, and no migration transaction while the schema is current. A schema behind this binary
// is migrated only when no serve holds the store (StoreLock); otherwise the command refuses.
core::StatusOr<std::unique_ptr<storage::Database>> OpenForCommand(const config::Config& cfg,
                                                                  const core::Clock& clock,
                                                                  spdlog::logger& log) {
  storage::DatabaseOptions options = DatabaseOptionsFrom(cfg, storage::Schema::kMain);
  options.checkpoints = false;
  options.read_connections = 1;
  SCRM_ASSIGN_OR_RETURN(std::unique_ptr<storage::Database> db, storage::Database::Open(options));
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::MigrationRecord> applied,
                        db->AppliedMigrations());
  const int version = applied.empty() ? 0 : applied.back().version;
  const int latest = db->LatestVersion();
  if (version == latest) return db;
  if (version > latest) {
    return core::FailedPreconditionError("database schema version " + std::to_string(version) +
                                         " is newer than this scrmd knows (" +
                                         std::to_string(latest) + "): use the newer scrmd");
  }
  db.reset();
  StoreLock lock;
  std::string error;
  if (!lock.Acquire(cfg, 0, error)) {
    return core::FailedPreconditionError(
        "database schema is at version " + std::to_string(version) + ", this scrmd needs " +
        std::to_string(latest) + ", and migrating beside a running serve is refused (" + error +
        "): stop serve, run `scrmd migrate` with this binary, start serve again");
  }
  SCRM_ASSIGN_OR_RETURN(Databases migrated, OpenMigrated(cfg, clock, log));
  SCRM_RETURN_IF_ERROR(migrated.Close());
  return storage::Database::Open(options);
}

namespace {

// One adapter per configured account; a key that passed config validation but that the crypto
// refuses is still a configuration error.
core::StatusOr<api::AdapterRegistry> BuildAdapters(const config::Config& cfg,
                                                   const core::Clock& clock, core::Random& random) {
  api::AdapterRegistry registry;
  for (const auto& account : cfg.accounts) {
    if (account.platform == model::Platform::kWecom) {
      SCRM_ASSIGN_OR_RETURN(auto adapter,
                            channels::wecom::WecomAdapter::Create(account, clock, random));
      registry.Add(std::move(adapter));
    } else {
      SCRM_ASSIGN_OR_RETURN(auto adapter, channels::oa::OaAdapter::Create(account, clock, random));
      registry.Add(std::move(adapter));
    }
  }
  return registry;
}

// The outbound side of one process (docs/outbound.md): one HTTP client, token service, rate
// governor and ApiCaller, a typed client per account that has an API secret (WeCom `secret`,
// OA `app_secret`) and, over each, the account's outbound channel in the directory the jobs
// use. Members are declared in construction order and refer to the ones before them; the
// clock, random source and metrics registry must outlive it.
struct Outbound {
  Outbound(const config::Config& cfg, const core::Clock& clock, core::Random& random,
           core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log)
      : options(platform::OutboundOptionsFrom(cfg.outbound)),
        http(options.http),
        tokens(http, clock, metrics, log, options.tokens),
        governor(clock, options.governor),
        caller(http, tokens, governor, clock, random, sleeper, metrics, log, options.retry) {
    for (const auto& account : cfg.accounts) {
      if (account.platform == model::Platform::kWecom && !account.secret.empty()) {
        auto& client = wecom[account.id] = std::make_unique<platform::WecomClient>(
            platform::CredentialFor(account), caller, platform::AppCredentialFor(account));
        AddChannel(std::make_unique<channels::wecom::WecomOutbound>(account.id, *client));
      } else if (account.platform == model::Platform::kOfficialAccount &&
                 !account.app_secret.empty()) {
        auto& client = oa[account.id] =
            std::make_unique<platform::OaClient>(platform::CredentialFor(account), caller);
        AddChannel(std::make_unique<channels::oa::OaOutbound>(account.id, *client));
      } else {
        without_secret.push_back(account.id);
      }
    }
  }
  std::set<std::string, std::less<>> AccountsWithClients() const { return directory.AccountIds(); }
  void AddChannel(std::unique_ptr<channels::OutboundChannel> channel) {
    const core::Status added = directory.Add(std::move(channel));
    SCRM_CHECK(added.ok());  // config validation refuses two accounts of one id
  }

  platform::OutboundOptions options;
  net::CurlHttpClient http;
  platform::TokenService tokens;
  platform::RateGovernor governor;
  platform::RealSleeper sleeper;
  platform::ApiCaller caller;
  std::map<std::string, std::unique_ptr<platform::WecomClient>> wecom;
  std::map<std::string, std::unique_ptr<platform::OaClient>> oa;
  channels::OutboundDirectory directory;    // over the clients above
  std::vector<std::string> without_secret;  // accounts that cannot call the platform
};

int Serve(const CommonFlags& flags) {
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());

  // Signals are handled by sigwait on this thread; block them before any thread starts so
  // that every thread inherits the mask and none is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  core::LogOptions log_options{cfg->log.level, cfg->log.format};
  auto log = core::MakeLogger("scrmd", log_options);
  auto access_log = core::MakeLogger("http", log_options);
  core::SystemClock clock;
  core::SecureRandom random;
  core::MetricsRegistry metrics;
  metrics.SetInfo("scrmd_build_info", "Build information of the running scrmd.",
                  {{"version", SCRM_VERSION}});

  // Held until exit: tells a CLI command that finds the schema behind not to migrate (a
  // command migrating a fresh store holds it briefly: wait for it as long as SQLite would).
  StoreLock store_lock;
  if (std::string error; !store_lock.Acquire(*cfg, cfg->storage.busy_timeout_ms, error)) {
    return Fail(kExitFailure, "database: " + error);
  }
  auto db = OpenMigrated(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "database: " + db.status().ToString());
  auto adapters = BuildAdapters(*cfg, clock, random);
  if (!adapters.ok()) return Fail(kExitConfig, adapters.status().message());
  storage::ApiKeyStore keys(*db->main);
  storage::InteractionStore interactions(*db->inbox);
  storage::CursorStore cursors(*db->main);
  api::Authenticator authenticator(keys, clock);

  // The profile pipeline (identity -> tagger -> profile -> triggers) runs in the ingest worker,
  // one transaction per chunk together with the worker's cursor.
  // The rules in force are the stored ones (tag_rules, managed through /api/v1/tag-rules); the
  // rules file only seeds the rules the database does not have yet, so a restart keeps what
  // the API changed (profiles::TagRuleService::LoadAndSeed, docs/tagging.md).
  std::vector<model::TagRule> file_rules;
  if (!cfg->tag_rules_file.empty()) {
    auto loaded = tagger::LoadTagRulesFile(cfg->tag_rules_file);
    if (!loaded.ok()) return Fail(kExitConfig, "tag_rules_file: " + loaded.status().message());
    file_rules = std::move(loaded).value();
  }
  profiles::RuleSetHolder rules;
  storage::TagRuleStore tag_rule_store(*db->main);
  profiles::TagRuleService tag_rules(tag_rule_store, rules, clock);
  auto seeded = tag_rules.LoadAndSeed(file_rules);
  if (!seeded.ok()) return Fail(kExitConfig, "tag rules: " + seeded.status().ToString());
  log->info("tag rules: {} in force ({} stored before, {} seeded from {}, {} kept as stored)",
            rules.rules().size(), seeded->stored_before, seeded->seeded,
            cfg->tag_rules_file.empty() ? "(no file)" : cfg->tag_rules_file, seeded->kept_stored);
  // Outbound platform calls: enrichment of new customers through the outbox (rows first, then
  // calls; docs/outbound.md "Outbox"), for the accounts that have an API secret.
  Outbound outbound(*cfg, clock, random, metrics, log);
  for (const std::string& account : outbound.without_secret) {
    log->info(
        "account {} has no API secret: its customers are not enriched and no tags are pushed to it",
        account);
  }
  storage::ProfileStore profile_store(*db->main);
  // Modules that react to profile changes in the same transaction (docs/architecture.md
  // "Reacting to profile changes"): new customers of the accounts with an API secret get their
  // enrichment job; mapped tags that customers start or stop holding are pushed to the same
  // accounts (docs/outbound.md "Tag push").
  const std::set<std::string, std::less<>> api_accounts = outbound.AccountsWithClients();
  profiles::ChangeSinks profile_sinks;
  profiles::EnrichEnqueuer enrich_enqueuer(profile_store, api_accounts);
  profiles::TagPushEnqueuer tag_push_enqueuer(profile_store, clock, api_accounts);
  if (!api_accounts.empty()) {  // without accounts both would do nothing: keep the hot path bare
    profile_sinks.Add(enrich_enqueuer);
    profile_sinks.Add(tag_push_enqueuer);
  }
  // The segment index (campaigns/segments): built from the database before the ingest worker
  // starts, then kept current by its sink after each commit (docs/architecture.md "Segments").
  const segments::SegmentIndexMetrics segment_metrics =
      segments::SegmentIndexMetrics::Register(metrics);
  auto segment_index = segments::BuildSegmentIndex(*db->main, clock, {}, segment_metrics, *log);
  if (!segment_index.ok()) {
    return Fail(kExitFailure, "segment index: " + segment_index.status().ToString());
  }
  segments::SegmentIndex& segments_in_memory = **segment_index;
  segments::SegmentIndexSink segment_sink(segments_in_memory, {}, segment_metrics, log);
  profile_sinks.Add(segment_sink);
  profiles::ProfileService profiles(profile_store, rules, clock, profile_sinks);
  // Message templates (/api/v1/templates): the templates folder seeds the ones the database does
  // not have; a shipped template edited through the API since is kept (docs/templates.md).
  storage::TemplateStore template_store(*db->main);
  api::TemplateService templates(template_store, profiles.queries, clock);
  if (!cfg->templates_dir.empty()) {
    auto files = render::LoadTemplateFiles(cfg->templates_dir);
    if (files.status().code() == core::StatusCode::kNotFound &&
        cfg->templates_dir == config::kDefaultTemplatesDir) {
      log->info("templates: no folder {} here, no shipped templates loaded", cfg->templates_dir);
    } else if (!files.ok()) {
      return Fail(kExitConfig, "templates_dir: " + files.status().message());
    } else if (auto stored = templates.LoadAndSeed(*files); !stored.ok()) {
      return Fail(kExitFailure, "templates: " + stored.status().ToString());
    } else {
      log->info(
          "templates: {} file(s) in {}: {} seeded, {} refreshed, {} unchanged, {} kept as "
          "edited",
          files->size(), cfg->templates_dir, stored->seeded, stored->refreshed, stored->unchanged,
          stored->kept_edited);
    }
  }
  // Segments (issue 14, docs/segments.md): the saved segments over the bitmap index built above,
  // used by the segment routes and the campaign planner.
  storage::SegmentStore segment_store(*db->main);
  segments::SegmentService segment_service(segment_store, clock);
  // Campaigns (issue 15, docs/campaigns.md): lifecycle, forecast and freeze; the routes below.
  storage::CampaignStore campaign_store(*db->main);
  storage::DeliveryStore campaign_deliveries(*db->main);
  storage::CampaignAudienceStore campaign_audience(*db->main);
  campaigns::PlannerLimits planner_limits;
  planner_limits.monthly_cap = cfg->campaigns.monthly_cap;
  planner_limits.freeze_chunk = cfg->campaigns.freeze_chunk;
  planner_limits.max_audience = cfg->campaigns.max_audience;
  campaigns::CampaignPlanner campaign_planner(segment_service, segment_store, segments_in_memory,
                                              campaign_audience, campaign_deliveries, clock,
                                              planner_limits);
  campaigns::CampaignServiceOptions campaign_options;
  campaign_options.approval_required = cfg->campaigns.approval == "required";
  for (const auto& account : cfg->accounts) {
    campaign_options.accounts[account.id] = account.platform;
  }
  campaigns::CampaignService campaign_service(campaign_store, segment_store, template_store,
                                              campaign_planner, clock, campaign_options);
  campaigns::CampaignScheduler campaign_scheduler(campaign_store, campaign_service);
  storage::OutboxStore outbox(*db->main);
  jobs::EnrichHandler enrich(profiles, outbound.directory, log);
  storage::TagPushStore tag_pushes(*db->main);
  jobs::TagPushHandler tag_push(profiles, tag_pushes, outbound.directory, clock, log);
  jobs::OutboxRunner outbox_runner(outbox, clock, metrics, log);
  outbox_runner.AddHandler(model::kEnrichJobKind, enrich);
  outbox_runner.AddHandler(model::kTagPushJobKind, tag_push);
  jobs::TagSweepHandler tag_sweep(tag_push_enqueuer, outbox, clock, log);
  if (!api_accounts.empty()) {
    // The decay sweep takes faded tags off the platforms (docs/outbound.md "Decay").
    outbox_runner.AddHandler(model::kTagSweepJobKind, tag_sweep);
    if (auto s = jobs::ScheduleTagSweep(outbox, clock.NowUnixMillis()); !s.ok()) {
      return Fail(kExitFailure, "outbox: " + s.ToString());
    }
  }
  // The lifecycle sweep moves inactive customers to at_risk (docs/tagging.md rule L7), every
  // lifecycle.sweep_interval_s, whatever the accounts.
  storage::StageSweepStore stage_sweep_store(*db->main);
  // The moves go to the change sinks like any stage change (the segment index follows them).
  stage_sweep_store.OnMarked(
      [&profile_sinks](storage::WriteTxn& txn, const storage::InactivePage& page, int64_t now_ms) {
        for (const auto& [customer_id, from] : page.moved) {
          SCRM_RETURN_IF_ERROR(profile_sinks.Emit(
              txn, profiles::ProfileChange{
                       customer_id, now_ms,
                       profiles::StageChanged{from, model::LifecycleStage::kAtRisk, "inactive"}}));
        }
        return core::OkStatus();
      });
  jobs::StageSweepOptions stage_sweep_options;
  stage_sweep_options.interval = std::chrono::seconds(cfg->lifecycle.sweep_interval_s);
  stage_sweep_options.at_risk_days = cfg->lifecycle.at_risk_days;
  jobs::StageSweepHandler stage_sweep(stage_sweep_store, outbox, clock, log, stage_sweep_options);
  outbox_runner.AddHandler(model::kStageSweepJobKind, stage_sweep);
  CampaignScheduleHandler campaign_schedule(campaign_scheduler, outbox, clock, log);
  outbox_runner.AddHandler(kCampaignScheduleJobKind, campaign_schedule);
  if (auto s = jobs::ScheduleRecurring(outbox, kCampaignScheduleJobKind, clock.NowUnixMillis(),
                                       kCampaignScheduleInterval);
      !s.ok()) {
    return Fail(kExitFailure, "outbox: " + s.ToString());
  }
  // Contact channels (渠道活码) and welcome messages (docs/campaigns.md "Channels and welcome
  // messages"): arrivals through a channel are attributed in the ingest transaction, which
  // queues the welcome job; the runner is woken for it (a WelcomeCode lives 20 s).
  storage::ContactChannelStore channel_store(*db->main);
  campaigns::ContactChannelService channels(channel_store, template_store, outbound.directory,
                                            clock);
  campaigns::ContactChannelSink channel_sink(channel_store, outbox, profiles.editor, api_accounts,
                                             [&outbox_runner] { outbox_runner.Notify(); });
  if (!api_accounts.empty()) profile_sinks.Add(channel_sink);  // no account, no channel
  // Single-shot relies on the runner's lease (5 min) outlasting a WelcomeCode (20 s): a job
  // claimed again after a crash during its call is expired, never sent twice.
  campaigns::WelcomeHandler welcome(template_store, profiles.queries, outbound.directory, clock,
                                    metrics, log);
  outbox_runner.AddHandler(model::kWelcomeJobKind, welcome);
  if (auto s = jobs::ScheduleStageSweep(outbox, clock.NowUnixMillis(), stage_sweep_options);
      !s.ok()) {
    return Fail(kExitFailure, "outbox: " + s.ToString());
  }
  ingest::ProfileChunkProcessor profile_pipeline(profiles.ingest);
  storage::InboxLagReader lag_reader(*db->inbox);
  ingest::IngestWorkerOptions worker_options;
  // Every commit rewrites each page it touched (customer rows and the timeline index are keyed
  // by customer, so nearly one page per interaction), and each page costs syscalls to write and
  // to checkpoint: bigger chunks amortise them (bench/profile_bench: ~8k/s at 256, ~20k/s at
  // 2048, ~23k/s at 4096 on 2 vCPUs). The inbox writer does not wait for a chunk (the inbox is a
  // file of its own); API writes and the outbox runner do, up to ProfileChunkProcessor's yield.
  worker_options.chunk_size = 2048;
  // Coalesce the inbox's commits (one every millisecond or so under load) into fewer, larger
  // chunks: the profile lags by at most this much more, and the ingest path keeps the CPU
  // (bench/ingest_bench).
  worker_options.batch_delay = std::chrono::milliseconds(50);
  ingest::IngestWorker worker(interactions, cursors, profile_pipeline, clock, metrics, log,
                              worker_options);
  worker.EnableLagMetrics(lag_reader);
  // A row that cannot be applied is put aside instead of stopping every account's profiles
  // (docs/architecture.md "Ingest"; GET /api/v1/quarantine).
  storage::QuarantineStore quarantine_store(*db->main);
  ingest::Quarantine quarantine(quarantine_store, interactions, profile_pipeline, clock, metrics,
                                log);
  quarantine.RefreshGauge();
  worker.EnableQuarantine(quarantine);
  {
    // The cursor (main file) names an inbox id; an inbox file that holds nothing up to it is
    // most likely not the one that goes with this main file (storage.inbox_path changed, or one
    // file restored without the other: docs/operations.md "Backups"). New interactions are still
    // processed (their ids are newer), so this is a warning, not a refusal.
    const auto cursor = cursors.GetCursor(worker_options.cursor_name);
    const auto max_id = interactions.MaxId();
    if (cursor.ok() && max_id.ok() && *cursor > *max_id) {
      log->warn(
          "the ingest cursor ({}) is past the newest interaction in {} ({}): is it the inbox "
          "file that belongs with {}?",
          *cursor, db->inbox->path(), *max_id, db->main->path());
    }
  }
  ingest::InboxWriter inbox(interactions, clock, metrics, log);
  inbox.SetCommitListener([&worker] { worker.Notify(); });
  if (auto s = worker.Start(); !s.ok()) return Fail(kExitFailure, "ingest: " + s.ToString());
  if (auto s = outbox_runner.Start(); !s.ok()) return Fail(kExitFailure, "outbox: " + s.ToString());
  if (auto s = inbox.Start(); !s.ok()) return Fail(kExitFailure, "inbox: " + s.ToString());

  // Mappings to a WeCom corp tag are checked against the corps' tag lists (docs/api.md);
  // declared before the server, which uses it until it stops.
  api::CorpTagCatalog corp_tags(clock);
  for (const auto& [id, client] : outbound.wecom) corp_tags.AddAccount(id, *client);
  server::HttpServer http(ServerOptionsFrom(*cfg), clock, random, access_log, metrics);
  // With an admin listener, /metrics and the reasons of /readyz are served there only.
  std::unique_ptr<server::HttpServer> admin;
  if (!cfg->http.admin_listen.empty()) {
    admin = std::make_unique<server::HttpServer>(AdminServerOptionsFrom(*cfg), clock, random,
                                                 access_log, metrics);
    api::RegisterOpsRoutes(*admin, *db->main, *db->inbox, metrics, api::OpsExposure::kAll);
    api::RegisterOpsRoutes(http, *db->main, *db->inbox, metrics, api::OpsExposure::kPublic);
  } else {
    api::RegisterOpsRoutes(http, *db->main, *db->inbox, metrics, api::OpsExposure::kAll);
  }
  api::RegisterCallbackRoutes(http, api::CallbackDeps{*adapters, inbox, clock, metrics, log});
  api::ApiRouter router(http, authenticator);
  api::RegisterKeyRoutes(router, keys);
  api::RegisterInteractionRoutes(router, interactions, worker);
  api::RegisterCustomerRoutes(router, {profiles.queries, profiles.identities, profiles.editor});
  api::RegisterTagRuleRoutes(router, tag_rules);
  api::RegisterTagRoutes(router, profiles.queries, profiles.editor, &corp_tags);
  api::RegisterQuarantineRoutes(router, quarantine, log);
  api::RegisterJobRoutes(router, outbox, clock, log, [&outbox_runner] { outbox_runner.Notify(); });
  api::RegisterSegmentRoutes(router,
                             {segment_service, segments_in_memory, profiles.queries, clock});
  api::RegisterTemplateRoutes(router, templates);
  api::RegisterCampaignRoutes(router, {campaign_service, campaign_deliveries});
  api::RegisterChannelRoutes(router, channels);
  // Campaigns (issue 15, docs/campaigns.md "Delivery, exactly once"): the dispatcher sends the
  // running campaigns' deliveries on its own thread, reconciling any batch a crash left sending.
  storage::SendBatchStore send_batches(*db->main);
  campaigns::TemplateMessageSource campaign_messages(template_store, profiles.queries);
  app::WecomGroupMessageRecords group_records(outbound.wecom);
  campaigns::Dispatcher dispatcher(campaign_store, send_batches, outbound.directory,
                                   campaign_messages, &group_records, clock, metrics);
  app::DispatcherThread dispatcher_thread(dispatcher, std::chrono::seconds(1), log);
  dispatcher_thread.Start();
  campaigns::CampaignStatsService campaign_stats(campaign_store, campaign_deliveries, send_batches,
                                                 clock);
  api::RegisterCampaignStatsRoutes(router, campaign_stats);

  if (admin != nullptr) {
    if (auto started = admin->Start(); !started.ok()) {
      return Fail(kExitFailure, "http.admin_listen: " + started.message());
    }
  }
  if (auto started = http.Start(); !started.ok()) {
    if (admin != nullptr) admin->Stop();
    return Fail(kExitFailure, "http: " + started.message());
  }
  log->info("scrmd {} listening on http://{}:{} (database {}, inbox {}, {} account(s))",
            SCRM_VERSION, cfg->ListenHost(), http.port(), db->main->path(), db->inbox->path(),
            adapters->size());
  if (admin != nullptr) {
    log->info("admin listener (/metrics, /readyz detail) on http://{}:{}", cfg->AdminListenHost(),
              admin->port());
    // Before the main line (and not "listening on", which names the main port): whoever waits for
    // that line then knows both ports.
    std::printf("scrmd admin endpoint http://%s:%d\n", cfg->AdminListenHost().c_str(),
                admin->port());
  }
  std::printf("scrmd listening on http://%s:%d\n", cfg->ListenHost().c_str(), http.port());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log->info("received signal {}, shutting down", signal_number);
  // Stop accepting, let in-flight requests finish, then checkpoint and close the database.
  http.Stop();
  if (admin != nullptr) admin->Stop();
  // Handlers waiting on the inbox have finished with http.Stop(); drain what is left.
  inbox.Stop();
  // The runner before the worker: it finishes the call in hand and gives the rest back.
  dispatcher_thread.Stop();
  outbox_runner.Stop();
  worker.Stop();
  if (auto closed = db->Close(); !closed.ok()) {
    log->error("closing the database failed: {}", closed.ToString());
    return kExitFailure;
  }
  log->info("shutdown complete");
  return kExitOk;
}

int Migrate(const CommonFlags& flags) {
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());
  core::SystemClock clock;
  auto log = core::MakeLogger("scrmd", {cfg->log.level, cfg->log.format});
  // Logs how many migrations each file took; the interactions of an older store move to the
  // inbox file here (main migration 8).
  auto db = OpenMigrated(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "migrate: " + db.status().ToString());
  std::printf("applied %d migration(s); schema version %d (%s)\n", db->main_applied,
              db->main->LatestVersion(), db->main->path().c_str());
  std::printf("applied %d inbox migration(s); inbox schema version %d (%s)\n", db->inbox_applied,
              db->inbox->LatestVersion(), db->inbox->path().c_str());
  return db->Close().ok() ? kExitOk : kExitFailure;
}

struct BackfillFlags {
  std::string account;
  std::vector<std::string> userids;
};

// Reads the contacts of the given members of a WeCom account (batch/get_by_user) into the
// profiles: customers are created with their enrichment jobs (which `scrmd serve` runs) and
// linked by unionid. Safe to run while `scrmd serve` runs (SQLite serialises the writers) and
// to run again.
int Backfill(const CommonFlags& flags, const BackfillFlags& backfill) {
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());
  const config::AccountConfig* account = cfg->FindAccount(backfill.account);
  if (account == nullptr) return Fail(kExitConfig, "backfill: no account " + backfill.account);
  if (account->platform != model::Platform::kWecom) {
    return Fail(kExitConfig, "backfill: account " + backfill.account + " is not a WeCom account");
  }
  if (account->secret.empty()) {
    return Fail(kExitConfig, "backfill: account " + backfill.account + " has no API secret");
  }
  core::SystemClock clock;
  core::SecureRandom random;
  core::MetricsRegistry metrics;
  auto log = core::MakeLogger("scrmd", {cfg->log.level, cfg->log.format});
  auto db = OpenMigrated(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "database: " + db.status().ToString());
  Outbound outbound(*cfg, clock, random, metrics, log);
  storage::ProfileStore profile_store(*db->main);
  profiles::RuleSetHolder rules;  // backfill applies no interaction: no rules needed
  // Customers created here get their enrichment job in the transaction that creates them.
  profiles::ChangeSinks profile_sinks;
  profiles::EnrichEnqueuer enrich_enqueuer(profile_store, outbound.AccountsWithClients());
  profile_sinks.Add(enrich_enqueuer);
  profiles::ProfileService profiles(profile_store, rules, clock, profile_sinks);
  const auto client = outbound.wecom.find(backfill.account);
  SCRM_CHECK(client != outbound.wecom.end());  // a WeCom account with a secret has a client
  auto report = jobs::BackfillWecom(*client->second, profiles, backfill.account, backfill.userids);
  if (!report.ok()) return Fail(kExitFailure, "backfill: " + report.status().ToString());
  std::printf("backfill %s: %lld page(s), %lld contact(s), %lld customer(s) created, %lld merged\n",
              backfill.account.c_str(), static_cast<long long>(report->pages),
              static_cast<long long>(report->contacts), static_cast<long long>(report->created),
              static_cast<long long>(report->merged));
  return db->Close().ok() ? kExitOk : kExitFailure;
}

void AddCommonFlags(CLI::App& cmd, CommonFlags& flags) {
  cmd.add_option("--config", flags.config_file, "JSON config file (default: embedded defaults)");
  cmd.add_option("--secrets", flags.secrets_file, "JSON secrets file merged over the config");
}

int Main(int argc, char** argv) {
  // Everything scrmd creates (database files, their -wal / -shm, directories, the lock file) is
  // its own alone: 0600 / 0700. Set before any file or thread exists; Database also creates its
  // files and directories with those modes explicitly.
  ::umask(077);
  // Process-wide library setup comes first, before any thread or connection exists.
  net::CurlGlobal curl;
  if (auto s = storage::ConfigureSqliteForProcess(); !s.ok()) {
    return Fail(kExitFailure, "sqlite: " + s.ToString());
  }
  CLI::App app{"scrmd: SCRM engagement service for WeCom and WeChat Official Accounts"};
  app.set_version_flag("--version", std::string("scrmd ") + SCRM_VERSION);
  app.require_subcommand(1);
  CommonFlags flags;
  KeyFlags key_flags;
  int rc = kExitOk;

  auto* serve = app.add_subcommand("serve", "Run the HTTP service");
  AddCommonFlags(*serve, flags);
  serve->callback([&] { rc = Serve(flags); });

  auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
  AddCommonFlags(*migrate, flags);
  migrate->callback([&] { rc = Migrate(flags); });

  BackfillFlags backfill_flags;
  auto* backfill = app.add_subcommand(
      "backfill", "Read a WeCom account's existing contacts (batch/get_by_user) into profiles");
  AddCommonFlags(*backfill, flags);
  backfill->add_option("--account", backfill_flags.account, "WeCom account id")->required();
  backfill->add_option("--userid", backfill_flags.userids, "member whose contacts to read")
      ->required();
  backfill->callback([&] { rc = Backfill(flags, backfill_flags); });

  auto* keys = app.add_subcommand("keys", "Manage API keys");
  keys->require_subcommand(1);
  auto* create = keys->add_subcommand("create", "Create a key; prints the secret once on stdout");
  AddCommonFlags(*create, flags);
  create->add_option("--role", key_flags.role, "admin|marketing|sales|readonly")->required();
  create->add_option("--name", key_flags.name, "a name to recognise the key by")->required();
  create->callback([&] { rc = KeysCreate(flags, key_flags); });
  auto* list = keys->add_subcommand("list", "List keys (never their secrets)");
  AddCommonFlags(*list, flags);
  list->add_flag("--json", key_flags.json, "one JSON object per line");
  list->callback([&] { rc = KeysList(flags, key_flags); });
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key by id or name");
  AddCommonFlags(*revoke, flags);
  revoke->add_option("--id", key_flags.id, "key id");
  revoke->add_option("--name", key_flags.name, "key name");
  revoke->callback([&] { rc = KeysRevoke(flags, key_flags); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}

}  // namespace
}  // namespace scrm::app

int main(int argc, char** argv) { return scrm::app::Main(argc, argv); }
