// The /api/v1/campaigns routes (docs/api.md, docs/campaigns.md): campaigns, their lifecycle
// actions, the forecast before launch (the frozen plan after), the deliveries and the audit.
// Thin: the rules are campaigns::CampaignService's, the rows storage's. The actor of every
// change is the caller's API key name.
#pragma once

#include <initializer_list>

#include "campaigns/engine/campaign_service.h"
#include "src/api/auth.h"
#include "src/storage/delivery_store.h"

namespace scrm::api {

// Marketing and admin write; only admin approves or rejects; every role reads.
inline constexpr std::initializer_list<model::Role> kCampaignWriters = {model::Role::kAdmin,
                                                                        model::Role::kMarketing};
inline constexpr std::initializer_list<model::Role> kCampaignApprovers = {model::Role::kAdmin};

// GET  /api/v1/campaigns                       any role: ?state=&after=&limit=
// POST /api/v1/campaigns                       writers: {"name","kind","account_id",
//                                              "segment_id","template_id","schedule_at_ms"?,
//                                              "options"?} → 201, a draft
// GET  /api/v1/campaigns/{id}                  any role
// PUT  /api/v1/campaigns/{id}                  writers: the whole campaign + "version"?; drafts
// POST /api/v1/campaigns/{id}/submit|schedule|launch|pause|resume|cancel   writers
// POST /api/v1/campaigns/{id}/approve|reject   admin; body {"version"?, "note"?,
//                                              "schedule_at_ms"? (schedule)} for every action
// GET  /api/v1/campaigns/{id}/forecast         any role: ?limit= (first page of each list)
// GET  /api/v1/campaigns/{id}/deliveries       any role: ?state=&after=&limit=
// GET  /api/v1/campaigns/{id}/audit            any role
// The service and store must outlive the server; their methods are thread-safe.
struct CampaignRouteDeps {
  campaigns::CampaignService& service;
  storage::DeliveryStore& deliveries;
};
void RegisterCampaignRoutes(ApiRouter& router, const CampaignRouteDeps& deps);

}  // namespace scrm::api
