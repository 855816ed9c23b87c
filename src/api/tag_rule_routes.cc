#include "src/api/tag_rule_routes.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "src/api/api_json.h"
#include "src/tagger/rule_json.h"
#include "src/tagger/rule_validation.h"

namespace scrm::api {
namespace {

using nlohmann::json;

json RuleJson(const profiles::StoredRule& stored) {
  json body = tagger::TagRuleToJson(stored.rule);
  body["id"] = IdJson(stored.rule.id);  // docs/api.md "Ids are strings"
  body["saved_at_ms"] = stored.saved_at_ms;
  return body;
}

// The body with its "id" (a string of digits or an integer, docs/api.md "Ids are strings") as the
// JSON integer the rule reader takes.
core::StatusOr<json> RuleBody(const server::Request& req) {
  SCRM_ASSIGN_OR_RETURN(json body, JsonObjectBody(req));
  SCRM_ASSIGN_OR_RETURN(const std::optional<int64_t> id, IdMember(body, "id", 0));
  if (id.has_value()) body["id"] = *id;
  return body;
}

void ListRules(profiles::TagRuleService& rules, server::Response& res, const ApiContext& ctx) {
  auto list = rules.List();
  if (!Check(list.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& rule : *list) items.push_back(RuleJson(rule));
  WriteJson(res, json{{"rules", std::move(items)}});
}

void GetRule(profiles::TagRuleService& rules, const server::Request& req, server::Response& res,
             const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto version = IntParam(req, "version", 0, tagger::kVersionRange.min, tagger::kVersionRange.max);
  if (!Check(version.status(), res, ctx)) return;
  auto rule =
      req.HasParam("version") ? rules.GetVersion(*id, static_cast<int>(*version)) : rules.Get(*id);
  if (!Check(rule.status(), res, ctx)) return;
  WriteJson(res, RuleJson(*rule));
}

void ListVersions(profiles::TagRuleService& rules, const server::Request& /*req*/,
                  server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto versions = rules.ListVersions(*id);
  if (!Check(versions.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& rule : *versions) items.push_back(RuleJson(rule));
  WriteJson(res, json{{"versions", std::move(items)}});
}

void CreateRule(profiles::TagRuleService& rules, const server::Request& req, server::Response& res,
                const ApiContext& ctx) {
  auto body = RuleBody(req);
  if (!Check(body.status(), res, ctx)) return;
  // Validates and names the field at fault ("condition.regex: invalid pattern: ...").
  auto rule = tagger::TagRuleFromJson(*body);
  if (!Check(rule.status(), res, ctx)) return;
  auto created = rules.Create(std::move(rule).value());
  if (!Check(created.status(), res, ctx)) return;
  WriteJson(res, RuleJson(*created), 201);
}

void UpdateRule(profiles::TagRuleService& rules, const server::Request& req, server::Response& res,
                const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = RuleBody(req);
  if (!Check(body.status(), res, ctx)) return;
  auto rule = tagger::TagRuleFromJson(*body);
  if (!Check(rule.status(), res, ctx)) return;
  // A "version" in the body is the version the client read: saving over a newer one would lose
  // someone else's change.
  std::optional<int> expected;
  if (const auto it = body->find("version"); it != body->end() && !it->is_null()) {
    expected = rule->version;
  }
  auto updated = rules.Update(*id, std::move(rule).value(), expected);
  if (!Check(updated.status(), res, ctx)) return;
  WriteJson(res, RuleJson(*updated));
}

void SetEnabled(profiles::TagRuleService& rules, bool enabled, const server::Request& /*req*/,
                server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto updated = rules.SetEnabled(*id, enabled);
  if (!Check(updated.status(), res, ctx)) return;
  WriteJson(res, RuleJson(*updated));
}

}  // namespace

void RegisterTagRuleRoutes(ApiRouter& router, profiles::TagRuleService& rules) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  auto* r = &rules;
  router.Get("/api/v1/tag-rules", kAnyRole,
             [r](Req, Res res, Ctx ctx) { ListRules(*r, res, ctx); });
  router.Get("/api/v1/tag-rules/{id}", kAnyRole,
             [r](Req req, Res res, Ctx ctx) { GetRule(*r, req, res, ctx); });
  router.Get("/api/v1/tag-rules/{id}/versions", kAnyRole,
             [r](Req req, Res res, Ctx ctx) { ListVersions(*r, req, res, ctx); });
  router.Post("/api/v1/tag-rules", kTagRuleWriters,
              [r](Req req, Res res, Ctx ctx) { CreateRule(*r, req, res, ctx); });
  router.Put("/api/v1/tag-rules/{id}", kTagRuleWriters,
             [r](Req req, Res res, Ctx ctx) { UpdateRule(*r, req, res, ctx); });
  router.Post("/api/v1/tag-rules/{id}/disable", kTagRuleWriters,
              [r](Req req, Res res, Ctx ctx) { SetEnabled(*r, false, req, res, ctx); });
  router.Post("/api/v1/tag-rules/{id}/enable", kTagRuleWriters,
              [r](Req req, Res res, Ctx ctx) { SetEnabled(*r, true, req, res, ctx); });
  router.Delete("/api/v1/tag-rules/{id}", kTagRuleWriters,
                [r](Req req, Res res, Ctx ctx) { SetEnabled(*r, false, req, res, ctx); });
}

}  // namespace scrm::api
