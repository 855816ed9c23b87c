// The /api/v1/segments routes: preview a query, the saved segments (with live counts), their
// versions, the customers of one, and why one customer is in it or not. Thin: the segment
// language and the saved segments are segments::SegmentService's, the evaluation a
// segments::SegmentEvaluator's (the bitmap index), the customers' JSON customer_routes'.
// Routes and errors are listed in docs/api.md and docs/segments.md.
#pragma once

#include "campaigns/segments/segment_evaluator.h"
#include "campaigns/segments/segment_service.h"
#include "src/api/auth.h"
#include "src/core/clock.h"
#include "src/profiles/profile_queries.h"

namespace scrm::api {

// Marketing builds audiences; every role may read them.
inline constexpr std::initializer_list<model::Role> kSegmentWriters = {model::Role::kAdmin,
                                                                       model::Role::kMarketing};

// POST   /api/v1/segments/preview          any role: {"query", "limit"?, "after"?} → count, a page
// GET    /api/v1/segments                  any role: {"segments": [segment + "count"]}
// POST   /api/v1/segments                  admin, marketing: {"name", "description"?, "query"}
// GET    /api/v1/segments/{id}             any role: the segment + "count"
// PUT    /api/v1/segments/{id}             admin, marketing: the whole segment; "version"?
// DELETE /api/v1/segments/{id}             admin, marketing
// GET    /api/v1/segments/{id}/versions    any role: every saved version, ascending
// GET    /api/v1/segments/{id}/customers   any role: ?after=&limit=
// GET    /api/v1/segments/{id}/explain     any role: ?customer=
// The services must outlive the server; their methods are thread-safe. Preview is a read, so
// every role may run it.
struct SegmentRouteDeps {
  segments::SegmentService& segments;
  const segments::SegmentEvaluator& evaluator;
  const profiles::ProfileQueries& queries;
  const core::Clock& clock;
};
void RegisterSegmentRoutes(ApiRouter& router, const SegmentRouteDeps& deps);

}  // namespace scrm::api
