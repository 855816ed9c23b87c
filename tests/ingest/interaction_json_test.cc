// Unit tests of src/model/interaction_json (kept with the ingest tests, its first user).
#include "src/model/interaction_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "src/model/interaction.h"

namespace scrm::model {
namespace {

using core::StatusCode;
using nlohmann::json;

Payload RoundTrip(InteractionKind kind, const Payload& payload) {
  auto parsed = PayloadFromJson(kind, json::parse(PayloadToJson(payload).dump()));
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return parsed.value();
}

TEST_CASE("PayloadToJson and PayloadFromJson round-trip every alternative", "[unit]") {
  CHECK(std::holds_alternative<std::monostate>(
      RoundTrip(InteractionKind::kUnsubscribe, std::monostate{})));

  MediaPayload media{"m1", "http://pic", "amr", "你好", "t1"};
  const auto m = std::get<MediaPayload>(RoundTrip(InteractionKind::kMessageVoice, media));
  CHECK(m.media_id == "m1");
  CHECK(m.recognition == "你好");
  CHECK(m.thumb_media_id == "t1");

  const auto l = std::get<LinkPayload>(
      RoundTrip(InteractionKind::kMessageLink, LinkPayload{"title", "desc", "https://x"}));
  CHECK(l.url == "https://x");
  const auto q = std::get<QrScenePayload>(
      RoundTrip(InteractionKind::kSubscribe, QrScenePayload{"123123", "TICKET"}));
  CHECK(q.scene == "123123");
  const auto menu =
      std::get<MenuPayload>(RoundTrip(InteractionKind::kMenuView, MenuPayload{"www.qq.com", "9"}));
  CHECK(menu.menu_id == "9");
  const auto contact = std::get<ContactChangePayload>(
      RoundTrip(InteractionKind::kContactAdd,
                ContactChangePayload{"add_external_contact", "teststate", "WELCOMECODE", "", ""}));
  CHECK(contact.state == "teststate");
  const auto tag = std::get<TagChangePayload>(
      RoundTrip(InteractionKind::kTagCreate, TagChangePayload{"create", "TAG_ID", "tag", "1"}));
  CHECK(tag.strategy_id == "1");
  const auto generic = std::get<GenericPayload>(
      RoundTrip(InteractionKind::kOtherEvent, GenericPayload{"event", "view_miniprogram", "", ""}));
  CHECK(generic.event == "view_miniprogram");
}

TEST_CASE("PayloadFromJson keeps the alternative named by type when the kind differs", "[unit]") {
  // An adapter may attach a generic payload to a kind that usually has a typed one.
  const auto parsed = PayloadFromJson(InteractionKind::kMessageText,
                                      PayloadToJson(GenericPayload{"text", "", "", ""}));
  REQUIRE(parsed.ok());
  CHECK(std::holds_alternative<GenericPayload>(*parsed));
}

TEST_CASE("PayloadFromJson picks the kind's alternative and defaults when fields are missing",
          "[unit]") {
  const auto parsed =
      PayloadFromJson(InteractionKind::kMessageText, json{{"content", "hi"}, {"added_later", 1}});
  REQUIRE(parsed.ok());
  CHECK(std::get<TextPayload>(*parsed).content == "hi");
  const auto empty = PayloadFromJson(InteractionKind::kMassSendFinish, json::object());
  REQUIRE(empty.ok());
  CHECK(std::get<SendJobPayload>(*empty).total_count == 0);
  const auto unknown = PayloadFromJson(InteractionKind::kUnknown, json::object());
  REQUIRE(unknown.ok());
  CHECK(std::holds_alternative<GenericPayload>(*unknown));
}

TEST_CASE("PayloadFromJson returns InvalidArgument when the JSON has the wrong shape", "[unit]") {
  json value;
  SECTION("not an object") { value = json::array(); }
  SECTION("unknown type") { value = json{{"type", "hologram"}}; }
  SECTION("type not a string") { value = json{{"type", 3}}; }
  SECTION("string field holds a number") { value = json{{"type", "text"}, {"content", 5}}; }
  SECTION("integer field holds text") { value = json{{"type", "send_job"}, {"sent_count", "7"}}; }
  SECTION("integer field holds a fraction") {
    value = json{{"type", "chat_change"}, {"join_scene", 1.5}};
  }
  SECTION("integer field above 2^63") {
    value = json{{"type", "send_job"}, {"sent_count", 18446744073709551615ULL}};
  }
  SECTION("list holds a number") {
    value = json{{"type", "chat_change"}, {"mem_change_list", json::array({"a", 1})}};
  }
  SECTION("number field holds text") { value = json{{"type", "location"}, {"latitude", "N"}}; }
  CHECK(PayloadFromJson(InteractionKind::kMessageText, value).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("InteractionToJson writes every field and the raw body only when asked", "[unit]") {
  Interaction it;
  it.id = 115806134591488001;  // above 2^53: must stay exact
  it.platform = Platform::kOfficialAccount;
  it.account_id = "oa-main";
  it.kind = InteractionKind::kMessageText;
  it.dedupe_key =
      "msg\x1fo1\x1f"
      "23456789012345678";
  it.msg_id = "23456789012345678";
  it.openid = "o1";
  it.unionid = "u1";
  it.to_user = "gh_1";
  it.occurred_at_ms = 1348831860000;
  it.received_at_ms = 1348831860123;
  it.payload = TextPayload{"hello"};
  it.raw_body = "<xml/>";

  const json without_raw = InteractionToJson(it, /*include_raw=*/false);
  CHECK(without_raw.at("id").get<int64_t>() == 115806134591488001);
  CHECK(without_raw.at("platform") == "oa");
  CHECK(without_raw.at("account") == "oa-main");
  CHECK(without_raw.at("kind") == "message.text");
  CHECK(without_raw.at("msg_id") == "23456789012345678");
  CHECK(without_raw.at("openid") == "o1");
  CHECK(without_raw.at("unionid") == "u1");
  CHECK(without_raw.at("external_userid") == "");
  CHECK(without_raw.at("userid") == "");
  CHECK(without_raw.at("chat_id") == "");
  CHECK(without_raw.at("occurred_at_ms") == 1348831860000);
  CHECK(without_raw.at("received_at_ms") == 1348831860123);
  CHECK(without_raw.at("payload") == json{{"type", "text"}, {"content", "hello"}});
  CHECK(without_raw.at("raw_format") == "xml");
  CHECK_FALSE(without_raw.contains("raw_body"));
  CHECK(InteractionToJson(it, /*include_raw=*/true).at("raw_body") == "<xml/>");
}

}  // namespace
}  // namespace scrm::model
