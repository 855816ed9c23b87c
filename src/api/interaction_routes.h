// Admin routes over the durable inbox: list the stored interactions, replay processing.
#pragma once

#include "src/api/auth.h"
#include "src/ingest/ingest_worker.h"
#include "src/storage/interaction_store.h"

namespace scrm::api {

// GET /api/v1/interactions?account=&kind=&after=&limit= (admin): normalized interactions with
//   their dedupe key and raw body, ascending by id (newest last); page with after=<next_after>.
// POST /api/v1/interactions/replay (admin): {"from_ms","to_ms","account"?} re-runs the ingest
//   processors over the interactions received in [from_ms, to_ms).
// The references must outlive the server.
void RegisterInteractionRoutes(ApiRouter& router, storage::InteractionStore& store,
                               ingest::IngestWorker& worker);

}  // namespace scrm::api
