#include "src/api/job_routes.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxKindBytes = 64;

json JobToJson(const storage::OutboxJob& job) {
  // The payload is JSON the job's kind wrote; shown as such when it parses, as text otherwise.
  json payload = json::parse(job.payload_json, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) payload = job.payload_json;
  return json{{"id", std::to_string(job.id)},
              {"kind", job.kind},
              {"account", job.account_id},
              {"dedupe_key", job.dedupe_key},
              {"payload", std::move(payload)},
              {"status", std::string(storage::OutboxStateName(job.state))},
              {"attempts", job.attempts},
              {"due_at_ms", job.due_at_ms},
              {"claimed_at_ms", job.claimed_at_ms},
              {"last_outcome", job.last_outcome},
              {"last_errcode", job.last_errcode},
              {"last_error", job.last_error},
              {"created_at_ms", job.created_at_ms},
              {"updated_at_ms", job.updated_at_ms}};
}

void ListJobs(storage::OutboxStore& outbox, const server::Request& req, server::Response& res,
              const ApiContext& ctx) {
  storage::OutboxFilter filter;
  auto status = TextParam(req, "status", 16);
  if (!Check(status.status(), res, ctx)) return;
  if (status->has_value()) {
    filter.state = storage::ParseOutboxState(**status);
    if (!filter.state.has_value()) {
      Check(core::InvalidArgumentError("status: must be pending, done, failed or unknown"), res,
            ctx);
      return;
    }
  }
  auto kind = TextParam(req, "kind", kMaxKindBytes);
  if (!Check(kind.status(), res, ctx)) return;
  if (kind->has_value() && !(*kind)->empty()) filter.kind = **kind;
  auto page = PageParamsOf(req, 100, storage::OutboxStore::kMaxClaim);
  if (!Check(page.status(), res, ctx)) return;
  filter.after_id = page->after_id;
  filter.limit = page->limit;
  auto jobs = outbox.ListJobs(filter);
  if (!Check(jobs.status(), res, ctx)) return;
  json items = json::array();
  for (const storage::OutboxJob& job : *jobs) items.push_back(JobToJson(job));
  json body = {{"items", std::move(items)}};
  // A full page may have more after it; a short page is the end (for now).
  body["next_after"] =
      jobs->size() == filter.limit ? json(std::to_string(jobs->back().id)) : json(nullptr);
  WriteJson(res, body);
}

void GetJob(storage::OutboxStore& outbox, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto job = outbox.Get(*id);
  if (!Check(job.status(), res, ctx)) return;
  WriteJson(res, JobToJson(*job));
}

}  // namespace

void RegisterJobRoutes(ApiRouter& router, storage::OutboxStore& outbox, const core::Clock& clock,
                       std::shared_ptr<spdlog::logger> log, std::function<void()> on_retry) {
  router.Get("/api/v1/jobs", {model::Role::kAdmin},
             [&outbox](const server::Request& req, server::Response& res, const ApiContext& ctx) {
               ListJobs(outbox, req, res, ctx);
             });
  router.Get("/api/v1/jobs/{id}", {model::Role::kAdmin},
             [&outbox](const server::Request&, server::Response& res, const ApiContext& ctx) {
               GetJob(outbox, res, ctx);
             });
  router.Post("/api/v1/jobs/{id}/retry", {model::Role::kAdmin},
              [&outbox, &clock, log = std::move(log), on_retry = std::move(on_retry)](
                  const server::Request&, server::Response& res, const ApiContext& ctx) {
                auto id = PathId(ctx, "id");
                if (!Check(id.status(), res, ctx)) return;
                auto job = outbox.Retry(*id, clock.NowUnixMillis());
                if (!Check(job.status(), res, ctx)) return;
                // The audit line: who put which job back.
                log->info("jobs: job {} ({} {}) put back to pending by key {} (request {})",
                          job->id, job->kind, job->account_id, ctx.caller.id, ctx.request_id);
                if (on_retry) on_retry();
                WriteJson(res, JobToJson(*job));
              });
}

}  // namespace scrm::api
