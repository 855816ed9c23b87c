// Tag scores decay with their group's half-life on the injected clock; manual and platform tags;
// WeCom corp tag mappings.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using core::StatusCode;
using model::InteractionKind;
using testing::FindTag;
using testing::Fixture;

constexpr char kInterestRule[] = R"({"rules": [
  {"id": 1, "name": "产品A", "condition": {"keywords_any": ["产品A"]},
   "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}}]}]})";

TEST_CASE("ProfileService decays a tag score by the group's half-life when the clock moves",
          "[db]") {
  Fixture f(testing::Rules(kInterestRule));
  auto group = f.service.editor.ConfigureTagGroup("兴趣", 30, 2.0);
  REQUIRE(group.ok());
  f.Apply(f.OaText("oD", "产品A"));
  const int64_t id = f.ByOpenid("oD");
  const TagView* now = FindTag(f.KeptView(id), "兴趣", "产品A");
  REQUIRE(now != nullptr);
  CHECK(now->decayed_score == 2.0);
  CHECK(now->held);

  f.clock.Advance(std::chrono::hours(24 * 30));  // one half-life
  CHECK(FindTag(f.KeptView(id), "兴趣", "产品A")->decayed_score == Approx(1.0));
  CHECK_FALSE(FindTag(f.KeptView(id), "兴趣", "产品A")->held);
  f.clock.Advance(std::chrono::hours(24 * 30));
  CHECK(FindTag(f.KeptView(id), "兴趣", "产品A")->decayed_score == Approx(0.5));

  // Mentioning it again adds to the decayed score.
  f.Apply(f.OaText("oD", "还是产品A"));
  const TagView* again = FindTag(f.KeptView(id), "兴趣", "产品A");
  CHECK(again->decayed_score == Approx(2.5));
  CHECK(again->held);
  // The stored score is "as of" its update; reading never rewrites it.
  CHECK(again->detail.value.updated_at_ms == f.clock.NowUnixMillis());
}

TEST_CASE("ProfileService ListCustomers by tag keeps holders, faded scores or both when asked",
          "[db]") {
  Fixture f(testing::Rules(kInterestRule));
  REQUIRE(f.service.editor.ConfigureTagGroup("兴趣", 30, 2.0).ok());
  // Five customers mention 产品A a half-life ago (score 2 decays to 1: faded), then four more
  // now (score 2: held), interleaved by id so that pages must skip rows.
  std::vector<int64_t> faded;
  std::vector<int64_t> held;
  for (int i = 0; i < 9; ++i) {
    model::Interaction it = f.OaText("oH" + std::to_string(i), "产品A");
    f.Apply(it);
    (i % 2 == 0 ? faded : held).push_back(f.ByOpenid("oH" + std::to_string(i)));
  }
  // Age the even ones' scores by hand: one half-life older than the clock.
  f.clock.Advance(std::chrono::hours(24 * 30));
  for (size_t i = 1; i < 9; i += 2) f.Apply(f.OaText("oH" + std::to_string(i), "产品A"));
  auto tag = f.store.tags.Find("兴趣", "产品A");
  REQUIRE(tag.ok());
  REQUIRE(tag->has_value());
  const auto ids_of = [&](TagMatch match, size_t limit) {
    std::vector<int64_t> ids;
    CustomerQuery filter;
    filter.tag_id = (*tag)->tag.id;
    filter.match = match;
    filter.limit = limit;
    for (;;) {
      auto page = f.service.queries.ListCustomers(filter);
      REQUIRE(page.ok());
      for (const model::Customer& c : *page) ids.push_back(c.id);
      if (page->size() < limit) break;
      filter.after_id = page->back().id;
    }
    return ids;
  };
  // Held now: the odd ones (1 decayed to 1, plus 2 = 3 >= 2); faded: the even ones (1 < 2).
  CHECK(ids_of(TagMatch::kHeld, 2) == held);
  CHECK(ids_of(TagMatch::kFaded, 2) == faded);
  CHECK(ids_of(TagMatch::kAny, 4).size() == 9);
  CHECK(ids_of(TagMatch::kHeld, 50) == held);
}

TEST_CASE("ProfileService never decays a score when the group's half-life is 0", "[db]") {
  Fixture f(testing::Rules(kInterestRule));
  REQUIRE(f.service.editor.ConfigureTagGroup("兴趣", 0, 1.0).ok());
  f.Apply(f.OaText("oZ", "产品A"));
  f.clock.Advance(std::chrono::hours(24 * 3650));
  CHECK(FindTag(f.KeptView(f.ByOpenid("oZ")), "兴趣", "产品A")->decayed_score == 2.0);
}

TEST_CASE(
    "ProfileService decays a late interaction's weight to the stored time when it arrives "
    "out of order",
    "[db]") {
  Fixture f(testing::Rules(kInterestRule));
  REQUIRE(f.service.editor.ConfigureTagGroup("兴趣", 30, 1.0).ok());
  model::Interaction late = f.OaText("oO", "产品A");
  late.occurred_at_ms -= 30 * testing::kDay;  // happened a half-life ago, delivered now
  f.Apply(f.OaText("oO", "产品A"));
  f.Apply(late);
  const TagView* tag = FindTag(f.KeptView(f.ByOpenid("oO")), "兴趣", "产品A");
  REQUIRE(tag != nullptr);
  CHECK(tag->decayed_score == Approx(3.0));  // 2 now + 2 decayed by one half-life
  CHECK(tag->detail.value.updated_at_ms == f.clock.NowUnixMillis());
}

TEST_CASE("ProfileService ConfigureTagGroup rejects a half-life or threshold when out of range",
          "[db]") {
  Fixture f;
  CHECK(f.service.editor.ConfigureTagGroup("兴趣", -1, 1).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.editor.ConfigureTagGroup("兴趣", 3651, 1).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.editor.ConfigureTagGroup("", 30, 1).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.editor.ConfigureTagGroup("兴趣", 30, std::nan("")).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("ProfileService adds and removes a manual tag when staff tag a customer", "[db]") {
  Fixture f;
  f.Apply(f.OaText("oM", "hi"));
  const int64_t id = f.ByOpenid("oM");
  auto added = f.service.editor.AddManualTag(id, {"客户等级", "重点客户"}, 5);
  INFO(added.status().ToString());
  REQUIRE(added.ok());
  CHECK(added->held);
  CHECK(added->detail.value.source == model::TagSource::kManual);
  CHECK(added->detail.value.evidence_rule_id == 0);
  CHECK(added->detail.value.evidence_interaction_id == 0);
  CHECK(FindTag(f.KeptView(id), "客户等级", "重点客户") != nullptr);
  REQUIRE(f.service.editor.RemoveTag(id, {"客户等级", "重点客户"}).ok());
  CHECK(FindTag(f.KeptView(id), "客户等级", "重点客户") == nullptr);
  CHECK(f.service.editor.RemoveTag(id, {"客户等级", "重点客户"}).code() == StatusCode::kNotFound);
  CHECK(f.service.editor.AddManualTag(id, {"客户等级", "重点客户"}, 0).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.editor.AddManualTag(id, {"", "x"}, 1).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.editor.AddManualTag(999999, {"g", "x"}, 1).status().code() ==
        StatusCode::kNotFound);
}

TEST_CASE("ProfileService holds a contact's WeCom corp tags when they are synced", "[db]") {
  Fixture f;
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmP", "zhangsan"));
  const int64_t id = f.ByExternal("wmP");
  const std::vector<model::PlatformTag> tags = {
      {"客户等级", "一般", "etLEVEL1", 1},
      {"个人", "朋友", "etPERSONAL", 2},  // a member's own tag: ignored
  };
  REQUIRE(f.service.editor.SyncPlatformTags(id, tags).ok());
  const CustomerView view = f.View(id);
  REQUIRE(view.tags.size() == 1);
  const TagView& level = view.tags[0];
  CHECK(level.detail.tag.tag.name == "一般");
  CHECK(level.detail.tag.tag.wecom_tag_id == "etLEVEL1");
  CHECK(level.detail.value.source == model::TagSource::kPlatform);
  CHECK(level.held);
  // Removed on the platform: removed here.
  REQUIRE(f.service.editor.SyncPlatformTags(id, {}).ok());
  CHECK(f.View(id).tags.empty());
}

TEST_CASE("ProfileService unmaps a WeCom corp tag when a change_external_tag delete arrives",
          "[db]") {
  Fixture f;
  auto mapped = f.service.editor.MapTag({"客户等级", "VIP"}, "etVIP", 101);
  REQUIRE(mapped.ok());
  CHECK(mapped->tag.wecom_tag_id == "etVIP");
  CHECK(mapped->tag.oa_tag_id == 101);
  // The same WeCom id on another tag is a conflict.
  CHECK(f.service.editor.MapTag({"客户等级", "SVIP"}, "etVIP", 0).status().code() ==
        StatusCode::kAlreadyExists);

  model::Interaction deleted = f.Contact(InteractionKind::kTagDelete, "", "");
  deleted.payload = model::TagChangePayload{"delete", "etVIP", "tag", ""};
  f.Apply(deleted);
  auto tag = f.store.tags.Find("客户等级", "VIP");
  REQUIRE(tag.ok());
  REQUIRE(tag->has_value());
  CHECK((*tag)->tag.wecom_tag_id.empty());
  CHECK((*tag)->tag.oa_tag_id == 101);

  // A deleted group unmaps the group and every tag in it.
  REQUIRE(f.service.editor.MapTag({"客户等级", "VIP"}, "etVIP2", 0).ok());
  REQUIRE(f.db->InTransaction([&](storage::WriteTxn& txn) -> core::Status {
                SCRM_ASSIGN_OR_RETURN(auto group, f.store.tags.FindGroup(txn, "客户等级"));
                group->wecom_group_id = "etGROUP";
                return f.store.tags.UpdateGroup(txn, *group);
              })
              .ok());
  model::Interaction group_deleted = f.Contact(InteractionKind::kTagDelete, "", "");
  group_deleted.payload = model::TagChangePayload{"delete", "etGROUP", "tag_group", ""};
  f.Apply(group_deleted);
  tag = f.store.tags.Find("客户等级", "VIP");
  REQUIRE(tag.ok());
  CHECK((*tag)->tag.wecom_tag_id.empty());
  CHECK((*tag)->group.wecom_group_id.empty());
}

}  // namespace
}  // namespace scrm::profiles
