// The /api/v1 tag administration routes: list and read tags with their platform mappings, map a
// tag to a WeCom corp tag and / or an OA tag (which queues tag pushes for the customers who hold
// it), list tag groups and set a group's decay. Thin: each handler checks its input and calls
// profiles::ProfileQueries (reads) or profiles::ProfileEditor (writes). Routes, roles, parameters
// and errors are listed in docs/api.md.
#pragma once

#include "src/api/auth.h"
#include "src/api/corp_tag_catalog.h"
#include "src/profiles/profile_editor.h"
#include "src/profiles/profile_queries.h"

namespace scrm::api {

// Marketing owns tagging (rules, mappings, decay), like kTagRuleWriters; every role may read.
inline constexpr std::initializer_list<model::Role> kTagAdminWriters = {model::Role::kAdmin,
                                                                        model::Role::kMarketing};

// GET /api/v1/tags                 any role: ?group=&after=&limit= → {"items": [tag], "next_after"}
// GET /api/v1/tags/{id}            any role: the tag
// PUT /api/v1/tags/{id}/mapping    admin, marketing: {"wecom_tag_id"?, "oa_tag_id"?} → the tag
//                                  and "pushes_queued"
// PUT /api/v1/tags/mapping         admin, marketing: the same with "group" and "name"; creates
//                                  the tag when missing
// GET /api/v1/tag-groups           any role: {"groups": [group]}
// PUT /api/v1/tag-groups/{name}    admin, marketing: {"half_life_days"?, "threshold"?} → the
//                                  group (created when missing)
// A mapping to a WeCom id is checked against `corp_tags` (when given and it has an account): 422
// unknown_wecom_tag when no corp has it, 503 corp_tags_not_synced when a list cannot be read.
// `queries`, `editor` and `corp_tags` must outlive the server; their methods are thread-safe.
void RegisterTagRoutes(ApiRouter& router, const profiles::ProfileQueries& queries,
                       profiles::ProfileEditor& editor, CorpTagCatalog* corp_tags = nullptr);

}  // namespace scrm::api
