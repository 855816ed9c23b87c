// Tag pushes end to end in one process: local tag changes queue "tagpush" jobs in their own
// transaction; the runner makes the customer's platform tags match through the real platform
// clients against the simulator (WeCom mark_tag, OA batchtagging / batchuntagging).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using storage::OutboxState;
using testing::Fixture;
using testing::PushingOptions;

const model::TagRef kProductB{"意向", "产品B"};  // corp tag etTAG2 in the simulator world
const model::TagRef kStar{"会员", "星标"};       // OA tag 100 in the simulator world

void MapProductB(Fixture& f) { REQUIRE(f.service.editor.MapTag(kProductB, "etTAG2", 0).ok()); }

void AddTag(Fixture& f, int64_t customer_id, const model::TagRef& tag) {
  // Twice the threshold (1), decaying like a rule's: held for one half-life (30 days), so time
  // moved by retries does not fade it, and the fading tests can let it fade.
  auto added = f.service.editor.AddManualTag(customer_id, tag, 2.0, /*decay=*/true);
  INFO(added.status().ToString());
  REQUIRE(added.ok());
  REQUIRE(added->held);
}

void RemoveTag(Fixture& f, int64_t customer_id, const model::TagRef& tag) {
  const core::Status removed = f.service.editor.RemoveTag(customer_id, tag);
  INFO(removed.ToString());
  REQUIRE(removed.ok());
}

std::vector<json> Bodies(Fixture& f, const std::string& api) {
  std::vector<json> out;
  for (const sim::RecordedRequest& r : f.sim.platform.Requests(api)) {
    out.push_back(json::parse(r.body));
  }
  return out;
}

// The corp tag ids the simulator holds on the relation (userid, external_userid).
std::vector<std::string> RelationTags(Fixture& f, const std::string& external_userid,
                                      const std::string& userid) {
  for (const sim::ExternalContact& c : f.sim.platform.WorldSnapshot().wecom.external_contacts) {
    if (c.external_userid != external_userid) continue;
    for (const sim::FollowUser& fu : c.follow_user) {
      if (fu.userid == userid) return fu.tags;
    }
  }
  return {};
}

std::vector<int64_t> FollowerTags(Fixture& f, const std::string& openid) {
  for (const sim::Follower& follower : f.sim.platform.WorldSnapshot().oa.followers) {
    if (follower.openid == openid) return follower.tagid_list;
  }
  return {};
}

bool Has(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<storage::OutboxJob> PendingPushes(Fixture& f) {
  auto jobs = f.outbox.List(OutboxState::kPending, 100);
  REQUIRE(jobs.ok());
  std::vector<storage::OutboxJob> out;
  for (const storage::OutboxJob& job : *jobs) {
    if (job.kind == model::kTagPushJobKind) out.push_back(job);
  }
  return out;
}

model::TagRule ContactAddRule() {
  model::TagRule rule;
  rule.id = 7;
  rule.name = "added through the expo QR code";
  rule.condition.kinds = {model::InteractionKind::kContactAdd};
  rule.actions = {model::AddTagAction{kProductB, 2.0}};
  return rule;
}

TEST_CASE("TagPushHandler marks a rule-added held tag on the customer's WeCom relation",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  REQUIRE(f.rules.Replace({ContactAddRule()}).ok());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  const std::vector<storage::OutboxJob> queued = PendingPushes(f);
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].account_id == "acme");
  CHECK(queued[0].dedupe_key.starts_with(profiles::TagPushKeyPrefix("acme", customer)));
  CHECK(queued[0].payload_json == "{\"customer_id\":" + std::to_string(customer) + "}");

  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["userid"] == "zhangsan");
  CHECK(calls[0]["external_userid"] == "wmEXT001");
  CHECK(calls[0]["add_tag"] == json::array({"etTAG2"}));
  CHECK_FALSE(calls[0].contains("remove_tag"));
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  CHECK(f.Job(queued[0].dedupe_key).state == OutboxState::kDone);
  const auto pushed = f.pushes.List(customer, "acme");
  REQUIRE(pushed.ok());
  REQUIRE(pushed->size() == 1);
  CHECK((*pushed)[0].target == "zhangsan");
  CHECK((*pushed)[0].platform_tag_id == "etTAG2");
  CHECK(f.RunOnce() == 0);
}

TEST_CASE("TagPushHandler sends remove_tag when a pushed tag is removed through the API",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  CHECK(f.RunOnce() == 1);
  REQUIRE(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));

  RemoveTag(f, customer, kProductB);
  REQUIRE(PendingPushes(f).size() == 1);
  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["userid"] == "zhangsan");
  CHECK(calls[1]["remove_tag"] == json::array({"etTAG2"}));
  CHECK_FALSE(calls[1].contains("add_tag"));
  CHECK_FALSE(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG1"));  // staff's own tag stays
  CHECK(f.pushes.List(customer, "acme")->empty());
}

TEST_CASE("TagPushHandler sends remove_tag when a rule removes a pushed tag", "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  model::TagRule removal;
  removal.id = 8;
  removal.name = "edited by staff";
  removal.condition.kinds = {model::InteractionKind::kContactEdit};
  removal.actions = {model::RemoveTagAction{kProductB}};
  REQUIRE(f.rules.Replace({ContactAddRule(), removal}).ok());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  CHECK(f.RunOnce() == 1);
  model::Interaction edit = f.WecomAdd("wmEXT001", "zhangsan");
  edit.kind = model::InteractionKind::kContactEdit;
  f.Apply({edit});
  REQUIRE(PendingPushes(f).size() == 1);

  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["remove_tag"] == json::array({"etTAG2"}));
  CHECK_FALSE(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
}

TEST_CASE("TagPushHandler pushes the final state when a tag is added and removed before it runs",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  RemoveTag(f, customer, kProductB);
  AddTag(f, customer, kProductB);
  RemoveTag(f, customer, kProductB);
  CHECK(PendingPushes(f).size() == 1);  // coalesced: the waiting job reads the state later

  CHECK(f.RunOnce() == 1);

  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").empty());
  CHECK(f.Job(f.outbox.List(OutboxState::kDone, 10)->at(0).dedupe_key).last_outcome == "ok");
}

TEST_CASE("ProfileService queues no push for tags that came from the platform", "[integration]") {
  profiles::testing::ServiceOptions options = PushingOptions();
  options.enrichment_accounts = {"acme"};
  Fixture f(options);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  // The enrichment reads the contact's corp tags (etTAG1 on zhangsan's relation): a platform
  // change, mapped and held with source platform.
  CHECK(f.RunOnce() == 1);
  const profiles::CustomerView view = f.View(f.ByExternal("wmEXT001"));
  REQUIRE(view.tags.size() == 1);
  CHECK(view.tags[0].detail.tag.tag.wecom_tag_id == "etTAG1");
  CHECK(view.tags[0].detail.value.source == model::TagSource::kPlatform);

  CHECK(PendingPushes(f).empty());
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").empty());
}

TEST_CASE("TagPushHandler leaves a platform-held tag alone when another tag is pushed",
          "[integration]") {
  profiles::testing::ServiceOptions options = PushingOptions();
  options.enrichment_accounts = {"acme"};
  Fixture f(options);
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  f.Apply({f.WecomAdd("wmEXT001", "lisi")});
  CHECK(f.RunOnce() == 1);  // the enrichment: etTAG1 held from the platform
  AddTag(f, f.ByExternal("wmEXT001"), kProductB);
  CHECK(f.RunOnce() == 1);
  for (const json& call : Bodies(f, "externalcontact/mark_tag")) {
    CHECK(call["add_tag"] == json::array({"etTAG2"}));  // never etTAG1
    CHECK_FALSE(call.contains("remove_tag"));
  }
}

TEST_CASE("ProfileService queues no push when an interaction is replayed", "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  REQUIRE(f.rules.Replace({ContactAddRule()}).ok());
  const model::Interaction added = f.WecomAdd("wmEXT001", "zhangsan");
  f.Apply({added});
  CHECK(f.RunOnce() == 1);
  f.Apply({added});  // the same interaction again (a crash replays the inbox)
  f.Apply({added});
  CHECK(PendingPushes(f).empty());
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 1);
}

TEST_CASE("TagPushHandler tags and untags an OA follower by openid", "[integration]") {
  Fixture f(PushingOptions());
  REQUIRE(f.service.editor.MapTag(kStar, "", 100).ok());
  f.Apply({f.OaSubscribe("oOPEN001")});
  const int64_t customer = f.ByOpenid("oOPEN001");
  AddTag(f, customer, kStar);
  CHECK(f.RunOnce() == 1);
  std::vector<json> tagged = Bodies(f, "tags/members/batchtagging");
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]["openid_list"] == json::array({"oOPEN001"}));
  CHECK(tagged[0]["tagid"] == 100);
  CHECK(FollowerTags(f, "oOPEN001") == std::vector<int64_t>{100});
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").empty());  // no WeCom identity

  RemoveTag(f, customer, kStar);
  CHECK(f.RunOnce() == 1);
  std::vector<json> untagged = Bodies(f, "tags/members/batchuntagging");
  REQUIRE(untagged.size() == 1);
  CHECK(untagged[0]["openid_list"] == json::array({"oOPEN001"}));
  CHECK(untagged[0]["tagid"] == 100);
  CHECK(FollowerTags(f, "oOPEN001").empty());
}

TEST_CASE("TagPushHandler tags an OA follower who subscribes again", "[integration]") {
  Fixture f(PushingOptions());
  REQUIRE(f.service.editor.MapTag(kStar, "", 100).ok());
  f.Apply({f.OaSubscribe("oOPEN001")});
  model::Interaction left = f.OaSubscribe("oOPEN001");
  left.kind = model::InteractionKind::kUnsubscribe;
  f.Apply({left});
  const int64_t customer = f.ByOpenid("oOPEN001");
  AddTag(f, customer, kStar);
  CHECK(f.RunOnce() == 1);  // unsubscribed: nothing to tag (43004)
  CHECK(f.sim.platform.Requests("tags/members/batchtagging").empty());

  f.Apply({f.OaSubscribe("oOPEN001")});
  REQUIRE(PendingPushes(f).size() == 1);
  CHECK(f.RunOnce() == 1);

  const std::vector<json> tagged = Bodies(f, "tags/members/batchtagging");
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]["openid_list"] == json::array({"oOPEN001"}));
  CHECK(FollowerTags(f, "oOPEN001") == std::vector<int64_t>{100});
}

TEST_CASE("TagPushHandler pushes a merged customer's tags to the survivor's OA follower",
          "[integration]") {
  Fixture f(PushingOptions());
  REQUIRE(f.service.editor.MapTag(kStar, "", 100).ok());
  f.Apply({f.OaSubscribe("oOPEN001")});
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t follower = f.ByOpenid("oOPEN001");
  const int64_t contact = f.ByExternal("wmEXT001");
  AddTag(f, contact, kStar);  // mapped on OA only: the WeCom customer has nowhere to push it
  CHECK(PendingPushes(f).empty());

  REQUIRE(f.service.identities.Merge(follower, contact, "same person").ok());
  CHECK(PendingPushes(f).size() == 2);  // the survivor on both accounts
  CHECK(f.RunOnce() == 2);

  const std::vector<json> tagged = Bodies(f, "tags/members/batchtagging");
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]["openid_list"] == json::array({"oOPEN001"}));
  CHECK(tagged[0]["tagid"] == 100);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").empty());
}

TEST_CASE("TagPushHandler records a refused relation on the customer and does not retry it",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  // lisi's relation is known here but gone on the platform (the customer deleted lisi): 84061.
  f.Apply({f.WecomAdd("wmEXT001", "lisi")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);

  const storage::OutboxJob job = f.Job(key);
  CHECK(job.state == OutboxState::kDone);
  CHECK(job.last_outcome == "refused");
  CHECK(job.last_errcode == 84061);
  CHECK(f.View(customer).customer.attributes.at("tagpush_refused:acme") == "lisi=84061");
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 2);
  f.sim.clock.Advance(std::chrono::hours(48));
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 2);
}

TEST_CASE("TagPushHandler pushes the valid corp tags when one mapped id is unknown (40068)",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  const model::TagRef typo{"意向", "产品X"};
  REQUIRE(f.service.editor.MapTag(typo, "etNOSUCHTAG", 0).ok());  // the corp has no such tag
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  AddTag(f, customer, typo);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);

  // The batch failed with 40068 as a whole; each id went again alone.
  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 3);
  CHECK(calls[0]["add_tag"].size() == 2);
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  const storage::OutboxJob job = f.Job(key);
  CHECK(job.state == OutboxState::kDone);
  CHECK(job.last_outcome == "refused");
  CHECK(job.last_errcode == 40068);
  CHECK(f.View(customer).customer.attributes.at("tagpush_refused:acme") ==
        "zhangsan:etNOSUCHTAG=40068");
  const auto pushed = f.pushes.List(customer, "acme");
  REQUIRE(pushed.ok());
  REQUIRE(pushed->size() == 1);
  CHECK((*pushed)[0].platform_tag_id == "etTAG2");
  CHECK(f.RunOnce() == 0);  // refused, not retried
}

TEST_CASE("TagPushHandler records an OA follower who has 20 tags already as refused",
          "[integration]") {
  sim::World world = sim::testing::TestWorld();
  for (int64_t id = 1; id <= 20; ++id) world.oa.followers[0].tagid_list.push_back(id);
  Fixture f(PushingOptions(), world);
  REQUIRE(f.service.editor.MapTag(kStar, "", 100).ok());
  f.Apply({f.OaSubscribe("oOPEN001")});
  const int64_t customer = f.ByOpenid("oOPEN001");
  AddTag(f, customer, kStar);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);

  CHECK(f.Job(key).state == OutboxState::kDone);
  CHECK(f.Job(key).last_outcome == "refused");
  CHECK(f.Job(key).last_errcode == 45059);
  CHECK(f.View(customer).customer.attributes.at("tagpush_refused:brand") == "oOPEN001=45059");
  CHECK(f.pushes.List(customer, "brand")->empty());
}

TEST_CASE("TagPushHandler waits out a WeCom frequency block before pushing again",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  f.sim.platform.SetRateLimits({sim::RateLimitRule{"externalcontact/mark_tag", 0, 60, 45009}});
  AddTag(f, f.ByExternal("wmEXT001"), kProductB);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(key).state == OutboxState::kPending);
  CHECK(f.Job(key).last_outcome == "retry_after");
  CHECK(f.Job(key).last_errcode == 45009);
  CHECK(f.Job(key).due_at_ms >= f.sim.clock.NowUnixMillis() + 60000);      // the block, not 30 s
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 1);  // not retried now

  f.sim.platform.SetRateLimits({});
  f.sim.clock.Advance(seconds(30));
  CHECK(f.RunOnce() == 0);
  f.sim.clock.Advance(seconds(31));
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(key).state == OutboxState::kDone);
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
}

TEST_CASE("TagPushHandler retries a mark_tag after system busy and succeeds later",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  sim::FaultRule busy;
  busy.kind = "busy";
  busy.api = "externalcontact/mark_tag";
  busy.count = 4;  // the first attempt and its 3 retries
  f.sim.platform.SetFaults({busy});
  AddTag(f, f.ByExternal("wmEXT001"), kProductB);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(key).state == OutboxState::kPending);
  CHECK(f.Job(key).last_outcome == "unavailable");
  CHECK(f.Job(key).last_errcode == -1);
  CHECK_FALSE(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  CHECK(f.RunOnce() == 0);  // the runner's backoff

  f.sim.clock.Advance(seconds(30));
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(key).state == OutboxState::kDone);
  CHECK(f.Job(key).attempts == 2);
  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
}

TEST_CASE("TagPushHandler fails a mark_tag answered with an unknown errcode and does not retry it",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  sim::FaultRule odd;
  odd.kind = "errcode";
  odd.api = "externalcontact/mark_tag";
  odd.errcode = 47999;  // listed nowhere: a write is never asked again blindly
  f.sim.platform.SetFaults({odd});
  AddTag(f, f.ByExternal("wmEXT001"), kProductB);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(key).state == OutboxState::kFailed);
  CHECK(f.Job(key).last_errcode == 47999);
  f.sim.clock.Advance(std::chrono::hours(2));
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 1);
}

TEST_CASE("TagPushHandler marks held tags on a relation that starts later", "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  CHECK(f.RunOnce() == 1);
  // lisi adds the customer too: the platform has the relation, and scrmd hears of it.
  sim::World world = f.sim.platform.WorldSnapshot();
  sim::FollowUser lisi;
  lisi.userid = "lisi";
  world.wecom.external_contacts[0].follow_user.push_back(lisi);
  f.sim.platform.ReplaceWorld(world);
  f.Apply({f.WecomAdd("wmEXT001", "lisi")});
  REQUIRE(PendingPushes(f).size() == 1);

  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);  // zhangsan has the tag already: only lisi is called
  CHECK(calls[1]["userid"] == "lisi");
  CHECK(calls[1]["add_tag"] == json::array({"etTAG2"}));
  CHECK(Has(RelationTags(f, "wmEXT001", "lisi"), "etTAG2"));
}

TEST_CASE("TagPushHandler removes a tag that faded below its threshold at the next push",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  const model::TagRef product_a{"意向", "产品A"};
  REQUIRE(f.service.editor.MapTag(product_a, "etTAG1", 0).ok());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  CHECK(f.RunOnce() == 1);
  // One half-life and a day later 产品B's score (2) is below 1: no longer held, but fading
  // changes no row, so nothing is queued until the customer's tags change again.
  f.sim.clock.Advance(std::chrono::hours(24 * 31));
  CHECK(PendingPushes(f).empty());
  AddTag(f, customer, product_a);
  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["add_tag"] == json::array({"etTAG1"}));
  CHECK(calls[1]["remove_tag"] == json::array({"etTAG2"}));
  CHECK_FALSE(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
}

TEST_CASE("TagPushHandler forgets a pushed tag unmapped since instead of removing it",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  const model::TagRef product_a{"意向", "产品A"};
  REQUIRE(f.service.editor.MapTag(product_a, "etTAG1", 0).ok());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  AddTag(f, customer, kProductB);
  CHECK(f.RunOnce() == 1);
  // The corp tag etTAG2 is no longer ours (deleted on the platform, or unmapped by an operator).
  REQUIRE(f.service.editor.MapTag(kProductB, "", 0).ok());
  RemoveTag(f, customer, kProductB);
  CHECK(PendingPushes(f).empty());  // an unmapped tag queues nothing
  AddTag(f, customer, product_a);
  CHECK(f.RunOnce() == 1);

  const std::vector<json> calls = Bodies(f, "externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["add_tag"] == json::array({"etTAG1"}));
  CHECK_FALSE(calls[1].contains("remove_tag"));
  const auto pushed = f.pushes.List(customer, "acme");
  REQUIRE(pushed.ok());
  REQUIRE(pushed->size() == 1);
  CHECK((*pushed)[0].platform_tag_id == "etTAG1");
}

TEST_CASE("TagPushHandler marks a tag on the customers who held it before it was mapped",
          "[integration]") {
  Fixture f(PushingOptions());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  f.Apply({f.OaSubscribe("oOPEN001")});
  const int64_t contact = f.ByExternal("wmEXT001");
  const int64_t follower = f.ByOpenid("oOPEN001");
  AddTag(f, contact, kProductB);
  AddTag(f, follower, kStar);
  CHECK(PendingPushes(f).empty());  // nothing is mapped yet
  CHECK(f.RunOnce() == 0);

  auto mapped_b =
      f.service.editor.UpdateTagMapping(kProductB, {.wecom_tag_id = "etTAG2", .oa_tag_id = {}});
  REQUIRE(mapped_b.ok());
  CHECK(mapped_b->pushes_queued == 1);
  auto mapped_star =
      f.service.editor.UpdateTagMapping(kStar, {.wecom_tag_id = {}, .oa_tag_id = 100});
  REQUIRE(mapped_star.ok());
  CHECK(mapped_star->pushes_queued == 1);
  CHECK(f.RunOnce() == 2);

  CHECK(Has(RelationTags(f, "wmEXT001", "zhangsan"), "etTAG2"));
  const std::vector<int64_t> oa_tags = FollowerTags(f, "oOPEN001");
  CHECK(std::find(oa_tags.begin(), oa_tags.end(), 100) != oa_tags.end());
  CHECK(Bodies(f, "externalcontact/mark_tag").size() == 1);
  CHECK(Bodies(f, "tags/members/batchtagging").size() == 1);
}

TEST_CASE("TagPushHandler pushes nothing for a tag without a platform mapping", "[integration]") {
  Fixture f(PushingOptions());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  AddTag(f, f.ByExternal("wmEXT001"), {"兴趣", "露营"});
  CHECK(PendingPushes(f).empty());
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("externalcontact/add_corp_tag").empty());
}

TEST_CASE("TagPushHandler fails the job and counts the error when the secret is wrong",
          "[integration]") {
  Fixture f(PushingOptions());
  MapProductB(f);
  platform::Credential wrong = testing::SimCredential(f.sim.server, model::Platform::kWecom);
  wrong.secret = "rotated-elsewhere";
  platform::WecomClient misconfigured(wrong, f.caller);
  channels::OutboundDirectory directory;
  REQUIRE(
      directory.Add(std::make_unique<channels::wecom::WecomOutbound>("acme", misconfigured)).ok());
  TagPushHandler handler(f.service, f.pushes, directory, f.sim.clock, f.log);
  auto runner = f.MakeRunner();
  runner->AddHandler(model::kTagPushJobKind, handler);
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  AddTag(f, f.ByExternal("wmEXT001"), kProductB);
  const std::string key = PendingPushes(f).at(0).dedupe_key;

  CHECK(f.RunOnce(runner.get()) == 1);

  const storage::OutboxJob job = f.Job(key);
  CHECK(job.state == OutboxState::kFailed);
  CHECK(job.last_outcome == "config_error");
  CHECK(job.last_errcode == 40001);  // WeCom: invalid secret, not a token problem
  CHECK(f.metrics.Counter("scrmd_platform_config_errors_total", "", {"account", "code"})
            .Value({"acme", "40001"}) == 1);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").empty());
  f.sim.clock.Advance(std::chrono::hours(1));
  CHECK(f.RunOnce(runner.get()) == 0);
}

TEST_CASE("TagPushHandler fails a job whose payload names no customer", "[integration]") {
  Fixture f(PushingOptions());
  storage::OutboxJob bad;
  bad.kind = model::kTagPushJobKind;
  bad.account_id = "acme";
  bad.dedupe_key = "tagpush:acme:bad:1";
  bad.payload_json = R"({"customer":"x"})";
  REQUIRE(f.outbox.Enqueue(bad, f.sim.clock.NowUnixMillis()).value());
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(bad.dedupe_key).state == OutboxState::kFailed);
  CHECK(f.Job(bad.dedupe_key).last_outcome == "bad_payload");
}

}  // namespace
}  // namespace scrm::jobs
