// Admin routes over the ingest quarantine (docs/architecture.md "Ingest"): the inbox rows the
// profile pipeline could not apply, and applying one again after a fix.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "src/api/auth.h"
#include "src/ingest/quarantine.h"

namespace scrm::api {

// GET /api/v1/quarantine?after=&limit= (admin): the quarantined rows by interaction id, with the
//   account, the error, the failures and when; page with after=<next_after>.
// POST /api/v1/quarantine/{id}/reapply (admin; id = the interaction id): reads the row from the
//   inbox and applies it again: {"reapplied": true} and the row leaves the quarantine, or
//   {"reapplied": false, "item": row with the new error}; 404 when it is not quarantined.
//   Logged with the interaction id and the key's id.
// Interaction ids are JSON strings. The references must outlive the server.
void RegisterQuarantineRoutes(ApiRouter& router, ingest::Quarantine& quarantine,
                              std::shared_ptr<spdlog::logger> log);

}  // namespace scrm::api
