// /api/v1/segments against a real HttpServer on loopback with a real SQLite file, the segment
// service, and the reference evaluator (tests/support/segment_reference.h) standing in for the
// bitmap index: roles, validation errors with positions, CAS on the version, delete refused
// while referenced, customers pages and the explain output.
#include "src/api/segment_routes.h"

#include <catch2/catch.hpp>

#include "tests/api/api_test_helpers.h"
#include "tests/support/segment_reference.h"

namespace scrm::api {
namespace {

using segments::testing::CustomerFacts;
using segments::testing::FollowerFact;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;
using testing::Reply;

// An evaluator that cannot answer yet (the index still building, or not wired).
class UnreadySegmentIndex final : public segments::SegmentEvaluator {
 public:
  core::StatusOr<segments::Evaluation> Evaluate(const segments::Query&, int64_t, int64_t,
                                                size_t) const override {
    return core::UnavailableError("the segment index is not built");
  }
  core::StatusOr<segments::Explanation> Explain(const segments::Query&, int64_t,
                                                int64_t) const override {
    return core::UnavailableError("the segment index is not built");
  }
};

// The ApiFixture's wiring with the segment routes instead of the customer routes; over the
// reference evaluator, or one that is not ready.
struct SegmentApiFixture {
  explicit SegmentApiFixture(bool index_ready = true) {
    for (model::Role role : {model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales,
                             model::Role::kReadonly}) {
      auto issued = IssueApiKey(keys, random, p.clock, std::string(model::RoleName(role)), role);
      REQUIRE(issued.ok());
      key[role] = issued->secret;
    }
    const segments::SegmentEvaluator& used =
        index_ready ? static_cast<const segments::SegmentEvaluator&>(evaluator) : unready;
    RegisterSegmentRoutes(router, {segments, used, p.service.queries, p.clock});
    const core::Status started = http.Start();
    INFO(started.ToString());
    REQUIRE(started.ok());
  }
  ~SegmentApiFixture() { http.Stop(); }

  Reply Call(const std::string& method, const std::string& path, const json& body = nullptr,
             model::Role role = model::Role::kAdmin) {
    httplib::Headers headers{{"Authorization", "Bearer " + key.at(role)}};
    httplib::Client client("127.0.0.1", http.port());
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result =
        method == "GET"    ? client.Get(path.c_str(), headers)
        : method == "POST" ? client.Post(path.c_str(), headers, text, "application/json")
        : method == "PUT"  ? client.Put(path.c_str(), headers, text, "application/json")
                           : client.Delete(path.c_str(), headers);
    REQUIRE(result);
    Reply reply;
    reply.status = result->status;
    reply.body = json::parse(result->body, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    return reply;
  }

  // A real OA follower (so the customer routes' JSON has a profile to show), with these facts
  // in the evaluator.
  int64_t Follower(const std::string& openid, CustomerFacts facts) {
    p.Apply(p.OaEvent(openid, model::InteractionKind::kSubscribe));
    facts.id = p.ByOpenid(openid);
    if (facts.followers.empty()) facts.followers = {FollowerFact{"oa1", "", {}}};
    evaluator.Put(facts);
    return facts.id;
  }

  int64_t Create(const std::string& name, const std::string& query) {
    auto r = Call("POST", "/api/v1/segments", json{{"name", name}, {"query", query}},
                  model::Role::kMarketing);
    INFO(r.body.dump());
    REQUIRE(r.status == 201);
    return testing::ApiId(r.body["id"]);
  }

  profiles::testing::Fixture p;
  storage::ApiKeyStore keys{*p.db};
  storage::SegmentStore segment_store{*p.db};
  segments::SegmentService segments{segment_store, p.clock};
  segments::testing::ReferenceEvaluator evaluator;
  UnreadySegmentIndex unready;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  Authenticator auth{keys, p.clock};
  std::map<model::Role, std::string> key;
  server::HttpServer http{testing::LoopbackOptions(), p.clock, random, core::MakeNullLogger(),
                          metrics};
  ApiRouter router{http, auth};
};

CustomerFacts Owned(const std::string& owner) {
  CustomerFacts facts;
  facts.owner = owner;
  facts.stage = model::LifecycleStage::kEngaged;
  return facts;
}

TEST_CASE("segments preview answers the count, a first page of customers and the time",
          "[integration]") {
  SegmentApiFixture f;
  const int64_t a = f.Follower("oA", Owned("zhangsan"));
  f.Follower("oB", Owned("lisi"));
  const int64_t c = f.Follower("oC", Owned("zhangsan"));
  auto r = f.Call("POST", "/api/v1/segments/preview",
                  json{{"query", "owner:zhangsan"}, {"limit", 1}}, model::Role::kReadonly);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  CHECK(r.body["count"] == 2);
  REQUIRE(r.body["customers"].size() == 1);
  CHECK(r.body["customers"][0]["id"] == std::to_string(a));
  CHECK(r.body["customers"][0]["stage"] == "new");  // the profile as stored, not the facts
  CHECK(r.body["next_after"] == std::to_string(a));
  CHECK(r.body["eval_ms"].is_number());
  auto all = f.Call("POST", "/api/v1/segments/preview", json{{"query", "owner:zhangsan"}});
  REQUIRE(all.body["customers"].size() == 2);
  CHECK(all.body["customers"][1]["id"] == std::to_string(c));
  CHECK(all.body["next_after"].is_null());
  auto next = f.Call("POST", "/api/v1/segments/preview",
                     json{{"query", "owner:zhangsan"}, {"after", std::to_string(a)}});
  REQUIRE(next.body["customers"].size() == 1);
  CHECK(next.body["customers"][0]["id"] == std::to_string(c));
  CHECK(next.body["count"] == 2);
  auto count_only =
      f.Call("POST", "/api/v1/segments/preview", json{{"query", "owner:zhangsan"}, {"limit", 0}});
  CHECK(count_only.body["count"] == 2);
  CHECK(count_only.body["customers"].empty());
}

TEST_CASE("segments preview refuses a bad query naming the position", "[integration]") {
  SegmentApiFixture f;
  auto r =
      f.Call("POST", "/api/v1/segments/preview", json{{"query", "tag_score:\"意向/价格咨询\""}});
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "invalid_argument");
  CHECK(ErrorMessage(r) ==
        "query: at 31: expected a comparison (<, <=, >, >=, =, !=) after "
        "tag_score:\"意向/价格咨询\", found end of query");
  r = f.Call("POST", "/api/v1/segments/preview", json{{"query", "segment:ghost"}});
  CHECK(ErrorMessage(r) == "query: at 0: no saved segment named \"ghost\"");
  r = f.Call("POST", "/api/v1/segments/preview", json{{"query", "stage:new"}, {"limit", 201}});
  CHECK(ErrorMessage(r) == "limit: must be an integer in 0..200");
  r = f.Call("POST", "/api/v1/segments/preview", json{{"query", "stage:new"}, {"qeury", 1}});
  CHECK(ErrorMessage(r) == "qeury: unknown member");
  r = f.Call("POST", "/api/v1/segments/preview", json{{"query", std::string(4097, 'x')}});
  CHECK(ErrorMessage(r) == "query: must be 1..4096 bytes");
}

TEST_CASE("segments are written by admin and marketing and read by every role", "[integration]") {
  SegmentApiFixture f;
  const json body = {{"name", "vip"}, {"query", "stage:customer"}};
  for (model::Role role : {model::Role::kSales, model::Role::kReadonly}) {
    CHECK(f.Call("POST", "/api/v1/segments", body, role).status == 403);
  }
  const int64_t id = f.Create("vip", "stage:customer");
  const std::string path = "/api/v1/segments/" + std::to_string(id);
  for (model::Role role : {model::Role::kSales, model::Role::kReadonly}) {
    CHECK(f.Call("PUT", path, body, role).status == 403);
    CHECK(f.Call("DELETE", path, nullptr, role).status == 403);
    CHECK(f.Call("GET", path, nullptr, role).status == 200);
    CHECK(f.Call("GET", "/api/v1/segments", nullptr, role).status == 200);
    CHECK(f.Call("GET", path + "/versions", nullptr, role).status == 200);
    CHECK(f.Call("GET", path + "/customers", nullptr, role).status == 200);
  }
  CHECK(f.Call("PUT", path, body, model::Role::kAdmin).status == 200);
  CHECK(f.Call("DELETE", path, nullptr, model::Role::kMarketing).status == 200);
}

TEST_CASE("segments answer live counts and version with compare-and-set", "[integration]") {
  SegmentApiFixture f;
  f.Follower("oA", Owned("zhangsan"));
  f.Follower("oB", Owned("lisi"));
  auto created =
      f.Call("POST", "/api/v1/segments",
             json{{"name", "张三的客户"}, {"description", "d"}, {"query", "owner:zhangsan"}});
  REQUIRE(created.status == 201);
  CHECK(created.body["version"] == 1);
  CHECK(created.body["count"] == 1);
  CHECK(created.body["description"] == "d");
  const std::string path = "/api/v1/segments/" + created.body["id"].get<std::string>();

  auto updated = f.Call(
      "PUT", path,
      json{{"name", "张三的客户"}, {"query", "owner:zhangsan or owner:lisi"}, {"version", 1}});
  REQUIRE(updated.status == 200);
  CHECK(updated.body["version"] == 2);
  CHECK(updated.body["count"] == 2);
  CHECK(updated.body["description"] == "");

  auto stale = f.Call("PUT", path, json{{"name", "x"}, {"query", "stage:new"}, {"version", 1}});
  CHECK(stale.status == 400);
  CHECK(ErrorCode(stale) == "failed_precondition");
  CHECK(ErrorMessage(stale).starts_with("version: segment "));

  auto list = f.Call("GET", "/api/v1/segments");
  REQUIRE(list.body["segments"].size() == 1);
  CHECK(list.body["segments"][0]["count"] == 2);
  CHECK(list.body["segments"][0]["version"] == 2);
  auto versions = f.Call("GET", path + "/versions");
  REQUIRE(versions.body["versions"].size() == 2);
  CHECK(versions.body["versions"][0]["query"] == "owner:zhangsan");

  auto bad = f.Call("PUT", path, json{{"name", "x"}, {"query", "owner:zhangsan or"}});
  CHECK(bad.status == 400);
  CHECK(ErrorMessage(bad) ==
        "query: at 17: expected a predicate, \"(\" or \"not\", found end of query");
  auto taken =
      f.Call("POST", "/api/v1/segments", json{{"name", "张三的客户"}, {"query", "stage:new"}});
  CHECK(taken.status == 409);
  CHECK(ErrorCode(taken) == "already_exists");
  CHECK(f.Call("GET", "/api/v1/segments/999").status == 404);
  CHECK(f.Call("PUT", "/api/v1/segments/999", json{{"name", "x"}, {"query", "stage:new"}}).status ==
        404);
}

TEST_CASE("segments refuse to delete one another segment refers to", "[integration]") {
  SegmentApiFixture f;
  const int64_t base = f.Create("base", "stage:customer");
  f.Create("derived", "segment:base and owner:zhangsan");
  auto refused = f.Call("DELETE", "/api/v1/segments/" + std::to_string(base));
  CHECK(refused.status == 400);
  CHECK(ErrorCode(refused) == "failed_precondition");
  CHECK(ErrorMessage(refused).starts_with("cannot delete segment \"base\": segment \"derived\""));
  CHECK(f.Call("GET", "/api/v1/segments/" + std::to_string(base)).status == 200);
}

TEST_CASE("segment customers page through the members", "[integration]") {
  SegmentApiFixture f;
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(f.Follower("o" + std::to_string(i), Owned("z")));
  const int64_t id = f.Create("z", "owner:z");
  const std::string path = "/api/v1/segments/" + std::to_string(id) + "/customers";
  auto first = f.Call("GET", path + "?limit=2", nullptr, model::Role::kSales);
  REQUIRE(first.status == 200);
  CHECK(first.body["count"] == 5);
  REQUIRE(first.body["items"].size() == 2);
  CHECK(first.body["items"][1]["id"] == std::to_string(ids[1]));
  CHECK(first.body["next_after"] == std::to_string(ids[1]));
  auto rest = f.Call("GET", path + "?limit=10&after=" + std::to_string(ids[1]));
  REQUIRE(rest.body["items"].size() == 3);
  CHECK(rest.body["next_after"].is_null());
  CHECK(ErrorMessage(f.Call("GET", path + "?limit=201")).starts_with("limit: "));
}

TEST_CASE("segment explain shows each clause as written, met or not", "[integration]") {
  SegmentApiFixture f;
  CustomerFacts facts = Owned("zhangsan");
  facts.attributes = {{"city", "杭州"}};
  const int64_t customer = f.Follower("oX", facts);
  f.Create("hz", "attr:city = \"杭州\"");
  const int64_t id = f.Create("hz-li", "segment:hz and  owner:lisi");
  auto r = f.Call(
      "GET",
      "/api/v1/segments/" + std::to_string(id) + "/explain?customer=" + std::to_string(customer),
      nullptr, model::Role::kReadonly);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  CHECK(r.body["segment_id"] == std::to_string(id));
  CHECK(r.body["customer_id"] == std::to_string(customer));
  CHECK(r.body["matches"] == false);
  const json expected = json::array({
      {{"clause", "attr:city = \"杭州\""}, {"segment", "hz"}, {"implicit", false}, {"met", true}},
      {{"clause", "relation:connected"}, {"segment", "hz"}, {"implicit", false}, {"met", true}},
      {{"clause", "owner:lisi"}, {"segment", nullptr}, {"implicit", false}, {"met", false}},
      {{"clause", "relation:connected"}, {"segment", nullptr}, {"implicit", true}, {"met", true}},
  });
  CHECK(r.body["clauses"] == expected);

  const std::string path = "/api/v1/segments/" + std::to_string(id) + "/explain";
  CHECK(ErrorMessage(f.Call("GET", path)) == "customer: required, a customer id");
  CHECK(f.Call("GET", path + "?customer=abc").status == 400);
  CHECK(f.Call("GET", path + "?customer=987654").status == 404);
  CHECK(f.Call("GET", "/api/v1/segments/999/explain?customer=1").status == 404);
}

TEST_CASE("segments are saved and listed while the index is not ready, counts null",
          "[integration]") {
  SegmentApiFixture f(/*index_ready=*/false);
  const int64_t id = f.Create("vip", "stage:customer");
  auto list = f.Call("GET", "/api/v1/segments");
  REQUIRE(list.status == 200);
  REQUIRE(list.body["segments"].size() == 1);
  CHECK(list.body["segments"][0]["count"].is_null());
  CHECK(list.body["segments"][0]["count_error"] == "the segment index is not built");
  auto preview = f.Call("POST", "/api/v1/segments/preview", json{{"query", "stage:new"}});
  CHECK(preview.status == 503);
  CHECK(ErrorCode(preview) == "unavailable");
  CHECK(f.Call("GET", "/api/v1/segments/" + std::to_string(id) + "/customers").status == 503);
}

}  // namespace
}  // namespace scrm::api
