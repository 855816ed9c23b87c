// The dispatcher's campaign routes (docs/api.md "Campaign stats"): what a campaign reached, and
// the explicit retry of its failed and unknown deliveries (campaigns/engine/campaign_stats.h).
#pragma once

#include <initializer_list>

#include "campaigns/engine/campaign_stats.h"
#include "src/api/auth.h"

namespace scrm::api {

// GET  /api/v1/campaigns/{id}/stats   any role: the figures (CampaignStats as JSON)
// POST /api/v1/campaigns/{id}/retry   admin, marketing: {"requeued": n}
// `stats` must outlive the server; its methods are thread-safe.
void RegisterCampaignStatsRoutes(ApiRouter& router, campaigns::CampaignStatsService& stats);

}  // namespace scrm::api
