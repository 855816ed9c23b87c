// The /api/v1/tag-rules routes: list, read (any version), create, update, enable and disable the
// tag rules through profiles::TagRuleService, which validates, persists every version and puts
// the new set in force for the ingest worker. Routes and errors are listed in docs/api.md.
#pragma once

#include "src/api/auth.h"
#include "src/profiles/tag_rule_service.h"

namespace scrm::api {

// Marketers write the rules (docs/tagging.md); every role may read them.
inline constexpr std::initializer_list<model::Role> kTagRuleWriters = {model::Role::kAdmin,
                                                                       model::Role::kMarketing};

// GET    /api/v1/tag-rules                    any role: {"rules": [rule...]} by id
// GET    /api/v1/tag-rules/{id}               any role: ?version= for an older version
// GET    /api/v1/tag-rules/{id}/versions      any role: every saved version, ascending
// POST   /api/v1/tag-rules                    admin, marketing: a rule (docs/tagging.md) → 201
// PUT    /api/v1/tag-rules/{id}               admin, marketing: the whole rule → version + 1;
//                                             a "version" member must match the stored one
// POST   /api/v1/tag-rules/{id}/disable       admin, marketing (DELETE /api/v1/tag-rules/{id}
//                                             is the same); /enable turns it back on
// Each rule is answered as tagger::TagRuleToJson plus "saved_at_ms". `rules` must outlive the
// server; its methods are thread-safe.
void RegisterTagRuleRoutes(ApiRouter& router, profiles::TagRuleService& rules);

}  // namespace scrm::api
