// The customer-profile routes of /api/v1: profiles, timelines, search, manual tags, identity
// lookup, merges and their undo, follow-up tasks. Thin: each handler checks its input, calls
// the profile service it needs (profiles::ProfileQueries, IdentityService, ProfileEditor) and
// writes JSON. Routes, roles, parameters and errors are listed in
// docs/api.md.
#pragma once

#include <nlohmann/json.hpp>

#include "src/api/auth.h"
#include "src/profiles/identity_service.h"
#include "src/profiles/profile_editor.h"
#include "src/profiles/profile_queries.h"
#include "src/profiles/profile_types.h"

namespace scrm::api {

// Roles per kind of route (docs/api.md): every role reads; tags may be set by marketing and
// sales; merges and tasks are sales' (and admin's) work.
inline constexpr std::initializer_list<model::Role> kCustomerTagWriters = {
    model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales};
inline constexpr std::initializer_list<model::Role> kMergeWriters = {model::Role::kAdmin,
                                                                     model::Role::kSales};
inline constexpr std::initializer_list<model::Role> kTaskWriters = {model::Role::kAdmin,
                                                                    model::Role::kSales};

// GET    /api/v1/customers/{id}                 any role: the profile (CustomerViewJson)
// GET    /api/v1/customers/{id}/timeline        any role: ?after=&limit=
// GET    /api/v1/customers                      any role: ?tag=&tag_id=&stage=&owner=&q=
//                                                 &updated_after=&after=&limit=
// GET    /api/v1/customers/by-identity          any role: ?platform=&account=&external_id=&kind=
// POST   /api/v1/customers/{id}/tags            admin, marketing, sales: {"group","name","weight"}
// DELETE /api/v1/customers/{id}/tags            admin, marketing, sales: body or ?group=&name=
// POST   /api/v1/customers/{id}/merge           admin, sales: {"other", "reason"?}
// POST   /api/v1/merges/{id}/undo               admin, sales
// GET    /api/v1/tasks                          any role: ?owner=&status=&after=&limit=
// PATCH  /api/v1/tasks/{id}                     admin, sales: {"status"}
// The profile services the routes call: each must outlive the server; their methods are
// thread-safe.
struct CustomerRouteDeps {
  const profiles::ProfileQueries& queries;
  profiles::IdentityService& identities;
  profiles::ProfileEditor& editor;
};
void RegisterCustomerRoutes(ApiRouter& router, const CustomerRouteDeps& deps);

// A customer without identities / tags / ... as GET /api/v1/customers lists it (docs/api.md);
// the segment routes list customers the same way.
nlohmann::json CustomerJson(const model::Customer& customer);

// The JSON of a profile as GET /api/v1/customers/{id} answers it (docs/api.md).
nlohmann::json CustomerViewJson(const profiles::CustomerView& view);

}  // namespace scrm::api
