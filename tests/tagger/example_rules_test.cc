// The seed rules shipped in config/tag_rules.example.json load and tag what they promise.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/tagger/rule_engine.h"
#include "src/tagger/rule_json.h"
#include "tests/support/test_support.h"
#include "tests/tagger/tagger_fakes.h"

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using testing::AddedTags;
using testing::Event;
using testing::FakeWindowCounter;
using testing::Text;

std::unique_ptr<RuleEngine> ExampleEngine() {
  core::StatusOr<std::vector<model::TagRule>> rules =
      LoadTagRulesFile(scrm::testing::SourcePath("config/tag_rules.example.json"));
  INFO(rules.status().ToString());
  REQUIRE(rules.ok());
  CHECK(rules->size() == 12);
  return testing::Engine(std::move(rules).value());
}

TEST_CASE("Example rules tag interest and budget when a message names both", "[unit]") {
  const auto engine = ExampleEngine();
  const FakeWindowCounter counter(1);
  const std::vector<RuleMatch> matches =
      engine->Evaluate(Text("我对产品A很感兴趣，预算5万-10万"), nullptr, counter);
  // Budget band (priority 50), "stated a budget" (40), interest (10).
  CHECK(AddedTags(matches) ==
        std::vector<std::string>{"预算/5万-10万", "意向/已说明预算", "兴趣/产品A"});
  CHECK(testing::Ids(matches) == std::vector<int64_t>{5, 6, 1});
}

TEST_CASE("Example rules tag the channel when a QR scene or contact state has the prefix",
          "[unit]") {
  const auto engine = ExampleEngine();
  const FakeWindowCounter counter;
  CHECK(AddedTags(engine->Evaluate(
            Event(InteractionKind::kSubscribe, model::QrScenePayload{"channel_expo", "t"}), nullptr,
            counter)) == std::vector<std::string>{"渠道/公众号渠道码"});
  model::ContactChangePayload add;
  add.state = "channel_douyin";
  CHECK(AddedTags(engine->Evaluate(Event(InteractionKind::kContactAdd, add), nullptr, counter)) ==
        std::vector<std::string>{"渠道/企微联系我"});
}

TEST_CASE("Example rules tag VIP when an order reaches 5000 CNY", "[unit]") {
  const auto engine = ExampleEngine();
  const FakeWindowCounter counter;
  model::OrderFacts order;
  order.amount_cents = 500000;
  const model::Interaction in = Event(InteractionKind::kUnknown);
  CHECK(AddedTags(engine->Evaluate(in, &order, counter)) == std::vector<std::string>{"价值/VIP"});
  order.amount_cents = 499999;
  CHECK(engine->Evaluate(in, &order, counter).empty());
}

TEST_CASE("Example rules tag 活跃 when the third message in 7 days arrives", "[unit]") {
  const auto engine = ExampleEngine();
  const FakeWindowCounter two(2);
  CHECK(engine->Evaluate(Text("你好"), nullptr, two).empty());
  const FakeWindowCounter three(3);
  CHECK(AddedTags(engine->Evaluate(Text("你好"), nullptr, three)) ==
        std::vector<std::string>{"活跃度/活跃"});
}

TEST_CASE("Example rules survive a JSON round trip when written back", "[unit]") {
  const auto rules = LoadTagRulesFile(scrm::testing::SourcePath("config/tag_rules.example.json"));
  REQUIRE(rules.ok());
  const auto back = ParseTagRules(TagRulesToText(*rules));
  REQUIRE(back.ok());
  CHECK(*back == *rules);
}

}  // namespace
}  // namespace scrm::tagger
