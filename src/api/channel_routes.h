// The /api/v1/channels routes: create, list, read and retire contact channels (渠道活码: WeCom
// 联系我 contact ways, OA parametric QR codes) and read their stats, through
// campaigns::ContactChannelService. Routes, bodies and errors are listed in docs/api.md
// "Channels"; what a channel does in docs/campaigns.md "Channels and welcome messages".
#pragma once

#include "campaigns/engine/contact_channel_service.h"
#include "src/api/auth.h"

namespace scrm::api {

// Marketers make and retire channels; every role may read them.
inline constexpr std::initializer_list<model::Role> kChannelWriters = {model::Role::kAdmin,
                                                                       model::Role::kMarketing};

// GET  /api/v1/channels               any role: {"channels": [channel...], "next_after"} by id;
//                                     ?after=&limit= (1..1000, default 100), ?retired=true to
//                                     include retired ones
// GET  /api/v1/channels/{id}          any role
// POST /api/v1/channels               admin, marketing: {"name","account_id","state",
//                                     "welcome_template_id"?,"default_tags"?:[{"group","name"}],
//                                     "owner_rule"?,"members"?,"skip_verify"?,"temporary"?,
//                                     "expires_in_s"?} → 201 (the platform made the code)
// POST /api/v1/channels/{id}/retire   admin, marketing: the channel, retired
// GET  /api/v1/channels/{id}/stats    any role: {"channel_id","adds","deletes","net",
//                                     "customers","welcomes_sent","welcomes_failed"}
// `channels` must outlive the server; its methods are thread-safe.
void RegisterChannelRoutes(ApiRouter& router, campaigns::ContactChannelService& channels);

}  // namespace scrm::api
