// Admin routes over the outbox of platform jobs (docs/outbound.md "Outbox"): list the jobs that
// failed for good, look at one, and run one again after its cause is fixed.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>

#include "src/api/auth.h"
#include "src/core/clock.h"
#include "src/storage/outbox_store.h"

namespace scrm::api {

// GET /api/v1/jobs?status=&kind=&after=&limit= (admin): jobs by id; status pending, done,
//   failed or unknown (any when absent), kind exact; page with after=<next_after>.
// GET /api/v1/jobs/{id} (admin): one job.
// POST /api/v1/jobs/{id}/retry (admin): a failed or unknown job back to pending, due now, with a
//   fresh attempt budget (400 for a pending or done job); logged with the job id and the key's
//   id, then `on_retry` (wakes the outbox runner) is called.
// Job ids are JSON strings. The references must outlive the server.
void RegisterJobRoutes(ApiRouter& router, storage::OutboxStore& outbox, const core::Clock& clock,
                       std::shared_ptr<spdlog::logger> log, std::function<void()> on_retry);

}  // namespace scrm::api
