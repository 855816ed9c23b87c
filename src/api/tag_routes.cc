#include "src/api/tag_routes.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultPageSize = 50;
constexpr size_t kMaxNameBytes = 64;         // tag and group names (profiles' limit)
constexpr size_t kMaxWecomTagIdBytes = 128;  // a corp tag id is "et" + ~30 characters
constexpr int64_t kMaxOaTagId = 2147483647;  // OA tag ids are 32-bit (PROTOCOL §4.2 tags/create)
constexpr int64_t kMaxHalfLifeDays = 3650;

json TagJson(const model::TagDetail& tag) {
  return json{{"id", IdJson(tag.tag.id)},
              {"group", tag.group.name},
              {"group_id", IdJson(tag.group.id)},
              {"name", tag.tag.name},
              {"threshold", tag.Threshold()},
              {"threshold_override", tag.tag.threshold ? json(*tag.tag.threshold) : json(nullptr)},
              {"half_life_days", tag.group.half_life_days},
              {"wecom_tag_id", tag.tag.wecom_tag_id},
              {"oa_tag_id", IdJson(tag.tag.oa_tag_id)}};
}

json GroupJson(const model::TagGroup& group) {
  return json{{"id", IdJson(group.id)},
              {"name", group.name},
              {"half_life_days", group.half_life_days},
              {"threshold", group.threshold},
              {"wecom_group_id", group.wecom_group_id}};
}

// An integer member within [min, max]; nullopt when absent. Floats and numbers out of range are
// refused (a JSON number above 2^63 must not wrap).
core::StatusOr<std::optional<int64_t>> IntMember(const json& body, const std::string& name,
                                                 int64_t min, int64_t max) {
  const auto it = body.find(name);
  if (it == body.end()) return std::optional<int64_t>();
  const std::string range =
      name + ": must be an integer in " + std::to_string(min) + ".." + std::to_string(max);
  if (!it->is_number_integer()) return core::InvalidArgumentError(range);
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return core::InvalidArgumentError(range);
  }
  const int64_t value = it->get<int64_t>();
  if (value < min || value > max) return core::InvalidArgumentError(range);
  return std::optional<int64_t>(value);
}

// {"wecom_tag_id"?, "oa_tag_id"?}: "" / 0 / null unmaps, an absent member keeps the mapping.
core::StatusOr<profiles::TagMappingChange> MappingFrom(const json& body) {
  profiles::TagMappingChange change;
  if (const auto it = body.find("wecom_tag_id"); it != body.end()) {
    if (it->is_null()) {
      change.wecom_tag_id = "";
    } else if (!it->is_string()) {
      return core::InvalidArgumentError("wecom_tag_id: must be a string or null");
    } else {
      std::string id = it->get<std::string>();
      if (id.size() > kMaxWecomTagIdBytes) {
        return core::InvalidArgumentError("wecom_tag_id: longer than " +
                                          std::to_string(kMaxWecomTagIdBytes) + " bytes");
      }
      // Corp tag ids are printable ASCII ("etXXXX…", PROTOCOL §4.1); anything else is a paste
      // error that mark_tag would refuse on every push.
      for (const char c : id) {
        if (c <= 0x20 || c >= 0x7f) {
          return core::InvalidArgumentError("wecom_tag_id: must be printable ASCII without spaces");
        }
      }
      change.wecom_tag_id = std::move(id);
    }
  }
  if (const auto it = body.find("oa_tag_id"); it != body.end() && it->is_null()) {
    change.oa_tag_id = 0;
  } else {
    // An id: a string of digits or an integer (docs/api.md "Ids are strings").
    SCRM_ASSIGN_OR_RETURN(change.oa_tag_id, IdMember(body, "oa_tag_id", 0));
    if (change.oa_tag_id.value_or(0) > kMaxOaTagId) {
      return core::InvalidArgumentError("oa_tag_id: must be in 0.." + std::to_string(kMaxOaTagId));
    }
  }
  if (!change.wecom_tag_id.has_value() && !change.oa_tag_id.has_value()) {
    return core::InvalidArgumentError("body: must set wecom_tag_id or oa_tag_id");
  }
  return change;
}

void ListTags(const profiles::ProfileQueries& queries, const server::Request& req,
              server::Response& res, const ApiContext& ctx) {
  profiles::TagQuery filter;
  auto group = TextParam(req, "group", kMaxNameBytes);
  if (!Check(group.status(), res, ctx)) return;
  filter.group = std::move(*group);
  auto page = PageParamsOf(req, kDefaultPageSize, profiles::kMaxPageSize);
  if (!Check(page.status(), res, ctx)) return;
  filter.after_id = page->after_id;
  filter.limit = page->limit;
  auto tags = queries.ListTags(filter);
  if (!Check(tags.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& tag : *tags) items.push_back(TagJson(tag));
  json body = {{"items", std::move(items)}};
  // A full page may have more after it; a short page is the end.
  body["next_after"] = tags->size() == filter.limit ? IdJson(tags->back().tag.id) : json(nullptr);
  WriteJson(res, body);
}

void GetTag(const profiles::ProfileQueries& queries, const server::Request& /*req*/,
            server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto tag = queries.GetTag(*id);
  if (!Check(tag.status(), res, ctx)) return;
  WriteJson(res, TagJson(*tag));
}

// A WeCom id the change maps to must be a corp tag of a configured WeCom account (no check
// without a catalog or an account). False when the answer is written.
bool CheckCorpTag(CorpTagCatalog* catalog, const profiles::TagMappingChange& change,
                  server::Response& res, const ApiContext& ctx) {
  if (catalog == nullptr || !change.wecom_tag_id.has_value() || change.wecom_tag_id->empty() ||
      catalog->empty()) {
    return true;
  }
  const CorpTagCheckResult found = catalog->Check(*change.wecom_tag_id);
  switch (found.check) {
    case CorpTagCheck::kKnown: return true;
    case CorpTagCheck::kUnknown:
      server::WriteJsonError(res, 422, "unknown_wecom_tag",
                             "wecom_tag_id: \"" + *change.wecom_tag_id +
                                 "\" is not a corp tag of WeCom account " + found.detail +
                                 " (get_corp_tag_list); create the tag on WeCom first or "
                                 "correct the id",
                             ctx.request_id);
      return false;
    case CorpTagCheck::kNotSynced:
      server::WriteJsonError(res, 503, "corp_tags_not_synced",
                             "wecom_tag_id: the corp tag list of WeCom account " + found.detail +
                                 " is not synced yet, so the id cannot be checked; retry later",
                             ctx.request_id);
      return false;
  }
  return true;
}

void WriteMapped(const profiles::MappedTag& mapped, server::Response& res) {
  json body = TagJson(mapped.tag);
  body["pushes_queued"] = mapped.pushes_queued;
  WriteJson(res, body);
}

void MapTagById(profiles::ProfileEditor& editor, CorpTagCatalog* catalog,
                const server::Request& req, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"wecom_tag_id", "oa_tag_id"}), res, ctx)) return;
  auto change = MappingFrom(*body);
  if (!Check(change.status(), res, ctx)) return;
  if (!CheckCorpTag(catalog, *change, res, ctx)) return;
  auto mapped = editor.UpdateTagMapping(*id, *change);
  if (!Check(mapped.status(), res, ctx)) return;
  WriteMapped(*mapped, res);
}

void MapTagByName(profiles::ProfileEditor& editor, CorpTagCatalog* catalog,
                  const server::Request& req, server::Response& res, const ApiContext& ctx) {
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"group", "name", "wecom_tag_id", "oa_tag_id"}), res, ctx)) return;
  model::TagRef ref;
  auto group = StringMember(*body, "group", kMaxNameBytes);
  if (!Check(group.status(), res, ctx)) return;
  auto name = StringMember(*body, "name", kMaxNameBytes);
  if (!Check(name.status(), res, ctx)) return;
  ref.group = std::move(*group);
  ref.name = std::move(*name);
  auto change = MappingFrom(*body);
  if (!Check(change.status(), res, ctx)) return;
  if (!CheckCorpTag(catalog, *change, res, ctx)) return;
  auto mapped = editor.UpdateTagMapping(ref, *change);
  if (!Check(mapped.status(), res, ctx)) return;
  WriteMapped(*mapped, res);
}

void ListGroups(const profiles::ProfileQueries& queries, server::Response& res,
                const ApiContext& ctx) {
  auto groups = queries.ListTagGroups();
  if (!Check(groups.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& group : *groups) items.push_back(GroupJson(group));
  WriteJson(res, json{{"groups", std::move(items)}});
}

void ConfigureGroup(profiles::ProfileEditor& editor, const server::Request& req,
                    server::Response& res, const ApiContext& ctx) {
  // The path is URL-decoded before routing: "兴趣" arrives as %E5%85%B4%E8%B6%A3.
  const std::string name(ctx.params.Get("name"));
  if (name.empty() || name.size() > kMaxNameBytes) {
    Check(
        core::InvalidArgumentError("name: must be 1.." + std::to_string(kMaxNameBytes) + " bytes"),
        res, ctx);
    return;
  }
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"half_life_days", "threshold"}), res, ctx)) return;
  profiles::TagGroupChange change;
  auto half_life = IntMember(*body, "half_life_days", 0, kMaxHalfLifeDays);
  if (!Check(half_life.status(), res, ctx)) return;
  if (half_life->has_value()) change.half_life_days = static_cast<int>(**half_life);
  if (const auto it = body->find("threshold"); it != body->end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      Check(core::InvalidArgumentError("threshold: must be a number"), res, ctx);
      return;
    }
    change.threshold = it->get<double>();
  }
  if (!change.half_life_days.has_value() && !change.threshold.has_value()) {
    Check(core::InvalidArgumentError("body: must set half_life_days or threshold"), res, ctx);
    return;
  }
  auto group = editor.ConfigureTagGroup(name, change);
  if (!Check(group.status(), res, ctx)) return;
  WriteJson(res, GroupJson(*group));
}

}  // namespace

void RegisterTagRoutes(ApiRouter& router, const profiles::ProfileQueries& queries,
                       profiles::ProfileEditor& editor, CorpTagCatalog* corp_tags) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  const profiles::ProfileQueries* q = &queries;
  profiles::ProfileEditor* e = &editor;
  router.Get("/api/v1/tags", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { ListTags(*q, req, res, ctx); });
  router.Get("/api/v1/tags/{id}", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { GetTag(*q, req, res, ctx); });
  router.Put(
      "/api/v1/tags/{id}/mapping", kTagAdminWriters,
      [e, corp_tags](Req req, Res res, Ctx ctx) { MapTagById(*e, corp_tags, req, res, ctx); });
  router.Put("/api/v1/tags/mapping", kTagAdminWriters, [e, corp_tags](Req req, Res res, Ctx ctx) {
    MapTagByName(*e, corp_tags, req, res, ctx);
  });
  router.Get("/api/v1/tag-groups", kAnyRole,
             [q](Req, Res res, Ctx ctx) { ListGroups(*q, res, ctx); });
  // {name...}: a group name may hold any character, a decoded "/" included.
  router.Put("/api/v1/tag-groups/{name...}", kTagAdminWriters,
             [e](Req req, Res res, Ctx ctx) { ConfigureGroup(*e, req, res, ctx); });
}

}  // namespace scrm::api
