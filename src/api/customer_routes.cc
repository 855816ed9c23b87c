#include "src/api/customer_routes.h"

#include <string>
#include <utility>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultPageSize = 50;
constexpr size_t kMaxQueryBytes = 256;
constexpr size_t kMaxNameBytes = 256;  // platform, account, identity values, owner userids

json IdentityJson(const model::Identity& identity) {
  return json{{"id", IdJson(identity.id)},         {"platform", identity.platform},
              {"account_id", identity.account_id}, {"kind", model::IdentityKindName(identity.kind)},
              {"value", identity.value},           {"created_at_ms", identity.created_at_ms}};
}

json TagViewJson(const profiles::TagView& view) {
  const model::CustomerTag& value = view.detail.value;
  const model::TagDetail& tag = view.detail.tag;
  json evidence = nullptr;
  if (value.evidence_rule_id != 0 || value.evidence_interaction_id != 0) {
    evidence = {{"rule_id", IdJson(value.evidence_rule_id)},
                {"rule_version", value.evidence_rule_version},
                {"interaction_id", IdJson(value.evidence_interaction_id)}};
  }
  return json{{"tag_id", IdJson(tag.tag.id)},
              {"group", tag.group.name},
              {"name", tag.tag.name},
              {"score", view.decayed_score},
              {"held", view.held},
              {"threshold", tag.Threshold()},
              {"half_life_days", tag.group.half_life_days},
              {"stored_score", value.score},
              {"updated_at_ms", value.updated_at_ms},
              {"source", model::TagSourceName(value.source)},
              {"decays", value.decays},
              {"evidence", std::move(evidence)}};
}

json FollowerJson(const model::Follower& f) {
  return json{{"account_id", f.account_id},
              {"userid", f.userid},
              {"state", model::FollowerStateName(f.state)},
              {"is_owner", f.is_owner},
              {"added_at_ms", f.added_at_ms},
              {"removed_at_ms", f.removed_at_ms}};
}

json TaskJson(const model::FollowUpTask& t) {
  return json{{"id", IdJson(t.id)},
              {"customer_id", IdJson(t.customer_id)},
              {"owner_userid", t.owner_userid},
              {"title", t.title},
              {"due_at_ms", t.due_at_ms},
              {"status", model::TaskStatusName(t.status)},
              {"source_interaction_id", IdJson(t.source_interaction_id)},
              {"source_rule_id", IdJson(t.source_rule_id)},
              {"created_at_ms", t.created_at_ms}};
}

json MergeJson(const model::MergeRecord& m) {
  return json{{"id", IdJson(m.id)},
              {"survivor_id", IdJson(m.survivor_id)},
              {"merged_id", IdJson(m.merged_id)},
              {"at_ms", m.at_ms},
              {"reason", m.reason},
              {"undone_at_ms", m.undone_at_ms ? json(*m.undone_at_ms) : json(nullptr)}};
}

json TimelineJson(const model::TimelineEntry& e) {
  return json{{"id", IdJson(e.id)},
              {"interaction_id", IdJson(e.interaction_id)},
              {"kind", e.kind},
              {"at_ms", e.at_ms},
              {"summary", e.summary}};
}

// {"group","name"} from the body, or ?group=&name= when the body is empty (DELETE).
core::StatusOr<model::TagRef> TagRefFrom(const server::Request& req, const json& body) {
  model::TagRef tag;
  if (body.empty()) {
    SCRM_ASSIGN_OR_RETURN(auto group, TextParam(req, "group", kMaxNameBytes));
    SCRM_ASSIGN_OR_RETURN(auto name, TextParam(req, "name", kMaxNameBytes));
    if (!group || group->empty()) return core::InvalidArgumentError("group: required");
    if (!name || name->empty()) return core::InvalidArgumentError("name: required");
    tag.group = std::move(*group);
    tag.name = std::move(*name);
    return tag;
  }
  SCRM_ASSIGN_OR_RETURN(tag.group, StringMember(body, "group", kMaxNameBytes));
  SCRM_ASSIGN_OR_RETURN(tag.name, StringMember(body, "name", kMaxNameBytes));
  return tag;
}

void GetCustomer(const profiles::ProfileQueries& queries, const server::Request& /*req*/,
                 server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto view = queries.GetCustomer(*id);
  if (!Check(view.status(), res, ctx)) return;
  WriteJson(res, CustomerViewJson(*view));
}

void GetTimeline(const profiles::ProfileQueries& queries, const server::Request& req,
                 server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto page = PageParamsOf(req, kDefaultPageSize, profiles::kMaxPageSize);
  if (!Check(page.status(), res, ctx)) return;
  // An unknown customer is a 404, not an empty timeline.
  auto customer = queries.GetCustomer(*id);
  if (!Check(customer.status(), res, ctx)) return;
  auto entries = queries.ListTimeline(*id, page->after_id, page->limit);
  if (!Check(entries.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& entry : *entries) items.push_back(TimelineJson(entry));
  json body = {{"customer_id", IdJson(*id)}, {"items", std::move(items)}};
  // A full page may have more after it; a short page is the end.
  body["next_after"] = entries->size() == page->limit ? IdJson(entries->back().id) : json(nullptr);
  WriteJson(res, body);
}

void ListCustomers(const profiles::ProfileQueries& queries, const server::Request& req,
                   server::Response& res, const ApiContext& ctx) {
  profiles::CustomerQuery filter;
  auto tag_id = IdParam(req, "tag_id", 0);
  if (!Check(tag_id.status(), res, ctx)) return;
  if (req.HasParam("tag_id")) filter.tag_id = *tag_id;
  auto tag = TextParam(req, "tag", kMaxNameBytes);
  if (!Check(tag.status(), res, ctx)) return;
  if (tag->has_value()) {
    const std::string& text = **tag;
    const size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
      Check(core::InvalidArgumentError("tag: must be <group>:<name>"), res, ctx);
      return;
    }
    auto found = queries.FindTag(model::TagRef{text.substr(0, colon), text.substr(colon + 1)});
    if (!Check(found.status(), res, ctx)) return;
    if (!found->has_value()) {
      // Nobody has a tag that was never used.
      WriteJson(res, json{{"items", json::array()}, {"next_after", nullptr}});
      return;
    }
    if (filter.tag_id.has_value() && *filter.tag_id != (*found)->tag.id) {
      WriteJson(res, json{{"items", json::array()}, {"next_after", nullptr}});
      return;
    }
    filter.tag_id = (*found)->tag.id;
  }
  if (req.HasParam("stage")) {
    filter.stage = model::ParseLifecycleStage(req.Param("stage"));
    if (!filter.stage) {
      Check(core::InvalidArgumentError(
                "stage: must be new, engaged, customer, repeat, at_risk or lost"),
            res, ctx);
      return;
    }
  }
  auto owner = TextParam(req, "owner", kMaxNameBytes);
  if (!Check(owner.status(), res, ctx)) return;
  filter.owner_userid = std::move(*owner);
  auto query = TextParam(req, "q", kMaxQueryBytes);
  if (!Check(query.status(), res, ctx)) return;
  if (query->has_value() && (*query)->empty()) {
    Check(core::InvalidArgumentError("q: must not be empty"), res, ctx);
    return;
  }
  filter.query = std::move(*query);
  auto updated_after = IntParam(req, "updated_after", 0, 0, INT64_MAX);
  if (!Check(updated_after.status(), res, ctx)) return;
  if (req.HasParam("updated_after")) filter.updated_after_ms = *updated_after;
  auto page = PageParamsOf(req, kDefaultPageSize, profiles::kMaxPageSize);
  if (!Check(page.status(), res, ctx)) return;
  filter.after_id = page->after_id;
  filter.limit = page->limit;

  if (req.HasParam("held")) {
    const std::string held = req.Param("held");
    if (held == "false") {
      filter.match = profiles::TagMatch::kFaded;
    } else if (held == "any") {
      filter.match = profiles::TagMatch::kAny;
    } else if (held != "true") {
      Check(core::InvalidArgumentError("held: must be true, false or any"), res, ctx);
      return;
    }
  }

  auto customers = queries.ListCustomers(filter);
  if (!Check(customers.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& customer : *customers) items.push_back(CustomerJson(customer));
  json body = {{"items", std::move(items)}};
  body["next_after"] =
      customers->size() == filter.limit ? IdJson(customers->back().id) : json(nullptr);
  WriteJson(res, body);
}

// platform → the kind of identity its callbacks carry (PROTOCOL §5).
std::optional<model::IdentityKind> KindForPlatform(std::string_view platform) {
  if (platform == "oa") return model::IdentityKind::kOpenid;
  if (platform == "wecom") return model::IdentityKind::kExternalUserid;
  if (platform == model::kUnionidPlatform) return model::IdentityKind::kUnionid;
  return std::nullopt;
}

void FindByIdentity(const profiles::ProfileQueries& queries, const server::Request& req,
                    server::Response& res, const ApiContext& ctx) {
  auto platform = TextParam(req, "platform", kMaxNameBytes);
  if (!Check(platform.status(), res, ctx)) return;
  auto account = TextParam(req, "account", kMaxNameBytes);
  if (!Check(account.status(), res, ctx)) return;
  auto value = TextParam(req, "external_id", kMaxNameBytes);
  if (!Check(value.status(), res, ctx)) return;
  if (!value->has_value() || (*value)->empty()) {
    Check(core::InvalidArgumentError("external_id: required"), res, ctx);
    return;
  }
  const std::string platform_name = platform->value_or("");
  std::optional<model::IdentityKind> kind;
  if (req.HasParam("kind")) {
    kind = model::ParseIdentityKind(req.Param("kind"));
    if (!kind) {
      Check(core::InvalidArgumentError(
                "kind: must be openid, external_userid, unionid, phone or external"),
            res, ctx);
      return;
    }
  } else {
    kind = KindForPlatform(platform_name);
    if (!kind) {
      Check(core::InvalidArgumentError("kind: required when platform is not oa, wecom or wechat"),
            res, ctx);
      return;
    }
  }
  auto found = queries.FindCustomer(platform_name, account->value_or(""), *kind, **value);
  if (!Check(found.status(), res, ctx)) return;
  if (!found->has_value()) {
    Check(core::NotFoundError("no customer has this identity"), res, ctx);
    return;
  }
  auto view = queries.GetCustomer(**found);
  if (!Check(view.status(), res, ctx)) return;
  WriteJson(res, CustomerViewJson(*view));
}

void AddTag(profiles::ProfileEditor& editor, const server::Request& req, server::Response& res,
            const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"group", "name", "weight", "decay"}), res, ctx)) return;
  auto tag = TagRefFrom(req, *body);
  if (!Check(tag.status(), res, ctx)) return;
  double weight = 1;
  if (const auto it = body->find("weight"); it != body->end() && !it->is_null()) {
    if (!it->is_number()) {
      Check(core::InvalidArgumentError("weight: must be a number"), res, ctx);
      return;
    }
    weight = it->get<double>();
  }
  bool decay = false;
  if (const auto it = body->find("decay"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean()) {
      Check(core::InvalidArgumentError("decay: must be true or false"), res, ctx);
      return;
    }
    decay = it->get<bool>();
  }
  auto view = editor.AddManualTag(*id, *tag, weight, decay);
  if (!Check(view.status(), res, ctx)) return;
  json out = TagViewJson(*view);
  out["already_held"] = view->unchanged;
  WriteJson(res, out);
}

void RemoveTag(profiles::ProfileEditor& editor, const server::Request& req, server::Response& res,
               const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req, /*allow_empty=*/true);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"group", "name"}), res, ctx)) return;
  auto tag = TagRefFrom(req, *body);
  if (!Check(tag.status(), res, ctx)) return;
  if (!Check(editor.RemoveTag(*id, *tag), res, ctx)) return;
  WriteJson(res, json{{"customer_id", IdJson(*id)},
                      {"group", tag->group},
                      {"name", tag->name},
                      {"removed", true}});
}

void MergeCustomers(profiles::IdentityService& identities, const server::Request& req,
                    server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"other", "reason"}), res, ctx)) return;
  auto other = IdMember(*body, "other");
  if (!Check(other.status(), res, ctx)) return;
  if (!other->has_value()) {
    Check(core::InvalidArgumentError("other: required, a customer id"), res, ctx);
    return;
  }
  std::string reason = "api";
  if (const auto it = body->find("reason"); it != body->end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty()) {
      Check(core::InvalidArgumentError("reason: must be a non-empty string"), res, ctx);
      return;
    }
    reason = it->get<std::string>();
  }
  auto record = identities.Merge(*id, **other, std::move(reason));
  if (!Check(record.status(), res, ctx)) return;
  WriteJson(res, MergeJson(*record));
}

// POST /api/v1/customers/{id}/identities {"kind", "value", "platform"?, "account"?}: a unionid
// links (and merges when another customer holds it, PROTOCOL §5); phone and external ids attach
// (409 when another customer has it: merge them instead). openid and external_userid come from
// the channels only: they name an account the callbacks prove.
void AddIdentity(profiles::IdentityService& identities, const server::Request& req,
                 server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"kind", "value", "platform", "account"}), res, ctx)) return;
  auto kind_name = StringMember(*body, "kind", kMaxNameBytes);
  if (!Check(kind_name.status(), res, ctx)) return;
  auto value = StringMember(*body, "value", kMaxNameBytes);
  if (!Check(value.status(), res, ctx)) return;
  const std::optional<model::IdentityKind> kind = model::ParseIdentityKind(*kind_name);
  if (!kind.has_value() || *kind == model::IdentityKind::kOpenid ||
      *kind == model::IdentityKind::kExternalUserid) {
    Check(core::InvalidArgumentError("kind: must be unionid, phone or external"), res, ctx);
    return;
  }
  if (*kind == model::IdentityKind::kUnionid) {
    if (body->contains("platform") || body->contains("account")) {
      Check(core::InvalidArgumentError("platform: a unionid spans accounts; give none"), res, ctx);
      return;
    }
    auto link = identities.LinkUnionid(*id, *value);
    if (!Check(link.status(), res, ctx)) return;
    json out{{"customer_id", IdJson(link->customer_id)}, {"merge", nullptr}};
    if (link->merge.has_value()) out["merge"] = MergeJson(*link->merge);
    WriteJson(res, out);
    return;
  }
  model::Identity identity;
  identity.kind = *kind;
  identity.value = std::move(*value);
  for (const auto& [member, field] :
       {std::pair<const char*, std::string*>{"platform", &identity.platform},
        std::pair<const char*, std::string*>{"account", &identity.account_id}}) {
    if (const auto it = body->find(member); it != body->end() && !it->is_null()) {
      if (!it->is_string() || it->get<std::string>().size() > kMaxNameBytes) {
        Check(core::InvalidArgumentError(std::string(member) + ": must be a string of at most " +
                                         std::to_string(kMaxNameBytes) + " bytes"),
              res, ctx);
        return;
      }
      *field = it->get<std::string>();
    }
  }
  auto stored = identities.AddIdentity(*id, std::move(identity));
  if (!Check(stored.status(), res, ctx)) return;
  WriteJson(res, json{{"customer_id", IdJson(*id)}, {"identity", IdentityJson(*stored)}});
}

void UndoMerge(profiles::IdentityService& identities, const server::Request& /*req*/,
               server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto record = identities.UndoMerge(*id);
  if (!Check(record.status(), res, ctx)) return;
  WriteJson(res, MergeJson(*record));
}

void ListTasks(const profiles::ProfileQueries& queries, const server::Request& req,
               server::Response& res, const ApiContext& ctx) {
  profiles::TaskQuery filter;
  auto owner = TextParam(req, "owner", kMaxNameBytes);
  if (!Check(owner.status(), res, ctx)) return;
  if (!owner->has_value()) {
    // Tasks are listed per staff member ("owner=" lists the ones without an owner).
    Check(core::InvalidArgumentError("owner: required"), res, ctx);
    return;
  }
  filter.owner_userid = std::move(**owner);
  if (req.HasParam("status")) {
    filter.status = model::ParseTaskStatus(req.Param("status"));
    if (!filter.status) {
      Check(core::InvalidArgumentError("status: must be open, done or cancelled"), res, ctx);
      return;
    }
  }
  auto page = PageParamsOf(req, kDefaultPageSize, profiles::kMaxPageSize);
  if (!Check(page.status(), res, ctx)) return;
  filter.after_id = page->after_id;
  filter.limit = page->limit;
  auto tasks = queries.ListTasks(filter);
  if (!Check(tasks.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& task : *tasks) items.push_back(TaskJson(task));
  json body = {{"items", std::move(items)}};
  body["next_after"] = tasks->size() == filter.limit ? IdJson(tasks->back().id) : json(nullptr);
  WriteJson(res, body);
}

void PatchTask(profiles::ProfileEditor& editor, const server::Request& req, server::Response& res,
               const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"status"}), res, ctx)) return;
  auto status_name = StringMember(*body, "status", 32);
  if (!Check(status_name.status(), res, ctx)) return;
  const auto status = model::ParseTaskStatus(*status_name);
  if (!status) {
    Check(core::InvalidArgumentError("status: must be open, done or cancelled"), res, ctx);
    return;
  }
  if (!Check(editor.SetTaskStatus(*id, *status), res, ctx)) return;
  WriteJson(res, json{{"id", IdJson(*id)}, {"status", model::TaskStatusName(*status)}});
}

}  // namespace

json CustomerJson(const model::Customer& c) {
  return json{{"id", IdJson(c.id)},
              {"stage", model::LifecycleStageName(c.stage)},
              {"stage_reason", c.stage_reason},
              {"stage_staff", c.stage_staff},
              {"owner_userid", c.owner_userid},
              {"channel", c.channel},
              {"attributes", c.attributes},
              {"first_interaction_at_ms", c.first_interaction_at_ms},
              {"last_interaction_at_ms", c.last_interaction_at_ms},
              {"counters",
               {{"interactions", c.counters.interactions},
                {"messages", c.counters.messages},
                {"events", c.counters.events},
                {"orders", c.counters.orders},
                {"paid_orders", c.counters.paid_orders}}},
              {"created_at_ms", c.created_at_ms},
              {"updated_at_ms", c.updated_at_ms},
              {"merged_into", IdJson(c.merged_into)}};
}

json CustomerViewJson(const profiles::CustomerView& view) {
  json body = CustomerJson(view.customer);
  json identities = json::array();
  for (const auto& identity : view.identities) identities.push_back(IdentityJson(identity));
  json tags = json::array();
  for (const auto& tag : view.tags) tags.push_back(TagViewJson(tag));
  json followers = json::array();
  for (const auto& follower : view.followers) followers.push_back(FollowerJson(follower));
  json tasks = json::array();
  for (const auto& task : view.tasks) tasks.push_back(TaskJson(task));
  json merges = json::array();
  for (const auto& merge : view.merges) merges.push_back(MergeJson(merge));
  body["identities"] = std::move(identities);
  body["tags"] = std::move(tags);
  body["followers"] = std::move(followers);
  body["tasks"] = std::move(tasks);
  body["merges"] = std::move(merges);
  return body;
}

void RegisterCustomerRoutes(ApiRouter& router, const CustomerRouteDeps& deps) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  const profiles::ProfileQueries* q = &deps.queries;
  profiles::IdentityService* i = &deps.identities;
  profiles::ProfileEditor* e = &deps.editor;
  router.Get("/api/v1/customers/by-identity", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { FindByIdentity(*q, req, res, ctx); });
  router.Get("/api/v1/customers/{id}", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { GetCustomer(*q, req, res, ctx); });
  router.Get("/api/v1/customers/{id}/timeline", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { GetTimeline(*q, req, res, ctx); });
  router.Get("/api/v1/customers", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { ListCustomers(*q, req, res, ctx); });
  router.Post("/api/v1/customers/{id}/tags", kCustomerTagWriters,
              [e](Req req, Res res, Ctx ctx) { AddTag(*e, req, res, ctx); });
  router.Delete("/api/v1/customers/{id}/tags", kCustomerTagWriters,
                [e](Req req, Res res, Ctx ctx) { RemoveTag(*e, req, res, ctx); });
  router.Post("/api/v1/customers/{id}/merge", kMergeWriters,
              [i](Req req, Res res, Ctx ctx) { MergeCustomers(*i, req, res, ctx); });
  router.Post("/api/v1/customers/{id}/identities", kMergeWriters,
              [i](Req req, Res res, Ctx ctx) { AddIdentity(*i, req, res, ctx); });
  router.Post("/api/v1/merges/{id}/undo", kMergeWriters,
              [i](Req req, Res res, Ctx ctx) { UndoMerge(*i, req, res, ctx); });
  router.Get("/api/v1/tasks", kAnyRole,
             [q](Req req, Res res, Ctx ctx) { ListTasks(*q, req, res, ctx); });
  router.Patch("/api/v1/tasks/{id}", kTaskWriters,
               [e](Req req, Res res, Ctx ctx) { PatchTask(*e, req, res, ctx); });
}

}  // namespace scrm::api
