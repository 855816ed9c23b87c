// The outbox job codecs (src/model/job_kinds.h): the encoded payloads are pinned byte for byte,
// since they are the on-disk format of outbox.payload_json — rows queued by an earlier version
// must keep decoding.
#include "src/model/job_kinds.h"

#include <catch2/catch.hpp>
#include <string>

namespace scrm::model {
namespace {

TEST_CASE("job kinds keep the names stored in outbox rows", "[unit]") {
  CHECK(std::string(kEnrichJobKind) == "enrich");
  CHECK(std::string(kTagPushJobKind) == "tagpush");
  CHECK(std::string(kTagSweepJobKind) == "tagsweep");
  CHECK(std::string(kStageSweepJobKind) == "stagesweep");
  CHECK(std::string(kEmptyJobPayload) == "{}");
}

TEST_CASE("EncodeEnrichPayload writes the stored bytes with members in name order", "[unit]") {
  CHECK(EncodeEnrichPayload({"oa", IdentityKind::kOpenid, "oOPEN001"}) ==
        R"({"kind":"openid","platform":"oa","value":"oOPEN001"})");
  CHECK(EncodeEnrichPayload({"wecom", IdentityKind::kExternalUserid, "wmEXT001"}) ==
        R"({"kind":"external_userid","platform":"wecom","value":"wmEXT001"})");
}

TEST_CASE("EncodeEnrichPayload replaces bytes that are not UTF-8", "[unit]") {
  CHECK(EncodeEnrichPayload({"oa", IdentityKind::kOpenid, "o\xff"}) ==
        "{\"kind\":\"openid\",\"platform\":\"oa\",\"value\":\"o\xEF\xBF\xBD\"}");
}

TEST_CASE("DecodeEnrichPayload reads a row queued by an earlier version", "[unit]") {
  auto payload =
      DecodeEnrichPayload(R"({"kind":"external_userid","platform":"wecom","value":"wmEXT001"})");
  INFO(payload.status().ToString());
  REQUIRE(payload.ok());
  CHECK(payload->platform == "wecom");
  CHECK(payload->kind == IdentityKind::kExternalUserid);
  CHECK(payload->value == "wmEXT001");
}

TEST_CASE("DecodeEnrichPayload reads what EncodeEnrichPayload writes", "[unit]") {
  const EnrichPayload sent{"oa", IdentityKind::kOpenid, "oOPEN001"};
  auto payload = DecodeEnrichPayload(EncodeEnrichPayload(sent));
  REQUIRE(payload.ok());
  CHECK(payload->platform == sent.platform);
  CHECK(payload->kind == sent.kind);
  CHECK(payload->value == sent.value);
}

TEST_CASE("DecodeEnrichPayload refuses a payload that is not {platform, kind, value}", "[unit]") {
  for (const char* text : {"", "not json", "[]", R"({"kind":"openid","value":"o1"})",
                           R"({"platform":"oa","kind":1,"value":"o1"})",
                           R"({"platform":"oa","kind":"openid","value":null})"}) {
    INFO(text);
    auto payload = DecodeEnrichPayload(text);
    CHECK(payload.status().code() == core::StatusCode::kInvalidArgument);
    CHECK(payload.status().message() == "enrich payload is not {platform, kind, value}");
  }
}

TEST_CASE("DecodeEnrichPayload refuses a payload that names no identity", "[unit]") {
  for (const char* text : {R"({"platform":"oa","kind":"nickname","value":"o1"})",
                           R"({"platform":"oa","kind":"openid","value":""})"}) {
    INFO(text);
    auto payload = DecodeEnrichPayload(text);
    CHECK(payload.status().code() == core::StatusCode::kInvalidArgument);
    CHECK(payload.status().message() == "enrich payload names no identity");
  }
}

TEST_CASE("EncodeTagPushPayload writes the stored bytes", "[unit]") {
  CHECK(EncodeTagPushPayload({42}) == R"({"customer_id":42})");
  CHECK(EncodeTagPushPayload({9007199254740993}) == R"({"customer_id":9007199254740993})");
}

TEST_CASE("DecodeTagPushPayload reads a row queued by an earlier version", "[unit]") {
  auto payload = DecodeTagPushPayload(R"({"customer_id":42})");
  REQUIRE(payload.ok());
  CHECK(payload->customer_id == 42);
  auto extra = DecodeTagPushPayload(R"({"customer_id":7,"note":"x"})");
  REQUIRE(extra.ok());
  CHECK(extra->customer_id == 7);
}

TEST_CASE("DecodeTagPushPayload refuses a payload without a positive integer customer_id",
          "[unit]") {
  for (const char* text :
       {"", "{}", R"({"customer":"x"})", R"({"customer_id":"42"})", R"({"customer_id":0})",
        R"({"customer_id":-1})", R"({"customer_id":1.5})", "[42]"}) {
    INFO(text);
    auto payload = DecodeTagPushPayload(text);
    CHECK(payload.status().code() == core::StatusCode::kInvalidArgument);
    CHECK(payload.status().message() == "tagpush payload is not {customer_id}");
  }
}

}  // namespace
}  // namespace scrm::model
