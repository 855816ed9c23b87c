#include "src/api/template_routes.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "campaigns/render/template_json.h"
#include "src/api/api_json.h"
#include "src/server/http_errors.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxVersion = 1000000000;

json TemplateJson(const TemplateView& view) {
  const model::MessageTemplate& tmpl = view.tmpl;
  return json{{"id", IdJson(tmpl.id)},  // docs/api.md "Ids are strings"
              {"name", tmpl.name},
              {"channel", std::string(model::TemplateChannelName(model::ChannelOf(tmpl.content)))},
              {"content", render::ContentToJson(tmpl.content)},
              {"version", tmpl.version},
              {"enabled", tmpl.enabled},
              {"source", tmpl.source},
              {"variables", view.variables},
              {"created_at_ms", tmpl.created_at_ms},
              {"updated_at_ms", tmpl.updated_at_ms}};
}

// The body's template. Its "id" (a string of digits or an integer, docs/api.md "Ids are
// strings") must be absent on create and, on update, absent or the path's id.
core::StatusOr<render::TemplateDoc> DocBody(const server::Request& req,
                                            std::optional<int64_t> path_id) {
  SCRM_ASSIGN_OR_RETURN(const json body, JsonObjectBody(req));
  SCRM_ASSIGN_OR_RETURN(const std::optional<int64_t> id, IdMember(body, "id", 0));
  if (id.has_value() && !path_id.has_value()) {
    return core::InvalidArgumentError("id: assigned by the server, leave it out");
  }
  if (id.has_value() && *id != *path_id) {
    return core::InvalidArgumentError("id: does not match the template in the path");
  }
  return render::TemplateDocFromJson(body);
}

void ListTemplates(TemplateService& templates, server::Response& res, const ApiContext& ctx) {
  auto list = templates.List();
  if (!Check(list.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& view : *list) items.push_back(TemplateJson(view));
  WriteJson(res, json{{"templates", std::move(items)}});
}

void GetTemplate(TemplateService& templates, const server::Request& req, server::Response& res,
                 const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto version = IntParam(req, "version", 0, 1, kMaxVersion);
  if (!Check(version.status(), res, ctx)) return;
  auto view = req.HasParam("version") ? templates.GetVersion(*id, static_cast<int>(*version))
                                      : templates.Get(*id);
  if (!Check(view.status(), res, ctx)) return;
  WriteJson(res, TemplateJson(*view));
}

void ListVersions(TemplateService& templates, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto versions = templates.ListVersions(*id);
  if (!Check(versions.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& view : *versions) items.push_back(TemplateJson(view));
  WriteJson(res, json{{"versions", std::move(items)}});
}

void CreateTemplate(TemplateService& templates, const server::Request& req, server::Response& res,
                    const ApiContext& ctx) {
  auto doc = DocBody(req, std::nullopt);
  if (!Check(doc.status(), res, ctx)) return;
  auto created = templates.Create(*doc);
  if (!Check(created.status(), res, ctx)) return;
  WriteJson(res, TemplateJson(*created), 201);
}

void UpdateTemplate(TemplateService& templates, const server::Request& req, server::Response& res,
                    const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto doc = DocBody(req, *id);
  if (!Check(doc.status(), res, ctx)) return;
  // A "version" in the body is the version the client read: saving over a newer one would lose
  // someone else's change.
  auto updated = templates.Update(*id, *doc, doc->version);
  if (!Check(updated.status(), res, ctx)) return;
  WriteJson(res, TemplateJson(*updated));
}

void PreviewTemplate(TemplateService& templates, const server::Request& req, server::Response& res,
                     const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"customer_id"}), res, ctx)) return;
  auto customer_id = IdMember(*body, "customer_id");
  if (!Check(customer_id.status(), res, ctx)) return;
  if (!customer_id->has_value()) {
    Check(core::InvalidArgumentError("customer_id: required, a customer id"), res, ctx);
    return;
  }
  auto preview = templates.Preview(*id, **customer_id);
  if (!Check(preview.status(), res, ctx)) return;
  if (!preview->render_status.ok()) {
    // The template is valid; this customer's values make the message break a channel limit.
    server::WriteJsonError(res, 422, "render_failed", preview->render_status.message(),
                           ctx.request_id);
    return;
  }
  json samples = json::object();
  for (const auto& [name, value] : preview->samples) samples[name] = value;
  WriteJson(res, json{{"template_id", IdJson(preview->view.tmpl.id)},
                      {"version", preview->view.tmpl.version},
                      {"channel", std::string(model::TemplateChannelName(
                                      model::ChannelOf(preview->view.tmpl.content)))},
                      {"customer_id", IdJson(preview->customer_id)},
                      {"content", render::ContentToJson(*preview->rendered)},
                      {"samples", std::move(samples)}});
}

}  // namespace

void RegisterTemplateRoutes(ApiRouter& router, TemplateService& templates) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  auto* t = &templates;
  router.Get("/api/v1/templates", kAnyRole,
             [t](Req, Res res, Ctx ctx) { ListTemplates(*t, res, ctx); });
  router.Get("/api/v1/templates/{id}", kAnyRole,
             [t](Req req, Res res, Ctx ctx) { GetTemplate(*t, req, res, ctx); });
  router.Get("/api/v1/templates/{id}/versions", kAnyRole,
             [t](Req, Res res, Ctx ctx) { ListVersions(*t, res, ctx); });
  router.Post("/api/v1/templates", kTemplateWriters,
              [t](Req req, Res res, Ctx ctx) { CreateTemplate(*t, req, res, ctx); });
  router.Put("/api/v1/templates/{id}", kTemplateWriters,
             [t](Req req, Res res, Ctx ctx) { UpdateTemplate(*t, req, res, ctx); });
  router.Post("/api/v1/templates/{id}/preview", kAnyRole,
              [t](Req req, Res res, Ctx ctx) { PreviewTemplate(*t, req, res, ctx); });
}

}  // namespace scrm::api
