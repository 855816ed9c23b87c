// A send the platform refuses for good (43101) is not retried and is recorded on the customer
// (src/jobs/refusals.h), over the real clients against the in-process simulator.
#include <catch2/catch.hpp>

#include "src/jobs/refusals.h"
#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using testing::Fixture;

Recipient OaRecipient(std::string openid) {
  Recipient recipient;
  recipient.platform = model::Platform::kOfficialAccount;
  recipient.account_id = "brand";
  recipient.kind = model::IdentityKind::kOpenid;
  recipient.value = std::move(openid);
  return recipient;
}

TEST_CASE("RecordSendRefusal marks the customer a template send was refused for with 43101",
          "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oREFUSE")});  // TestWorld: this follower blocks template messages
  platform::OaTemplateMessage message;
  message.touser = "oREFUSE";
  message.template_id = "tmpl-1";
  message.data = {{"keyword1", "巧克力"}};
  auto sent = f.oa.SendTemplate(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == platform::Outcome::kRefused);
  CHECK(sent.error().errcode == 43101);
  CHECK(f.sim.platform.Requests("message/template/send").size() == 1);  // not retried

  auto marked = RecordSendRefusal(f.service, OaRecipient("oREFUSE"), sent.error());
  INFO(marked.status().ToString());
  REQUIRE(marked.ok());
  REQUIRE(marked->has_value());
  CHECK(**marked == f.ByOpenid("oREFUSE"));
  CHECK(f.View(**marked).customer.attributes.at("send_refused:brand") == "43101");
  CHECK(f.sim.platform.Requests("message/template/send").size() == 1);
}

TEST_CASE("RecordSendRefusal marks nothing when the refusal is only outside the 48 h window",
          "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oOPEN001")});
  platform::OaCustomMessage message;
  message.touser = "oOPEN001";  // never wrote to the account: no 客服 window
  message.content = {{"content", "您好"}};
  auto sent = f.oa.SendCustom(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().errcode == 45015);
  auto marked = RecordSendRefusal(f.service, OaRecipient("oOPEN001"), sent.error());
  REQUIRE(marked.ok());
  CHECK_FALSE(marked->has_value());
  CHECK(f.View(f.ByOpenid("oOPEN001")).customer.attributes.count("send_refused:brand") == 0);
}

TEST_CASE("RecordSendRefusal marks nothing when no customer holds the recipient", "[integration]") {
  Fixture f;
  platform::ApiError refused;
  refused.outcome = platform::Outcome::kRefused;
  refused.errcode = 43101;
  auto marked = RecordSendRefusal(f.service, OaRecipient("oSTRANGER"), refused);
  REQUIRE(marked.ok());
  CHECK_FALSE(marked->has_value());
}

TEST_CASE("RecordSendRefusal refuses an outcome that is not a refusal", "[integration]") {
  Fixture f;
  platform::ApiError unknown;
  unknown.outcome = platform::Outcome::kUnknown;
  auto marked = RecordSendRefusal(f.service, OaRecipient("oREFUSE"), unknown);
  REQUIRE_FALSE(marked.ok());
  CHECK(marked.status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::jobs
