// /api/v1/templates against a real HttpServer on loopback with a real SQLite file: roles,
// versions with compare-and-set, errors that name the field and variable, the preview of a real
// customer built through the profile service, and seeding from the templates folder.
#include "src/api/template_routes.h"

#include <catch2/catch.hpp>

#include "campaigns/render/template_files.h"
#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using testing::ApiFixture;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;

json WelcomeBody(const std::string& text = "{{customer.name}}您好，我是{{owner.name}}") {
  json link = {{"title", "{{attr.city}}门店"},
               {"url", "https://shop.example.com/s?city={{attr.city}}"}};
  json attachment = {{"msgtype", "link"}, {"link", link}};
  json content = {{"text", {{"content", text}}}, {"attachments", json::array({attachment})}};
  return json{{"name", "welcome-test"}, {"channel", "wecom_message"}, {"content", content}};
}

// A WeCom contact added by zhangsan, then enriched: name and city attributes and a manual tag.
int64_t MakeTemplateCustomer(ApiFixture& f) {
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmTPL1", "zhangsan"));
  const int64_t id = f.p.ByExternal("wmTPL1");
  REQUIRE(f.p.service.editor.SetAttributes(id, {{"wecom.name", "李四"}, {"city", "杭州"}}).ok());
  REQUIRE(f.p.service.editor.AddManualTag(id, model::TagRef{"兴趣", "产品A"}, 3).ok());
  return id;
}

TEST_CASE("templates create, update and read versions when the version matches", "[integration]") {
  ApiFixture f;
  auto created = f.Call("POST", "/api/v1/templates", WelcomeBody(), model::Role::kMarketing);
  INFO(created.body.dump());
  REQUIRE(created.status == 201);
  const int64_t id = testing::ApiId(created.body["id"]);
  CHECK(created.body["id"].is_string());
  CHECK(created.body["version"] == 1);
  CHECK(created.body["source"] == "api");
  CHECK(created.body["variables"] == json{"attr.city", "customer.name", "owner.name"});
  const std::string path = "/api/v1/templates/" + std::to_string(id);

  json changed = WelcomeBody("{{customer.name}}，欢迎");
  changed["version"] = 1;
  auto updated = f.Call("PUT", path, changed, model::Role::kAdmin);
  REQUIRE(updated.status == 200);
  CHECK(updated.body["version"] == 2);
  CHECK(updated.body["content"]["text"]["content"] == "{{customer.name}}，欢迎");

  // A client that read version 1 saves over version 2: refused, nothing stored.
  auto stale = f.Call("PUT", path, changed, model::Role::kMarketing);
  CHECK(stale.status == 400);
  CHECK(ErrorCode(stale) == "failed_precondition");
  CHECK(ErrorMessage(stale) == "version: the template is at version 2, not 1");

  auto v1 = f.Call("GET", path + "?version=1", nullptr, model::Role::kReadonly);
  REQUIRE(v1.status == 200);
  CHECK(v1.body["content"]["text"]["content"] == "{{customer.name}}您好，我是{{owner.name}}");
  auto versions = f.Call("GET", path + "/versions", nullptr, model::Role::kSales);
  REQUIRE(versions.status == 200);
  REQUIRE(versions.body["versions"].size() == 2);
  CHECK(versions.body["versions"][1]["version"] == 2);
  auto list = f.Call("GET", "/api/v1/templates", nullptr, model::Role::kReadonly);
  REQUIRE(list.status == 200);
  REQUIRE(list.body["templates"].size() == 1);
  CHECK(list.body["templates"][0]["version"] == 2);
  CHECK(f.Call("GET", path + "?version=9").status == 404);
  CHECK(f.Call("GET", "/api/v1/templates/999").status == 404);
}

TEST_CASE("templates writes are refused to sales and readonly keys", "[integration]") {
  ApiFixture f;
  for (model::Role role : {model::Role::kSales, model::Role::kReadonly}) {
    auto reply = f.Call("POST", "/api/v1/templates", WelcomeBody(), role);
    CHECK(reply.status == 403);
    CHECK(ErrorCode(reply) == "permission_denied");
  }
  auto created = f.Call("POST", "/api/v1/templates", WelcomeBody(), model::Role::kMarketing);
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/templates/" + created.body["id"].get<std::string>();
  CHECK(f.Call("PUT", path, WelcomeBody(), model::Role::kSales).status == 403);
  CHECK(f.Call("GET", path, nullptr, model::Role::kSales).status == 200);
  CHECK(f.CallWithSecret("GET", path, "").status == 401);
}

TEST_CASE("templates refuse an unknown variable naming it and a taken name", "[integration]") {
  ApiFixture f;
  auto bad = f.Call("POST", "/api/v1/templates", WelcomeBody("您好 {{custmer.name}}"));
  CHECK(bad.status == 400);
  CHECK(ErrorCode(bad) == "invalid_argument");
  CHECK(ErrorMessage(bad) == "content.text.content: unknown variable {{custmer.name}} at byte 7");
  auto too_long = f.Call("POST", "/api/v1/templates", WelcomeBody(std::string(4001, 'x')));
  CHECK(too_long.status == 400);
  CHECK(ErrorMessage(too_long) == "content.text.content: 4001 bytes, at most 4000");
  auto unknown_member = WelcomeBody();
  unknown_member["colour"] = "red";
  CHECK(ErrorMessage(f.Call("POST", "/api/v1/templates", unknown_member)) ==
        "colour: unknown member");
  auto with_id = WelcomeBody();
  with_id["id"] = "5";
  CHECK(ErrorMessage(f.Call("POST", "/api/v1/templates", with_id)) ==
        "id: assigned by the server, leave it out");
  auto first = f.Call("POST", "/api/v1/templates", WelcomeBody());
  REQUIRE(first.status == 201);
  auto other_id = WelcomeBody();
  other_id["id"] = "999";
  CHECK(ErrorMessage(f.Call("PUT", "/api/v1/templates/" + first.body["id"].get<std::string>(),
                            other_id)) == "id: does not match the template in the path");
  auto taken = f.Call("POST", "/api/v1/templates", WelcomeBody());
  CHECK(taken.status == 409);
  CHECK(ErrorCode(taken) == "already_exists");
  CHECK(f.Call("GET", "/api/v1/templates").body["templates"].size() == 1);
}

TEST_CASE("templates preview renders for a real customer with samples for placeholders",
          "[integration]") {
  ApiFixture f;
  const int64_t customer = MakeTemplateCustomer(f);
  json body = WelcomeBody(
      "{{customer.name}}您好，我是{{owner.name}}。{{#tag.兴趣/产品A.held}}产品A得分"
      "{{tag.兴趣/产品A.score}}{{/tag.兴趣/产品A.held}} {{link}}");
  auto created = f.Call("POST", "/api/v1/templates", body);
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/templates/" + created.body["id"].get<std::string>();
  auto preview = f.Call("POST", path + "/preview", json{{"customer_id", std::to_string(customer)}},
                        model::Role::kReadonly);
  INFO(preview.body.dump());
  REQUIRE(preview.status == 200);
  CHECK(preview.body["customer_id"] == std::to_string(customer));
  CHECK(preview.body["version"] == 1);
  CHECK(preview.body["content"]["text"]["content"] ==
        "李四您好，我是zhangsan。产品A得分3 https://sample.invalid/link");
  CHECK(preview.body["content"]["attachments"][0]["link"]["title"] == "杭州门店");
  CHECK(preview.body["content"]["attachments"][0]["link"]["url"] ==
        "https://shop.example.com/s?city=%E6%9D%AD%E5%B7%9E");
  CHECK(preview.body["samples"] == json{{"link", "https://sample.invalid/link"}});
}

TEST_CASE("templates preview answers 422 when this customer's message breaks a limit",
          "[integration]") {
  ApiFixture f;
  const int64_t customer = MakeTemplateCustomer(f);
  REQUIRE(f.p.service.editor.SetAttributes(customer, {{"note", std::string(20, 'n')}}).ok());
  auto created =
      f.Call("POST", "/api/v1/templates", WelcomeBody(std::string(3990, 'x') + "{{attr.note}}"));
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/templates/" + created.body["id"].get<std::string>();
  auto preview = f.Call("POST", path + "/preview", json{{"customer_id", customer}});
  CHECK(preview.status == 422);
  CHECK(ErrorCode(preview) == "render_failed");
  CHECK(ErrorMessage(preview) ==
        "rendered message: content.text.content: 4010 bytes, at most 4000");
}

TEST_CASE("templates preview refuses a missing or unknown customer", "[integration]") {
  ApiFixture f;
  auto created = f.Call("POST", "/api/v1/templates", WelcomeBody());
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/templates/" + created.body["id"].get<std::string>();
  auto missing = f.Call("POST", path + "/preview", json::object());
  CHECK(missing.status == 400);
  CHECK(ErrorMessage(missing) == "customer_id: required, a customer id");
  CHECK(f.Call("POST", path + "/preview", json{{"customer_id", "424242"}}).status == 404);
  CHECK(f.Call("POST", "/api/v1/templates/999/preview", json{{"customer_id", "1"}}).status == 404);
}

TEST_CASE("templates preview refuses a merged customer naming the survivor", "[integration]") {
  ApiFixture f;
  const int64_t survivor = MakeTemplateCustomer(f);
  f.p.Apply(f.p.OaText("oTPLmerged", "你好"));
  const int64_t merged = f.p.ByOpenid("oTPLmerged");
  REQUIRE(f.p.service.identities.Merge(survivor, merged, "test").ok());
  auto created = f.Call("POST", "/api/v1/templates", WelcomeBody());
  REQUIRE(created.status == 201);
  auto preview =
      f.Call("POST", "/api/v1/templates/" + created.body["id"].get<std::string>() + "/preview",
             json{{"customer_id", merged}});
  CHECK(preview.status == 400);
  CHECK(ErrorCode(preview) == "failed_precondition");
  CHECK(ErrorMessage(preview) == "customer_id: customer " + std::to_string(merged) +
                                     " was merged into " + std::to_string(survivor) +
                                     "; preview that customer");
}

TEST_CASE("TemplateService seeds the shipped files once and keeps templates edited since", "[db]") {
  ApiFixture f;
  auto files = render::LoadTemplateFiles(scrm::testing::SourcePath("templates"));
  REQUIRE(files.ok());
  auto first = f.template_service.LoadAndSeed(*files);
  REQUIRE(first.ok());
  CHECK(first->seeded == static_cast<int>(files->size()));
  auto again = f.template_service.LoadAndSeed(*files);
  REQUIRE(again.ok());
  CHECK(again->seeded == 0);
  CHECK(again->unchanged == static_cast<int>(files->size()));

  // Marketing edits "welcome"; a newer "coupon" file ships.
  auto list = f.template_service.List();
  REQUIRE(list.ok());
  int64_t welcome_id = 0;
  for (const auto& view : *list) {
    CHECK(view.tmpl.source == "file");
    if (view.tmpl.name == "welcome") welcome_id = view.tmpl.id;
  }
  render::TemplateDoc edited;
  edited.name = "welcome";
  edited.content = model::WecomMessageContent{"欢迎 {{customer.name}}", {}};
  REQUIRE(f.template_service.Update(welcome_id, edited, 1).ok());
  std::vector<render::TemplateFile> changed = *files;
  for (auto& file : changed) {
    if (file.doc.name == "coupon") {
      std::get<model::OaTemplateContent>(file.doc.content).template_id = "NEW_COUPON_TEMPLATE";
    }
    if (file.doc.name == "welcome") {
      std::get<model::WecomMessageContent>(file.doc.content).text = "shipped again";
    }
  }
  auto third = f.template_service.LoadAndSeed(changed);
  REQUIRE(third.ok());
  CHECK(third->kept_edited == 1);
  CHECK(third->refreshed == 1);
  CHECK(third->unchanged == static_cast<int>(files->size()) - 2);
  auto welcome = f.template_service.Get(welcome_id);
  REQUIRE(welcome.ok());
  CHECK(std::get<model::WecomMessageContent>(welcome->tmpl.content).text ==
        "欢迎 {{customer.name}}");
  CHECK(welcome->tmpl.version == 2);
}

}  // namespace
}  // namespace scrm::api
