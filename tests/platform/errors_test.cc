#include "src/platform/errors.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "src/platform/json_fields.h"
#include "src/platform/reply.h"

namespace scrm::platform {
namespace {

using model::Platform;

struct ClassCase {
  Platform platform;
  int64_t code;
  ErrorClass expected;
};

TEST_CASE("ClassifyErrcode follows PROTOCOL 4.3 for every documented code", "[unit]") {
  const ClassCase cases[] = {
      {Platform::kWecom, 0, ErrorClass::kNone},
      {Platform::kWecom, -1, ErrorClass::kTransient},
      {Platform::kWecom, 40014, ErrorClass::kToken},
      {Platform::kWecom, 42001, ErrorClass::kToken},
      {Platform::kWecom, 41001, ErrorClass::kToken},
      {Platform::kWecom, 40001, ErrorClass::kConfig},
      {Platform::kWecom, 40013, ErrorClass::kConfig},
      {Platform::kWecom, 40091, ErrorClass::kConfig},
      {Platform::kWecom, 60020, ErrorClass::kConfig},
      {Platform::kWecom, 48002, ErrorClass::kConfig},
      {Platform::kWecom, 60011, ErrorClass::kConfig},
      {Platform::kWecom, 45033, ErrorClass::kTransient},
      {Platform::kWecom, 45009, ErrorClass::kQuota},
      {Platform::kWecom, 41051, ErrorClass::kUserRefused},
      {Platform::kWecom, 84061, ErrorClass::kUserRefused},
      {Platform::kWecom, 40096, ErrorClass::kUserRefused},
      {Platform::kWecom, 40058, ErrorClass::kRejected},
      {Platform::kOfficialAccount, -1, ErrorClass::kTransient},
      {Platform::kOfficialAccount, 40001, ErrorClass::kToken},
      {Platform::kOfficialAccount, 40014, ErrorClass::kToken},
      {Platform::kOfficialAccount, 42001, ErrorClass::kToken},
      {Platform::kOfficialAccount, 41001, ErrorClass::kToken},
      {Platform::kOfficialAccount, 40013, ErrorClass::kConfig},
      {Platform::kOfficialAccount, 40125, ErrorClass::kConfig},
      {Platform::kOfficialAccount, 40164, ErrorClass::kConfig},
      {Platform::kOfficialAccount, 48001, ErrorClass::kConfig},
      {Platform::kOfficialAccount, 45011, ErrorClass::kTransient},
      {Platform::kOfficialAccount, 45033, ErrorClass::kTransient},
      {Platform::kOfficialAccount, 45009, ErrorClass::kQuota},
      {Platform::kOfficialAccount, 45015, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 45047, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 45065, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 45066, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 43004, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 43101, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 48002, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 40003, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 46004, ErrorClass::kUserRefused},
      {Platform::kOfficialAccount, 45157, ErrorClass::kRejected},
  };
  for (const ClassCase& c : cases) {
    INFO("platform " << (c.platform == Platform::kWecom ? "wecom" : "oa") << " code " << c.code);
    CHECK(ClassifyErrcode(c.platform, c.code) == c.expected);
  }
}

TEST_CASE("ClassifyErrcode makes 45033 transient on both platforms", "[unit]") {
  // The concurrency limit is "retry with jitter" everywhere; on OA it once failed enrichments on
  // their first answer (kRejected), leaving customers of one person unmerged for good.
  CHECK(ClassifyErrcode(Platform::kWecom, 45033) == ErrorClass::kTransient);
  CHECK(ClassifyErrcode(Platform::kOfficialAccount, 45033) == ErrorClass::kTransient);
}

TEST_CASE("IsKnownErrcode is true for listed codes and false for the rest", "[unit]") {
  for (const int64_t code : {0, -1, 40001, 45033, 45009, 84061, 60011}) {
    CHECK(IsKnownErrcode(Platform::kWecom, code));
  }
  for (const int64_t code : {0, -1, 40001, 45011, 45033, 45015, 46004}) {
    CHECK(IsKnownErrcode(Platform::kOfficialAccount, code));
  }
  for (const int64_t code : {40058, 45157, 99999, 45011}) {
    INFO("wecom code " << code);
    CHECK_FALSE(IsKnownErrcode(Platform::kWecom, code));
    CHECK(ClassifyErrcode(Platform::kWecom, code) == ErrorClass::kRejected);
  }
  for (const int64_t code : {45157, 99999, 60011}) {
    INFO("oa code " << code);
    CHECK_FALSE(IsKnownErrcode(Platform::kOfficialAccount, code));
    CHECK(ClassifyErrcode(Platform::kOfficialAccount, code) == ErrorClass::kRejected);
  }
}

TEST_CASE("IsUnreachable marks refusals and unknown recipients but not window or quota codes",
          "[unit]") {
  for (const int64_t code : {84061, 40096}) CHECK(IsUnreachable(Platform::kWecom, code));
  for (const int64_t code : {41051, 40014, 0, 45033})
    CHECK_FALSE(IsUnreachable(Platform::kWecom, code));
  for (const int64_t code : {43004, 43101, 48002, 40003, 46004}) {
    CHECK(IsUnreachable(Platform::kOfficialAccount, code));
  }
  for (const int64_t code : {45015, 45047, 45065, 45066, 40001, 0}) {
    CHECK_FALSE(IsUnreachable(Platform::kOfficialAccount, code));
  }
}

TEST_CASE("QuotaResetTime is the next midnight in Beijing for OA and the block for WeCom",
          "[unit]") {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  // 2026-01-01T00:00:00Z is 08:00 in Beijing; the next Beijing midnight is 16:00Z.
  const std::chrono::system_clock::time_point now(milliseconds(1767225600000));
  CHECK(QuotaResetTime(Platform::kOfficialAccount, now, milliseconds(60000)) == now + hours(16));
  // 2026-01-01T16:30Z is 00:30 on the 2nd in Beijing: reset 2026-01-02T16:00Z.
  const auto later = now + hours(16) + std::chrono::minutes(30);
  CHECK(QuotaResetTime(Platform::kOfficialAccount, later, milliseconds(60000)) == now + hours(40));
  CHECK(QuotaResetTime(Platform::kWecom, now, milliseconds(60000)) == now + milliseconds(60000));
}

TEST_CASE("ApiError ToStatus maps each outcome to a canonical code", "[unit]") {
  ApiError error;
  error.outcome = Outcome::kRefused;
  error.errcode = 43101;
  CHECK(error.ToStatus().code() == core::StatusCode::kFailedPrecondition);
  CHECK(error.ToStatus().message().find("43101") != std::string::npos);
  error.outcome = Outcome::kRetryAfter;
  CHECK(error.ToStatus().code() == core::StatusCode::kResourceExhausted);
  error.outcome = Outcome::kUnknown;
  CHECK(error.ToStatus().code() == core::StatusCode::kUnavailable);
  error.outcome = Outcome::kConfigError;
  CHECK(error.ToStatus().code() == core::StatusCode::kPermissionDenied);
  error.outcome = Outcome::kThrottled;
  CHECK(error.ToStatus().code() == core::StatusCode::kDeadlineExceeded);
  error.outcome = Outcome::kBadReply;
  CHECK(error.ToStatus().code() == core::StatusCode::kInternal);
}

TEST_CASE("ReadReply treats a missing errcode as success and a string errcode as malformed",
          "[unit]") {
  net::HttpResult result;
  result.outcome = net::HttpOutcome::kResponse;
  result.status = 200;
  result.body = R"({"access_token":"x"})";
  CHECK(ReadReply(result).kind == PlatformReply::Kind::kJson);
  CHECK(ReadReply(result).errcode == 0);
  result.body = R"({"errcode":"0"})";
  CHECK(ReadReply(result).kind == PlatformReply::Kind::kMalformed);
  for (const char* body : {"", "null", "[]", "42", "{", R"({"errcode":1e400})", "\xff\xfe"}) {
    result.body = body;
    INFO(body);
    CHECK(ReadReply(result).kind == PlatformReply::Kind::kMalformed);
  }
  result.status = 502;
  CHECK(ReadReply(result).kind == PlatformReply::Kind::kHttpStatus);
}

TEST_CASE("JsonFields records the first type error with its path and reads defaults", "[unit]") {
  const nlohmann::json j = {{"name", 5}, {"list", {"a", 1}}, {"n", "7"}, {"ok", "yes"}};
  JsonFields fields(j, "reply");
  CHECK(fields.String("name").empty());
  CHECK_FALSE(fields.ok());
  CHECK(fields.error() == "reply.name: not a string");
  CHECK(fields.Strings("list").empty());
  CHECK(fields.Int("n") == 0);
  CHECK(fields.error() == "reply.name: not a string");
  JsonFields missing(j, "reply");
  CHECK(missing.String("absent").empty());
  CHECK(missing.ok());
  CHECK(missing.Int("absent", /*required=*/true) == 0);
  CHECK(missing.error() == "reply.absent: missing");
}

TEST_CASE("DumpJson refuses a string that is not UTF-8 and keeps Chinese text raw", "[unit]") {
  auto ok = DumpJson(nlohmann::json{{"content", "欢迎"}});
  REQUIRE(ok.ok());
  CHECK(ok.value() == "{\"content\":\"欢迎\"}");
  auto bad = DumpJson(nlohmann::json{{"content", std::string("\xff\xfe")}});
  CHECK(bad.status().code() == core::StatusCode::kInvalidArgument);
  CHECK(UrlEncode("a b/é") == "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace scrm::platform
