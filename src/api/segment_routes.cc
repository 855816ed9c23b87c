#include "src/api/segment_routes.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "campaigns/segments/parser.h"
#include "src/api/api_json.h"
#include "src/api/customer_routes.h"

namespace scrm::api {
namespace {

using nlohmann::json;
using segments::CompiledQuery;
using storage::StoredSegment;

constexpr int64_t kDefaultPreviewLimit = 20;
constexpr int64_t kDefaultPageLimit = 50;
// Each customer of a page is one profile read (ProfileQueries::GetCustomer).
constexpr size_t kMaxSegmentPage = 200;

struct Deps {
  segments::SegmentService& segments;
  const segments::SegmentEvaluator& evaluator;
  const profiles::ProfileQueries& queries;
  const core::Clock& clock;
};

json SegmentJson(const StoredSegment& s) {
  return json{{"id", IdJson(s.id)},
              {"name", s.name},
              {"description", s.description},
              {"query", s.query},
              {"version", s.version},
              {"created_at_ms", s.created_at_ms},
              {"updated_at_ms", s.updated_at_ms}};
}

int64_t NowMs(const Deps& d) { return d.clock.NowUnixMillis(); }

double EvalMs(const segments::Evaluation& e) { return static_cast<double>(e.eval_us) / 1000.0; }

// The segment with its live count; a segment whose count cannot be computed now (its query no
// longer compiles, the evaluator refused it) answers "count": null and "count_error".
// `live`: the live segments when the caller read them already (a list), else null.
json SegmentWithCount(const Deps& d, const StoredSegment& s,
                      const std::vector<StoredSegment>* live = nullptr) {
  json body = SegmentJson(s);
  auto compiled = live != nullptr ? segments::SegmentService::Compile(s.query, *live)
                                  : d.segments.Compile(s.query);
  core::Status status = compiled.status();
  if (compiled.ok()) {
    auto evaluation = d.evaluator.Evaluate(compiled->query, NowMs(d), 0, 0);
    if (evaluation.ok()) {
      body["count"] = evaluation->count;
      return body;
    }
    status = evaluation.status();
  }
  body["count"] = nullptr;
  body["count_error"] = status.message();
  return body;
}

// A page of customers as GET /api/v1/customers lists them; one that went away between the
// evaluation and the read (merged, say) is left out.
core::StatusOr<json> CustomersJson(const Deps& d, const std::vector<int64_t>& ids) {
  json items = json::array();
  for (const int64_t id : ids) {
    auto view = d.queries.GetCustomer(id);
    if (view.status().code() == core::StatusCode::kNotFound) continue;
    if (!view.ok()) return view.status();
    items.push_back(CustomerJson(view->customer));
  }
  return items;
}

// An integer member in [min, max]; fallback when absent or null.
core::StatusOr<int64_t> IntMember(const json& body, const std::string& name, int64_t fallback,
                                  int64_t min, int64_t max) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    return core::InvalidArgumentError(name + ": must be an integer in " + std::to_string(min) +
                                      ".." + std::to_string(max));
  }
  return it->get<int64_t>();
}

// {"name", "description"?, "query"} (and "version"? for PUT).
core::StatusOr<segments::SegmentInput> InputOf(const json& body) {
  segments::SegmentInput input;
  SCRM_ASSIGN_OR_RETURN(input.name, StringMember(body, "name", segments::kMaxSegmentNameBytes));
  SCRM_ASSIGN_OR_RETURN(input.query, StringMember(body, "query", segments::kMaxQueryBytes));
  if (const auto it = body.find("description"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return core::InvalidArgumentError("description: must be a string");
    input.description = it->get<std::string>();
  }
  return input;
}

void Preview(const Deps& d, const server::Request& req, server::Response& res,
             const ApiContext& ctx) {
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"query", "limit", "after"}), res, ctx)) return;
  auto text = StringMember(*body, "query", segments::kMaxQueryBytes);
  if (!Check(text.status(), res, ctx)) return;
  auto limit = IntMember(*body, "limit", kDefaultPreviewLimit, 0, kMaxSegmentPage);
  if (!Check(limit.status(), res, ctx)) return;
  auto after = IdMember(*body, "after", 0);
  if (!Check(after.status(), res, ctx)) return;
  auto compiled = d.segments.Compile(*text);
  if (!compiled.ok()) {
    Check(core::Status(compiled.status().code(), "query: " + compiled.status().message()), res,
          ctx);
    return;
  }
  const int64_t now_ms = NowMs(d);
  auto evaluation = d.evaluator.Evaluate(compiled->query, now_ms, after->value_or(0),
                                         static_cast<size_t>(*limit));
  if (!Check(evaluation.status(), res, ctx)) return;
  auto customers = CustomersJson(d, evaluation->page);
  if (!Check(customers.status(), res, ctx)) return;
  WriteJson(res, json{{"count", evaluation->count},
                      {"customers", std::move(*customers)},
                      {"next_after", evaluation->next_after != 0 ? IdJson(evaluation->next_after)
                                                                 : json(nullptr)},
                      {"eval_ms", EvalMs(*evaluation)},
                      {"evaluated_at_ms", now_ms}});
}

void ListSegments(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto list = d.segments.List();
  if (!Check(list.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& s : *list) items.push_back(SegmentWithCount(d, s, &*list));
  WriteJson(res, json{{"segments", std::move(items)}});
}

void GetSegment(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto segment = d.segments.Get(*id);
  if (!Check(segment.status(), res, ctx)) return;
  WriteJson(res, SegmentWithCount(d, *segment));
}

void CreateSegment(const Deps& d, const server::Request& req, server::Response& res,
                   const ApiContext& ctx) {
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"name", "description", "query"}), res, ctx)) return;
  auto input = InputOf(*body);
  if (!Check(input.status(), res, ctx)) return;
  auto created = d.segments.Create(*input);
  if (!Check(created.status(), res, ctx)) return;
  WriteJson(res, SegmentWithCount(d, *created), 201);
}

void UpdateSegment(const Deps& d, const server::Request& req, server::Response& res,
                   const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"id", "name", "description", "query", "version"}), res, ctx)) {
    return;
  }
  auto input = InputOf(*body);
  if (!Check(input.status(), res, ctx)) return;
  // A "version" is the version the client read: saving over a newer one would lose someone
  // else's change.
  auto version = IntMember(*body, "version", 0, 1, INT32_MAX);
  if (!Check(version.status(), res, ctx)) return;
  std::optional<int> expected;
  if (*version != 0) expected = static_cast<int>(*version);
  auto updated = d.segments.Update(*id, *input, expected);
  if (!Check(updated.status(), res, ctx)) return;
  WriteJson(res, SegmentWithCount(d, *updated));
}

void DeleteSegment(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  if (!Check(d.segments.Delete(*id), res, ctx)) return;
  WriteJson(res, json{{"id", IdJson(*id)}, {"deleted", true}});
}

void ListVersions(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto versions = d.segments.ListVersions(*id);
  if (!Check(versions.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& s : *versions) items.push_back(SegmentJson(s));
  WriteJson(res, json{{"versions", std::move(items)}});
}

// The saved segment's query, compiled. A saved query that no longer compiles is the stored
// data's fault, not the request's: FailedPrecondition.
core::StatusOr<std::pair<StoredSegment, CompiledQuery>> CompiledSegment(const Deps& d, int64_t id) {
  SCRM_ASSIGN_OR_RETURN(StoredSegment segment, d.segments.Get(id));
  auto compiled = d.segments.Compile(segment.query);
  if (!compiled.ok()) {
    return core::FailedPreconditionError(
        "segment " + std::to_string(id) +
        ": its query no longer compiles: " + compiled.status().message());
  }
  return std::make_pair(std::move(segment), std::move(compiled).value());
}

void ListSegmentCustomers(const Deps& d, const server::Request& req, server::Response& res,
                          const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto page = PageParamsOf(req, kDefaultPageLimit, kMaxSegmentPage);
  if (!Check(page.status(), res, ctx)) return;
  auto segment = CompiledSegment(d, *id);
  if (!Check(segment.status(), res, ctx)) return;
  const int64_t now_ms = NowMs(d);
  auto evaluation =
      d.evaluator.Evaluate(segment->second.query, now_ms, page->after_id, page->limit);
  if (!Check(evaluation.status(), res, ctx)) return;
  auto customers = CustomersJson(d, evaluation->page);
  if (!Check(customers.status(), res, ctx)) return;
  WriteJson(res, json{{"segment_id", IdJson(*id)},
                      {"count", evaluation->count},
                      {"items", std::move(*customers)},
                      {"next_after", evaluation->next_after != 0 ? IdJson(evaluation->next_after)
                                                                 : json(nullptr)},
                      {"eval_ms", EvalMs(*evaluation)},
                      {"evaluated_at_ms", now_ms}});
}

void Explain(const Deps& d, const server::Request& req, server::Response& res,
             const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  if (!req.HasParam("customer")) {
    Check(core::InvalidArgumentError("customer: required, a customer id"), res, ctx);
    return;
  }
  auto customer = IdParam(req, "customer", 0);
  if (!Check(customer.status(), res, ctx)) return;
  auto segment = CompiledSegment(d, *id);
  if (!Check(segment.status(), res, ctx)) return;
  const CompiledQuery& compiled = segment->second;
  const int64_t now_ms = NowMs(d);
  auto explanation = d.evaluator.Explain(compiled.query, *customer, now_ms);
  if (!Check(explanation.status(), res, ctx)) return;
  // The clauses in tree order, then the implicit relation:connected of the default audience
  // (len 0, wherever the evaluator put it; docs/segments.md).
  json clauses = json::array();
  json implicit = json::array();
  for (const auto& outcome : explanation->clauses) {
    if (outcome.len == 0) {
      implicit.push_back(json{{"clause", "relation:connected"},
                              {"segment", nullptr},
                              {"implicit", true},
                              {"met", outcome.met}});
      continue;
    }
    const bool in_text = outcome.pos + outcome.len <= compiled.query.text.size();
    const std::string from = compiled.SegmentAt(outcome.pos);
    clauses.push_back(
        json{{"clause", in_text ? compiled.query.text.substr(outcome.pos, outcome.len) : ""},
             {"segment", from.empty() ? json(nullptr) : json(from)},
             {"implicit", false},
             {"met", outcome.met}});
  }
  for (auto& clause : implicit) clauses.push_back(std::move(clause));
  WriteJson(res, json{{"segment_id", IdJson(*id)},
                      {"customer_id", IdJson(*customer)},
                      {"matches", explanation->matches},
                      {"clauses", std::move(clauses)},
                      {"evaluated_at_ms", now_ms}});
}

}  // namespace

void RegisterSegmentRoutes(ApiRouter& router, const SegmentRouteDeps& deps) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  // Copied into each handler: references to the services, which outlive the server.
  const Deps d{deps.segments, deps.evaluator, deps.queries, deps.clock};
  router.Post("/api/v1/segments/preview", kAnyRole,
              [d](Req req, Res res, Ctx ctx) { Preview(d, req, res, ctx); });
  router.Get("/api/v1/segments", kAnyRole,
             [d](Req, Res res, Ctx ctx) { ListSegments(d, res, ctx); });
  router.Post("/api/v1/segments", kSegmentWriters,
              [d](Req req, Res res, Ctx ctx) { CreateSegment(d, req, res, ctx); });
  router.Get("/api/v1/segments/{id}", kAnyRole,
             [d](Req, Res res, Ctx ctx) { GetSegment(d, res, ctx); });
  router.Put("/api/v1/segments/{id}", kSegmentWriters,
             [d](Req req, Res res, Ctx ctx) { UpdateSegment(d, req, res, ctx); });
  router.Delete("/api/v1/segments/{id}", kSegmentWriters,
                [d](Req, Res res, Ctx ctx) { DeleteSegment(d, res, ctx); });
  router.Get("/api/v1/segments/{id}/versions", kAnyRole,
             [d](Req, Res res, Ctx ctx) { ListVersions(d, res, ctx); });
  router.Get("/api/v1/segments/{id}/customers", kAnyRole,
             [d](Req req, Res res, Ctx ctx) { ListSegmentCustomers(d, req, res, ctx); });
  router.Get("/api/v1/segments/{id}/explain", kAnyRole,
             [d](Req req, Res res, Ctx ctx) { Explain(d, req, res, ctx); });
}

}  // namespace scrm::api
