// /api/v1/campaigns against a real HttpServer on loopback with a real SQLite file: the engine
// over the reference segment evaluator, customers made by real OA subscribe events. Roles,
// the approval rule through the API, stable error codes, the forecast before and after launch,
// the deliveries and the audit.
#include "src/api/campaign_routes.h"

#include <catch2/catch.hpp>

#include "tests/api/api_test_helpers.h"
#include "tests/support/segment_reference.h"

namespace scrm::api {
namespace {

using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;
using testing::Reply;

struct CampaignApiFixture {
  CampaignApiFixture() {
    for (model::Role role : {model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales,
                             model::Role::kReadonly}) {
      auto issued = IssueApiKey(keys, random, p.clock, std::string(model::RoleName(role)), role);
      REQUIRE(issued.ok());
      key[role] = issued->secret;
    }
    RegisterCampaignRoutes(router, {service, deliveries});
    segment_id = segments.Create({"all", "", "relation:any"}).value().id;
    storage::StoredTemplate row;
    row.name = "notice";
    row.channel = "oa_template";
    row.content_json = "{}";
    template_id = template_store.Insert(row).value().id;
    const core::Status started = http.Start();
    INFO(started.ToString());
    REQUIRE(started.ok());
  }
  ~CampaignApiFixture() { http.Stop(); }

  Reply Call(const std::string& method, const std::string& path, const json& body,
             model::Role role) {
    httplib::Headers headers{{"Authorization", "Bearer " + key.at(role)}};
    httplib::Client client("127.0.0.1", http.port());
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result = method == "GET" ? client.Get(path.c_str(), headers)
                             : method == "POST"
                                 ? client.Post(path.c_str(), headers, text, "application/json")
                                 : client.Put(path.c_str(), headers, text, "application/json");
    REQUIRE(result);
    Reply reply;
    reply.status = result->status;
    reply.body = json::parse(result->body, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    return reply;
  }

  // A subscriber of oa1 made by a real subscribe event, mirrored into the evaluator.
  int64_t Subscriber(const std::string& openid) {
    p.Apply(p.OaEvent(openid, model::InteractionKind::kSubscribe));
    segments::testing::CustomerFacts facts;
    facts.id = p.ByOpenid(openid);
    evaluator.Put(facts);
    return facts.id;
  }

  json CampaignBody() const {
    return json{{"name", "spring sale"},
                {"kind", "oa_template"},
                {"account_id", "oa1"},
                {"segment_id", std::to_string(segment_id)},
                {"template_id", std::to_string(template_id)},
                {"options", {{"frequency_cap", {{"max", 3}}}}}};
  }

  std::string Create() {
    auto r = Call("POST", "/api/v1/campaigns", CampaignBody(), model::Role::kMarketing);
    INFO(r.body.dump());
    REQUIRE(r.status == 201);
    return "/api/v1/campaigns/" + r.body["id"].get<std::string>();
  }

  profiles::testing::Fixture p;
  storage::ApiKeyStore keys{*p.db};
  storage::SegmentStore segment_store{*p.db};
  storage::TemplateStore template_store{*p.db};
  storage::CampaignStore campaign_store{*p.db};
  storage::DeliveryStore deliveries{*p.db};
  storage::CampaignAudienceStore audience{*p.db};
  segments::SegmentService segments{segment_store, p.clock};
  segments::testing::ReferenceEvaluator evaluator;
  campaigns::CampaignPlanner planner{segments,   segment_store, evaluator, audience,
                                     deliveries, p.clock,       {}};
  campaigns::CampaignService service{
      campaign_store,
      segment_store,
      template_store,
      planner,
      p.clock,
      campaigns::CampaignServiceOptions{true, {{"oa1", model::Platform::kOfficialAccount}}}};
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  Authenticator auth{keys, p.clock};
  std::map<model::Role, std::string> key;
  server::HttpServer http{testing::LoopbackOptions(), p.clock, random, core::MakeNullLogger(),
                          metrics};
  ApiRouter router{http, auth};
  int64_t segment_id = 0;
  int64_t template_id = 0;
};

TEST_CASE("campaigns go from draft to running through the API with approval and audit",
          "[integration]") {
  CampaignApiFixture f;
  const int64_t a = f.Subscriber("oCAMP1");
  f.Subscriber("oCAMP2");
  const std::string path = f.Create();
  auto got = f.Call("GET", path, nullptr, model::Role::kReadonly);
  REQUIRE(got.status == 200);
  CHECK(got.body["state"] == "draft");
  CHECK(got.body["created_by"] == "marketing");
  CHECK(got.body["options"]["frequency_cap"]["max"] == 3);

  auto forecast = f.Call("GET", path + "/forecast?limit=1", nullptr, model::Role::kSales);
  INFO(forecast.body.dump());
  REQUIRE(forecast.status == 200);
  CHECK(forecast.body["frozen"] == false);
  CHECK(forecast.body["audience"] == 2);
  CHECK(forecast.body["planned"] == 2);
  CHECK(forecast.body["planned_page"].size() == 1);
  CHECK(forecast.body["planned_page"][0]["customer_id"] == std::to_string(a));
  CHECK(forecast.body["by_sender"][0]["account_id"] == "oa1");

  CHECK(f.Call("POST", path + "/submit", nullptr, model::Role::kMarketing).status == 200);
  // Marketing cannot approve; admin can.
  CHECK(f.Call("POST", path + "/approve", nullptr, model::Role::kMarketing).status == 403);
  auto approved = f.Call("POST", path + "/approve", json{{"note", "ok"}}, model::Role::kAdmin);
  REQUIRE(approved.status == 200);
  CHECK(approved.body["approved_by"] == "admin");
  auto launched = f.Call("POST", path + "/launch", nullptr, model::Role::kMarketing);
  REQUIRE(launched.status == 200);
  CHECK(launched.body["state"] == "running");

  auto rows =
      f.Call("GET", path + "/deliveries?state=planned&limit=1", nullptr, model::Role::kReadonly);
  REQUIRE(rows.status == 200);
  REQUIRE(rows.body["deliveries"].size() == 1);
  CHECK(rows.body["next_after"].is_string());
  auto frozen = f.Call("GET", path + "/forecast", nullptr, model::Role::kReadonly);
  REQUIRE(frozen.status == 200);
  CHECK(frozen.body["frozen"] == true);
  CHECK(frozen.body["planned"] == 2);

  auto audit = f.Call("GET", path + "/audit", nullptr, model::Role::kReadonly);
  REQUIRE(audit.status == 200);
  REQUIRE(audit.body["audit"].size() == 4);
  CHECK(audit.body["audit"][2]["actor"] == "admin");
  CHECK(audit.body["audit"][2]["note"] == "ok");
  CHECK(audit.body["audit"][3]["to_state"] == "running");
}

TEST_CASE("campaigns answer stable error codes for illegal moves, stale versions and roles",
          "[integration]") {
  CampaignApiFixture f;
  const std::string path = f.Create();
  auto launch = f.Call("POST", path + "/launch", nullptr, model::Role::kMarketing);
  CHECK(launch.status == 400);
  CHECK(ErrorCode(launch) == "failed_precondition");
  CHECK(ErrorMessage(launch) == "campaign is draft: cannot launch");

  json edit = f.CampaignBody();
  edit["name"] = "renamed";
  edit["version"] = 1;
  auto updated = f.Call("PUT", path, edit, model::Role::kMarketing);
  REQUIRE(updated.status == 200);
  CHECK(updated.body["version"] == 2);
  auto stale = f.Call("PUT", path, edit, model::Role::kMarketing);
  CHECK(ErrorCode(stale) == "failed_precondition");

  // An admin who created a campaign cannot approve it.
  auto own = f.Call("POST", "/api/v1/campaigns", f.CampaignBody(), model::Role::kAdmin);
  REQUIRE(own.status == 201);
  const std::string own_path = "/api/v1/campaigns/" + own.body["id"].get<std::string>();
  REQUIRE(f.Call("POST", own_path + "/submit", nullptr, model::Role::kAdmin).status == 200);
  auto self = f.Call("POST", own_path + "/approve", nullptr, model::Role::kAdmin);
  CHECK(self.status == 403);
  CHECK(ErrorCode(self) == "permission_denied");

  for (model::Role role : {model::Role::kSales, model::Role::kReadonly}) {
    CHECK(f.Call("POST", "/api/v1/campaigns", f.CampaignBody(), role).status == 403);
    CHECK(f.Call("POST", path + "/submit", nullptr, role).status == 403);
    CHECK(f.Call("GET", "/api/v1/campaigns", nullptr, role).status == 200);
  }
  json bad = f.CampaignBody();
  bad["kind"] = "sms";
  auto wrong_kind = f.Call("POST", "/api/v1/campaigns", bad, model::Role::kMarketing);
  CHECK(ErrorCode(wrong_kind) == "invalid_argument");
  CHECK(ErrorMessage(wrong_kind).starts_with("kind: "));
  bad = f.CampaignBody();
  bad["surprise"] = 1;
  CHECK(ErrorMessage(f.Call("POST", "/api/v1/campaigns", bad, model::Role::kMarketing)) ==
        "surprise: unknown member");
  CHECK(f.Call("GET", "/api/v1/campaigns/999", nullptr, model::Role::kReadonly).status == 404);
  CHECK(f.Call("GET", "/api/v1/campaigns?state=nope", nullptr, model::Role::kReadonly).status ==
        400);
}

}  // namespace
}  // namespace scrm::api
