// segments::Parse and Format: every predicate of docs/segments.md, precedence, the errors (each
// names its byte position), the limits, a round trip through Format, and a mutation loop over
// many broken inputs that must answer an error, never crash.
#include "campaigns/segments/parser.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "tests/segments/segments_test_helpers.h"

namespace scrm::segments {
namespace {

using testing::SameTree;

const Predicate& Leaf(const Query& q) {
  REQUIRE(q.root.kind == Node::Kind::kPredicate);
  return q.root.predicate;
}

Query MustParse(const std::string& text) {
  auto q = Parse(text);
  INFO(text << " → " << q.status().ToString());
  REQUIRE(q.ok());
  return std::move(q).value();
}

std::string ParseError(const std::string& text) {
  auto q = Parse(text);
  INFO(text);
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().code() == core::StatusCode::kInvalidArgument);
  return q.status().message();
}

constexpr int64_t kDay = 86'400'000;

TEST_CASE("Parse reads every colon predicate with its value", "[unit]") {
  struct Case {
    std::string text;
    Field field;
    std::string name;
    std::string value;
  };
  const std::vector<Case> cases = {
      {R"(tag:"兴趣/产品A")", Field::kTag, "兴趣/产品A", ""},
      {"stage:customer", Field::kStage, "", "customer"},
      {"stage:at_risk", Field::kStage, "", "at_risk"},
      {"platform:wecom", Field::kPlatform, "", "wecom"},
      {"platform:oa", Field::kPlatform, "", "oa"},
      {"account:acme", Field::kAccount, "", "acme"},
      {"owner:zhangsan", Field::kOwner, "", "zhangsan"},
      {"follower:lisi", Field::kFollower, "", "lisi"},
      {R"(channel:"expo2026")", Field::kChannel, "", "expo2026"},
      {R"(segment:"vip-hangzhou")", Field::kSegment, "vip-hangzhou", ""},
      {R"(bought:"sku-123")", Field::kBought, "", "sku-123"},
      {R"(bought_category:"冰箱")", Field::kBoughtCategory, "", "冰箱"},
      {"bought_category:冰箱", Field::kBoughtCategory, "", "冰箱"},
      {"relation:connected", Field::kRelation, "", "connected"},
      {"relation:any", Field::kRelation, "", "any"},
      {"relation:ended", Field::kRelation, "", "ended"},
  };
  for (const auto& c : cases) {
    const Query q = MustParse(c.text);
    const Predicate& p = Leaf(q);
    INFO(c.text);
    CHECK(p.field == c.field);
    CHECK(p.op == Op::kEq);
    CHECK(p.name == c.name);
    CHECK(p.value == c.value);
    CHECK(p.pos == 0);
    CHECK(p.len == c.text.size());
  }
}

TEST_CASE("Parse reads comparisons, windows and numbers", "[unit]") {
  Query q = MustParse(R"(tag_score:"意向/价格咨询" >= 3)");
  CHECK(Leaf(q).field == Field::kTagScore);
  CHECK(Leaf(q).name == "意向/价格咨询");
  CHECK(Leaf(q).op == Op::kGe);
  CHECK(Leaf(q).number == 3);

  q = MustParse("tag_score:意向/价格咨询<-1.5");
  CHECK(Leaf(q).op == Op::kLt);
  CHECK(Leaf(q).number == -1.5);

  q = MustParse(R"(attr:city = "杭州")");
  CHECK(Leaf(q).field == Field::kAttr);
  CHECK(Leaf(q).name == "city");
  CHECK(Leaf(q).value == "杭州");
  CHECK(Leaf(q).op == Op::kEq);
  CHECK(MustParse(R"(attr:city != "杭州")").root.predicate.op == Op::kNe);

  q = MustParse("last_active < 30d");
  CHECK(Leaf(q).field == Field::kLastActive);
  CHECK(Leaf(q).op == Op::kLt);
  CHECK(Leaf(q).window_ms == 30 * kDay);
  q = MustParse("created > 7d");
  CHECK(Leaf(q).field == Field::kCreated);
  CHECK(Leaf(q).op == Op::kGt);
  CHECK(Leaf(q).window_ms == 7 * kDay);
  CHECK(MustParse("created <= 90m").root.predicate.window_ms == 90 * 60'000);
  CHECK(MustParse("created >= 12h").root.predicate.window_ms == 12 * 3'600'000);

  q = MustParse("count(message.text, 7d) >= 3");
  CHECK(Leaf(q).field == Field::kCount);
  CHECK(Leaf(q).name == "message.text");
  CHECK(Leaf(q).window_ms == 7 * kDay);
  CHECK(Leaf(q).op == Op::kGe);
  CHECK(Leaf(q).number == 3);
  CHECK(MustParse(R"(count("oa.subscribe",90d)=0)").root.predicate.number == 0);

  q = MustParse("orders.count >= 2");
  CHECK(Leaf(q).field == Field::kOrdersCount);
  CHECK(Leaf(q).number == 2);
  q = MustParse("orders.total >= 100000");
  CHECK(Leaf(q).field == Field::kOrdersTotal);
  CHECK(Leaf(q).number == 100000);
}

TEST_CASE("Parse binds and tighter than or and keeps parentheses", "[unit]") {
  Query q = MustParse("stage:new or stage:lost and owner:a");
  REQUIRE(q.root.kind == Node::Kind::kOr);
  REQUIRE(q.root.children.size() == 2);
  CHECK(q.root.children[0].predicate.value == "new");
  REQUIRE(q.root.children[1].kind == Node::Kind::kAnd);
  CHECK(q.root.children[1].children[1].predicate.value == "a");

  q = MustParse("(stage:new or stage:lost) and owner:a");
  REQUIRE(q.root.kind == Node::Kind::kAnd);
  CHECK(q.root.children[0].kind == Node::Kind::kOr);

  q = MustParse("owner:a and owner:b and owner:c or owner:d");
  REQUIRE(q.root.kind == Node::Kind::kOr);
  REQUIRE(q.root.children[0].kind == Node::Kind::kAnd);
  CHECK(q.root.children[0].children.size() == 3);  // one node per chain

  q = MustParse("not stage:lost and not (owner:a or owner:b)");
  REQUIRE(q.root.kind == Node::Kind::kAnd);
  CHECK(q.root.children[0].kind == Node::Kind::kNot);
  CHECK(q.root.children[0].children[0].predicate.value == "lost");
  REQUIRE(q.root.children[1].kind == Node::Kind::kNot);
  CHECK(q.root.children[1].children[0].kind == Node::Kind::kOr);
  CHECK(MustParse("not not owner:a").root.children[0].kind == Node::Kind::kNot);
}

TEST_CASE("Parse sets clause positions, segment references and the relation filter", "[unit]") {
  const std::string text = R"(tag:"兴趣/产品A"  and (segment:"vip" or segment:vip or segment:"b"))";
  Query q = MustParse(text);
  CHECK(q.text == text);
  REQUIRE(q.root.kind == Node::Kind::kAnd);
  const Predicate& tag = q.root.children[0].predicate;
  CHECK(text.substr(tag.pos, tag.len) == R"(tag:"兴趣/产品A")");
  const Predicate& second = q.root.children[1].children[1].predicate;
  CHECK(text.substr(second.pos, second.len) == "segment:vip");
  CHECK(q.segment_refs == std::vector<std::string>{"vip", "b"});
  CHECK(q.relation_filter == Query::RelationFilter::kConnected);

  q = MustParse("stage:new and not relation:ended");
  CHECK(q.relation_filter == Query::RelationFilter::kAny);
  const Predicate& count = MustParse("  count( message.text ,7d )  > 1 ").root.predicate;
  CHECK(count.pos == 2);
  CHECK(count.len == std::string("count( message.text ,7d )  > 1").size());
}

TEST_CASE("Parse reads escapes in strings and keywords as values", "[unit]") {
  Query q = MustParse(R"(attr:"a \"b\"" = "x\\y\n\tz")");
  CHECK(Leaf(q).name == "a \"b\"");
  CHECK(Leaf(q).value == "x\\y\n\tz");
  // After a colon the next word is a value, whatever it spells.
  CHECK(MustParse("owner:and").root.predicate.value == "and");
  CHECK(MustParse("owner:\"or\" and owner:not").root.children[1].predicate.value == "not");
}

TEST_CASE("Parse errors name the byte position and what was expected", "[unit]") {
  CHECK(ParseError(R"(tag_score:"意向/价格咨询")") ==
        "at 31: expected a comparison (<, <=, >, >=, =, !=) after tag_score:\"意向/价格咨询\", "
        "found end of query");
  CHECK(ParseError("") == "at 0: expected a predicate, \"(\" or \"not\", found end of query");
  CHECK(ParseError("stage:new and") ==
        "at 13: expected a predicate, \"(\" or \"not\", found end of query");
  CHECK(ParseError("stage:new stage:lost") ==
        "at 10: expected \"and\", \"or\" or the end of the query, found stage");
  CHECK(ParseError("(stage:new") ==
        "at 10: expected \"and\", \"or\" or \")\" to close the \"(\" at 0, found end of query");
  CHECK(ParseError("stage:ghost") ==
        "at 6: unknown stage \"ghost\"; expected new, engaged, customer, repeat, at_risk or lost");
  CHECK(ParseError("platform:qq").starts_with("at 9: unknown platform \"qq\""));
  CHECK(ParseError("relation:maybe").starts_with("at 9: unknown relation"));
  CHECK(ParseError("colour:red").starts_with("at 0: expected tag, tag_score, stage,"));
  CHECK(ParseError("tag:产品A").starts_with("at 4: expected a tag as \"group/name\""));
  CHECK(ParseError("tag:\"/x\"").starts_with("at 4: expected a tag as"));
  CHECK(ParseError("tag:\"x/\"").starts_with("at 4: expected a tag as"));
  CHECK(ParseError("stage customer") == "at 6: expected \":\" after stage, found customer");
  CHECK(ParseError("owner:") == "at 6: expected a value after owner:, found end of query");
  CHECK(ParseError("owner:\"\"") == "at 6: expected a value, found \"\"");
  CHECK(ParseError("attr:city > 3") == "at 10: attr takes = or !=, found >");
  CHECK(ParseError("last_active = 3d") == "at 12: last_active takes <, <=, > or >=, found =");
  CHECK(ParseError("last_active < 30")
            .starts_with(
                "at 14: expected a window (a number then m, h or d: 30d) after last_active <"));
  CHECK(ParseError("last_active < 0d") == "at 14: a window must be at least 1d");
  CHECK(ParseError("created > 3651d") ==
        "at 10: the window of created must be at most 3650d, found 3651d");
  CHECK(ParseError("count(message.text, 91d) > 1") ==
        "at 20: the window of count must be at most 90d, found 91d");
  CHECK(ParseError("count(message.txt, 9d) > 1")
            .starts_with("at 6: unknown interaction kind \"message.txt\""));
  CHECK(ParseError("count(message.text 9d) > 1") ==
        "at 19: expected \",\" after count(message.text, found 9d");
  CHECK(ParseError("count(message.text, 7d) >= 2.5")
            .starts_with("at 27: expected a whole number >= 0 after count(message.text, 7d) >="));
  CHECK(ParseError("orders.count >= -1").starts_with("at 16: expected a whole number >= 0"));
  CHECK(ParseError("tag_score:a/b > 1e9").starts_with("at 16: expected a number"));
  CHECK(ParseError("tag_score:a/b > nan").starts_with("at 16: expected a number"));
  CHECK(ParseError("tag_score:a/b > 10000000000000000") == "at 16: a number above 10^15");
  CHECK(ParseError("owner:\"abc") == "at 6: a string that is never closed (missing \")");
  CHECK(ParseError("owner:\"a\\qb\"") == "at 8: expected one of the escapes \\\" \\\\ \\n \\t");
  CHECK(ParseError("owner:\"a\nb\"") == "at 8: a control character in a string; write \\n or \\t");
  CHECK(ParseError("owner:a ! owner:b") == "at 8: expected \"!=\", found a lone \"!\"");
  CHECK(ParseError("owner:a and \xff") == "at 12: not UTF-8");
  CHECK(ParseError(std::string("owner:a\0b", 9)) == "at 7: a control character outside a string");
  CHECK(ParseError("owner:a\x01") == "at 7: a control character outside a string");
  CHECK(ParseError("and owner:a").starts_with("at 0: expected a predicate"));
}

TEST_CASE("Parse enforces the size, depth, predicate and value limits", "[unit]") {
  CHECK(ParseError(std::string(4097, ' ')) == "at 4096: the query is longer than 4096 bytes");
  CHECK(Parse(std::string(4000, ' ') + "stage:new").ok());

  std::string deep = "owner:a";
  for (int i = 0; i < 32; ++i) deep = "(" + deep + ")";
  CHECK(Parse(deep).ok());
  CHECK(ParseError("(" + deep + ")") ==
        "at 32: nested deeper than 32 levels of parentheses and not");
  std::string nots;
  for (int i = 0; i < 33; ++i) nots += "not ";
  CHECK(ParseError(nots + "owner:a").starts_with("at 128: nested deeper than 32"));

  std::string many = "owner:a";
  for (int i = 1; i < 100; ++i) many += " or owner:a";
  CHECK(Parse(many).ok());
  CHECK(ParseError(many + " or owner:b") ==
        "at " + std::to_string(many.size() + 4) + ": more than 100 predicates");

  CHECK(Parse("owner:\"" + std::string(256, 'x') + "\"").ok());
  CHECK(ParseError("owner:\"" + std::string(257, 'x') + "\"") ==
        "at 6: a string longer than 256 bytes");
  CHECK(ParseError("owner:" + std::string(257, 'x')) == "at 6: a value longer than 256 bytes");
}

TEST_CASE("Format writes a text that Parse reads back to the same tree", "[unit]") {
  const std::vector<std::string> texts = {
      R"(tag:"兴趣/产品A" and tag_score:"意向/价格咨询" >= 3 and not stage:lost)",
      "stage:customer or platform:wecom and account:acme",
      "(owner:zhangsan or follower:lisi) and (attr:city = \"杭州\" or attr:\"a b\" != \"q\\\"\")",
      "channel:\"expo 2026\" and last_active < 30d and created > 7d and created <= 90m",
      "count(message.text, 7d) >= 3 or count(oa.subscribe, 36h) != 0",
      "segment:\"vip-hangzhou\" and orders.count >= 2 and orders.total >= 100000",
      "bought:\"sku-123\" or bought_category:冰箱 or relation:ended",
      "not not (owner:a and (owner:b and owner:c)) and tag_score:a/b < -0.25",
      "owner:\"and\" and attr:\"x\\ny\\tz\" = \"\\\\\"",
  };
  for (const auto& text : texts) {
    const Query q = MustParse(text);
    const std::string formatted = Format(q);
    INFO(text << " → " << formatted);
    const Query back = MustParse(formatted);
    CHECK(SameTree(q.root, back.root));
    CHECK(back.relation_filter == q.relation_filter);
    CHECK(back.segment_refs == q.segment_refs);
    CHECK(Format(back) == formatted);
  }
}

TEST_CASE("Parse answers an error and never crashes on truncated and mutated queries", "[unit]") {
  const std::vector<std::string> seeds = {
      R"(tag:"兴趣/产品A" and tag_score:"意向/价格咨询" >= 3 and not (stage:lost or owner:x))",
      R"(count(message.text, 7d) >= 3 and attr:city != "杭\"州" and last_active < 30d)",
      R"(segment:"vip" or (relation:ended and orders.total >= 100000 and bought:"s\\1"))",
  };
  std::string alphabet = "()\":,<>=!\\ andortg_sc.7d-/\xe6\x9d\xad\n\x01\r";
  alphabet += '\0';
  std::mt19937 rng(14);  // fixed seed: the same inputs on every run
  size_t ok = 0;
  size_t failed = 0;
  for (const auto& seed : seeds) {
    for (size_t cut = 0; cut <= seed.size(); ++cut) {
      auto q = Parse(seed.substr(0, cut));
      (q.ok() ? ok : failed) += 1;
      if (!q.ok()) CHECK(q.status().message().starts_with("at "));
    }
    for (int round = 0; round < 3000; ++round) {
      std::string text = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0: text.erase(at, 1 + rng() % 3); break;
          case 1: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
          default: text[at] = alphabet[rng() % alphabet.size()];
        }
      }
      auto q = Parse(text);
      if (!q.ok()) {
        ++failed;
        CHECK(q.status().code() == core::StatusCode::kInvalidArgument);
        // Every error names a byte position inside the text (or its end).
        const std::string& message = q.status().message();
        REQUIRE(message.starts_with("at "));
        CHECK(std::stoul(message.substr(3)) <= text.size());
        continue;
      }
      ++ok;
      // What parses formats and parses back to the same tree.
      auto back = Parse(Format(*q));
      REQUIRE(back.ok());
      CHECK(SameTree(q->root, back->root));
    }
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
}

}  // namespace
}  // namespace scrm::segments
