// The /api/v1/templates routes: list, read (any version), create, update (compare-and-set on the
// version) and preview message templates through api::TemplateService. Routes, bodies and errors
// are listed in docs/api.md "Templates"; the template format in docs/templates.md.
#pragma once

#include "src/api/auth.h"
#include "src/api/template_service.h"

namespace scrm::api {

// Marketers write the templates; every role may read and preview them.
inline constexpr std::initializer_list<model::Role> kTemplateWriters = {model::Role::kAdmin,
                                                                        model::Role::kMarketing};

// GET  /api/v1/templates                  any role: {"templates": [template...]} by id
// GET  /api/v1/templates/{id}             any role: ?version= for an older version
// GET  /api/v1/templates/{id}/versions    any role: every saved version, ascending
// POST /api/v1/templates                  admin, marketing: {"name","channel","content",
//                                         "enabled"?} → 201, version 1
// PUT  /api/v1/templates/{id}             admin, marketing: the whole template → version + 1; a
//                                         "version" member must match the stored one
// POST /api/v1/templates/{id}/preview     any role: {"customer_id"} → the rendered content;
//                                         422 render_failed when this customer's message breaks
//                                         a channel limit
// A template is answered as {"id","name","channel","content","version","enabled","source",
// "variables","created_at_ms","updated_at_ms"}. `templates` must outlive the server; its methods
// are thread-safe.
void RegisterTemplateRoutes(ApiRouter& router, TemplateService& templates);

}  // namespace scrm::api
