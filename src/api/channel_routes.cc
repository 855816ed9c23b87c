#include "src/api/channel_routes.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultLimit = 100;

json ChannelJson(const model::ContactChannel& c) {
  json tags = json::array();
  for (const model::TagRef& tag : c.default_tags) {
    tags.push_back({{"group", tag.group}, {"name", tag.name}});
  }
  return json{{"id", IdJson(c.id)},
              {"name", c.name},
              {"account_id", c.account_id},
              {"platform", std::string(model::PlatformName(c.platform))},
              {"state", c.state},
              {"welcome_template_id", IdJson(c.welcome_template_id)},
              {"default_tags", std::move(tags)},
              {"owner_rule", std::string(model::OwnerRuleName(c.owner_rule))},
              {"members", c.members},
              {"skip_verify", c.skip_verify},
              {"temporary", c.temporary},
              {"expires_in_s", c.expires_in_s},
              {"platform_id", c.platform_id},
              {"qr_image", c.qr_image},
              {"qr_content", c.qr_content},
              {"retired", c.retired},
              {"retired_at_ms", c.retired_at_ms},
              {"created_at_ms", c.created_at_ms},
              {"updated_at_ms", c.updated_at_ms}};
}

core::Status BoolMember(const json& body, const char* name, bool& out) {
  if (!body.contains(name)) return core::OkStatus();
  if (!body[name].is_boolean()) {
    return core::InvalidArgumentError(std::string(name) + ": must be true or false");
  }
  out = body[name].get<bool>();
  return core::OkStatus();
}

core::StatusOr<campaigns::ContactChannelRequest> RequestOf(const json& body) {
  SCRM_RETURN_IF_ERROR(
      OnlyMembers(body, {"name", "account_id", "state", "welcome_template_id", "default_tags",
                         "owner_rule", "members", "skip_verify", "temporary", "expires_in_s"}));
  campaigns::ContactChannelRequest r;
  SCRM_ASSIGN_OR_RETURN(r.name, StringMember(body, "name", 128));
  SCRM_ASSIGN_OR_RETURN(r.account_id, StringMember(body, "account_id", 64));
  SCRM_ASSIGN_OR_RETURN(r.state, StringMember(body, "state", 64));
  SCRM_ASSIGN_OR_RETURN(const std::optional<int64_t> template_id,
                        IdMember(body, "welcome_template_id", 0));
  r.welcome_template_id = template_id.value_or(0);
  if (body.contains("default_tags")) {
    const json& tags = body["default_tags"];
    if (!tags.is_array() || tags.size() > campaigns::ContactChannelService::kMaxTags) {
      return core::InvalidArgumentError("default_tags: must be an array of at most 20 tags");
    }
    for (size_t i = 0; i < tags.size(); ++i) {
      const std::string at = "default_tags[" + std::to_string(i) + "]";
      if (!tags[i].is_object() || !tags[i].contains("group") || !tags[i]["group"].is_string() ||
          !tags[i].contains("name") || !tags[i]["name"].is_string() || tags[i].size() != 2) {
        return core::InvalidArgumentError(at + ": must be {\"group\", \"name\"}");
      }
      r.default_tags.push_back(
          model::TagRef{tags[i]["group"].get<std::string>(), tags[i]["name"].get<std::string>()});
    }
  }
  if (body.contains("owner_rule")) {
    const auto rule = body["owner_rule"].is_string()
                          ? model::ParseOwnerRule(body["owner_rule"].get<std::string>())
                          : std::nullopt;
    if (!rule.has_value()) {
      return core::InvalidArgumentError(
          "owner_rule: must be \"adder\", \"fixed\" or \"round_robin\"");
    }
    r.owner_rule = *rule;
  }
  if (body.contains("members")) {
    const json& members = body["members"];
    if (!members.is_array() || members.size() > campaigns::ContactChannelService::kMaxMembers) {
      return core::InvalidArgumentError("members: must be an array of at most 100 userids");
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (!members[i].is_string()) {
        return core::InvalidArgumentError("members[" + std::to_string(i) + "]: must be a string");
      }
      r.members.push_back(members[i].get<std::string>());
    }
  }
  SCRM_RETURN_IF_ERROR(BoolMember(body, "skip_verify", r.skip_verify));
  SCRM_RETURN_IF_ERROR(BoolMember(body, "temporary", r.temporary));
  if (body.contains("expires_in_s")) {
    if (!body["expires_in_s"].is_number_integer()) {
      return core::InvalidArgumentError("expires_in_s: must be an integer");
    }
    r.expires_in_s = body["expires_in_s"].get<int64_t>();
  }
  return r;
}

void ListChannels(campaigns::ContactChannelService& s, const server::Request& req,
                  server::Response& res, const ApiContext& ctx) {
  auto page = PageParamsOf(req, kDefaultLimit, storage::ContactChannelStore::kMaxList);
  if (!Check(page.status(), res, ctx)) return;
  auto retired = TextParam(req, "retired", 5);
  if (!Check(retired.status(), res, ctx)) return;
  if (retired->has_value() && **retired != "true" && **retired != "false") {
    Check(core::InvalidArgumentError("retired: must be true or false"), res, ctx);
    return;
  }
  const bool include_retired = retired->has_value() && **retired == "true";
  auto list = s.List(page->after_id, page->limit, include_retired);
  if (!Check(list.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& c : *list) items.push_back(ChannelJson(c));
  json out = {{"channels", std::move(items)}};
  out["next_after"] = list->size() == page->limit ? IdJson(list->back().id) : json(nullptr);
  WriteJson(res, out);
}

void GetChannel(campaigns::ContactChannelService& s, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto channel = s.Get(*id);
  if (!Check(channel.status(), res, ctx)) return;
  WriteJson(res, ChannelJson(*channel));
}

void CreateChannel(campaigns::ContactChannelService& s, const server::Request& req,
                   server::Response& res, const ApiContext& ctx) {
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  auto request = RequestOf(*body);
  if (!Check(request.status(), res, ctx)) return;
  auto created = s.Create(*request);
  if (!Check(created.status(), res, ctx)) return;
  WriteJson(res, ChannelJson(*created), 201);
}

void RetireChannel(campaigns::ContactChannelService& s, server::Response& res,
                   const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto retired = s.Retire(*id);
  if (!Check(retired.status(), res, ctx)) return;
  WriteJson(res, ChannelJson(*retired));
}

void ChannelStats(campaigns::ContactChannelService& s, server::Response& res,
                  const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto stats = s.Stats(*id);
  if (!Check(stats.status(), res, ctx)) return;
  WriteJson(res, json{{"channel_id", IdJson(stats->channel_id)},
                      {"adds", stats->adds},
                      {"deletes", stats->deletes},
                      {"net", stats->net},
                      {"customers", stats->customers},
                      {"welcomes_sent", stats->welcomes_sent},
                      {"welcomes_failed", stats->welcomes_failed}});
}

}  // namespace

void RegisterChannelRoutes(ApiRouter& router, campaigns::ContactChannelService& channels) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  auto* s = &channels;
  router.Get("/api/v1/channels", kAnyRole,
             [s](Req req, Res res, Ctx ctx) { ListChannels(*s, req, res, ctx); });
  router.Get("/api/v1/channels/{id}", kAnyRole,
             [s](Req, Res res, Ctx ctx) { GetChannel(*s, res, ctx); });
  router.Post("/api/v1/channels", kChannelWriters,
              [s](Req req, Res res, Ctx ctx) { CreateChannel(*s, req, res, ctx); });
  router.Post("/api/v1/channels/{id}/retire", kChannelWriters,
              [s](Req, Res res, Ctx ctx) { RetireChannel(*s, res, ctx); });
  router.Get("/api/v1/channels/{id}/stats", kAnyRole,
             [s](Req, Res res, Ctx ctx) { ChannelStats(*s, res, ctx); });
}

}  // namespace scrm::api
