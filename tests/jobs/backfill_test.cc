#include "src/jobs/backfill.h"

#include <catch2/catch.hpp>

#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using storage::OutboxState;
using testing::Fixture;

TEST_CASE("BackfillWecom creates the customers of existing contacts and links their unionid",
          "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oOPEN001")});
  REQUIRE(f.RunOnce() == 1);  // the follower now holds ozUNION001
  const int64_t follower = f.ByOpenid("oOPEN001");

  auto report = BackfillWecom(f.wecom, f.service, "acme", {"zhangsan", "lisi"});
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->pages == 1);
  CHECK(report->contacts == 1);
  CHECK(report->created == 1);
  CHECK(report->merged == 1);
  CHECK(f.ByExternal("wmEXT001") == follower);
  CHECK(f.View(follower).customer.attributes.at("wecom.name") == "王五");
  // The new customer's enrichment (corp tags) is queued like one made by a callback.
  CHECK(f.Job("enrich:wecom:acme:wmEXT001").state == OutboxState::kPending);

  auto again = BackfillWecom(f.wecom, f.service, "acme", {"zhangsan", "lisi"});
  REQUIRE(again.ok());
  CHECK(again->created == 0);
  CHECK(again->merged == 0);
}

TEST_CASE("BackfillWecom stops with the platform error when the secret is wrong", "[integration]") {
  Fixture f;
  platform::Credential wrong = testing::SimCredential(f.sim.server, model::Platform::kWecom);
  wrong.secret = "not-the-secret";
  platform::WecomClient client(wrong, f.caller);
  auto report = BackfillWecom(client, f.service, "acme", {"zhangsan"});
  CHECK(report.status().code() == core::StatusCode::kPermissionDenied);
}

TEST_CASE("BackfillWecom asks a page again after an unknown errcode a bounded number of times",
          "[integration]") {
  Fixture f;
  sim::FaultRule odd;
  odd.kind = "errcode";
  odd.api = "externalcontact/batch/get_by_user";
  odd.errcode = 47999;  // listed nowhere
  odd.count = kUnknownErrcodeReadAttempts - 1;
  f.sim.platform.SetFaults({odd});
  auto report = BackfillWecom(f.wecom, f.service, "acme", {"zhangsan"});
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->contacts == 1);
  CHECK(f.sim.platform.Requests("externalcontact/batch/get_by_user").size() ==
        static_cast<size_t>(kUnknownErrcodeReadAttempts));

  odd.count = -1;  // for good: the backfill stops after the bounded attempts
  f.sim.platform.SetFaults({odd});
  auto stopped = BackfillWecom(f.wecom, f.service, "acme", {"zhangsan"});
  CHECK(stopped.status().code() == core::StatusCode::kInvalidArgument);
  CHECK(f.sim.platform.Requests("externalcontact/batch/get_by_user").size() ==
        static_cast<size_t>(2 * kUnknownErrcodeReadAttempts));
}

}  // namespace
}  // namespace scrm::jobs
