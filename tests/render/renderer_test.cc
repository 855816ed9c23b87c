// CompiledTemplate: every variable kind renders from the profile, unknown variables and refused
// constructs are named on compile, escaping follows the field, placeholders are required.
#include "campaigns/render/renderer.h"

#include <catch2/catch.hpp>
#include <string>

#include "src/core/random.h"

namespace scrm::render {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

model::MessageContent WecomText(std::string text) {
  model::WecomMessageContent content;
  content.text = std::move(text);
  return content;
}

RenderProfile SampleProfile() {
  RenderProfile profile;
  profile.customer_id = 42;
  profile.name = "李四";
  profile.stage = "engaged";
  profile.attributes["city"] = "杭州";
  profile.tags["兴趣/产品A"] = TagValue{2.5, true};
  profile.tags["意向/价格咨询"] = TagValue{0.4, false};
  profile.tags["版本/v1.2"] = TagValue{3, true};
  profile.owner_userid = "zhangsan";
  profile.owner_name = "张三";
  return profile;
}

std::string RenderWecomText(const std::string& source, const RenderProfile& profile,
                            const Placeholders& placeholders = {}) {
  auto compiled = CompiledTemplate::Compile(WecomText(source));
  INFO(compiled.status().ToString());
  REQUIRE(compiled.ok());
  auto rendered = compiled->Render(profile, placeholders);
  INFO(rendered.status().ToString());
  REQUIRE(rendered.ok());
  return std::get<model::WecomMessageContent>(*rendered).text;
}

std::string CompileError(const model::MessageContent& content) {
  auto compiled = CompiledTemplate::Compile(content);
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.status().code() == core::StatusCode::kInvalidArgument);
  return compiled.status().message();
}

TEST_CASE("CompiledTemplate renders every profile variable kind when the profile has them",
          "[unit]") {
  const std::string text = RenderWecomText(
      "{{customer.name}}|{{customer.id}}|{{customer.stage}}|{{attr.city}}|"
      "{{tag.兴趣/产品A.score}}|{{tag.兴趣/产品A.held}}|{{tag.意向/价格咨询.score}}|"
      "{{tag.版本/v1.2.score}}|{{owner.name}}|{{owner.userid}}",
      SampleProfile());
  CHECK(text == "李四|42|engaged|杭州|2.5|true|0.4|3|张三|zhangsan");
}

TEST_CASE("CompiledTemplate reads an attribute whose key holds dots whole", "[unit]") {
  RenderProfile profile;
  profile.attributes["wecom.corp_name"] = "腾讯";
  profile.attributes["wecom"] = "not this";
  CHECK(RenderWecomText("{{attr.wecom.corp_name}}", profile) == "腾讯");
}

TEST_CASE("CompiledTemplate renders absent values as nothing and a missing tag's score as 0",
          "[unit]") {
  CHECK(RenderWecomText("[{{customer.name}}][{{attr.city}}][{{tag.兴趣/产品B.score}}]"
                        "[{{tag.意向/价格咨询.held}}][{{owner.name}}]",
                        RenderProfile{}) == "[][][0][][]");
}

TEST_CASE("CompiledTemplate renders a section only when its value is present", "[unit]") {
  const std::string source =
      "{{#attr.city}}{{attr.city}}的朋友{{/attr.city}}{{^attr.city}}朋友{{/attr.city}}，"
      "{{#tag.兴趣/产品A.held}}A{{/tag.兴趣/产品A.held}}{{#tag.意向/价格咨询.held}}P"
      "{{/tag.意向/价格咨询.held}}";
  CHECK(RenderWecomText(source, SampleProfile()) == "杭州的朋友，A");
  CHECK(RenderWecomText(source, RenderProfile{}) == "朋友，");
}

TEST_CASE("CompiledTemplate treats an empty attribute as absent when a section tests it",
          "[unit]") {
  RenderProfile profile;
  profile.attributes["city"] = "";
  CHECK(RenderWecomText("{{#attr.city}}in {{attr.city}}{{/attr.city}}{{^attr.city}}-{{/attr.city}}",
                        profile) == "-");
}

TEST_CASE("CompiledTemplate renders placeholders from the values the campaign gives", "[unit]") {
  Placeholders placeholders;
  placeholders.link = "https://t.example.com/a?b=1";
  placeholders.coupon = "C-123";
  placeholders.referral_code = "R9";
  CHECK(RenderWecomText("{{link}} {{coupon}} {{referral_code}}", RenderProfile{}, placeholders) ==
        "https://t.example.com/a?b=1 C-123 R9");
}

TEST_CASE("CompiledTemplate refuses to render when a used placeholder is not given", "[unit]") {
  auto compiled = CompiledTemplate::Compile(WecomText("code {{coupon}}"));
  REQUIRE(compiled.ok());
  CHECK(compiled->UsesPlaceholders());
  auto rendered = compiled->Render(SampleProfile(), Placeholders{});
  REQUIRE_FALSE(rendered.ok());
  CHECK(rendered.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK_THAT(rendered.status().message(), StartsWith("coupon:"));
}

TEST_CASE("CompiledTemplate refuses a link placeholder that is not an http URL", "[unit]") {
  auto compiled = CompiledTemplate::Compile(WecomText("go {{link}}"));
  REQUIRE(compiled.ok());
  Placeholders placeholders;
  placeholders.link = "javascript:alert(1)";
  auto rendered = compiled->Render(RenderProfile{}, placeholders);
  REQUIRE_FALSE(rendered.ok());
  CHECK_THAT(rendered.status().message(), StartsWith("link:"));
}

TEST_CASE("CompiledTemplate renders the sample placeholders when a preview asks for them",
          "[unit]") {
  CHECK(RenderWecomText("{{link}}|{{coupon}}", RenderProfile{}, SamplePlaceholders()) ==
        "https://sample.invalid/link|SAMPLE-COUPON");
}

TEST_CASE("CompiledTemplate lists the variables it uses once each", "[unit]") {
  auto compiled = CompiledTemplate::Compile(
      WecomText("{{#attr.city}}{{attr.city}}{{/attr.city}} {{customer.name}} {{customer.name}}"));
  REQUIRE(compiled.ok());
  CHECK(compiled->variables() == std::vector<std::string>{"attr.city", "customer.name"});
  CHECK_FALSE(compiled->UsesPlaceholders());
}

TEST_CASE("CompiledTemplate refuses an unknown variable naming it and its field", "[unit]") {
  CHECK(CompileError(WecomText("您好 {{custmer.name}}")) ==
        "content.text.content: unknown variable {{custmer.name}} at byte 7");
  CHECK_THAT(CompileError(WecomText("{{tag.兴趣/产品A.scor}}")),
             Contains("unknown variable {{tag.兴趣/产品A.scor}}"));
  CHECK_THAT(CompileError(WecomText("{{tag.产品A.score}}")),
             Contains("unknown variable {{tag.产品A.score}}"));
  CHECK_THAT(CompileError(WecomText("{{#vip}}x{{/vip}}")), Contains("unknown variable {{vip}}"));
  CHECK_THAT(CompileError(WecomText("{{.}}")), Contains("unknown variable {{.}}"));
}

TEST_CASE("CompiledTemplate refuses partials, delimiter changes and unescaped tags", "[unit]") {
  CHECK_THAT(CompileError(WecomText("a {{> customer.name}}")), Contains("partials"));
  CHECK_THAT(CompileError(WecomText("{{=<% %>=}}<% customer.name %>")),
             Contains("delimiter changes"));
  CHECK_THAT(CompileError(WecomText("{{{customer.name}}}")), Contains("unescaped variable"));
  CHECK_THAT(CompileError(WecomText("{{& customer.name}}")), Contains("unescaped variable"));
}

TEST_CASE("CompiledTemplate refuses broken mustache naming the position", "[unit]") {
  CHECK(CompileError(WecomText("ab {{customer.name")) ==
        "content.text.content: unclosed tag at byte 3");
  CHECK_THAT(CompileError(WecomText("{{#attr.city}}x")), Contains("is not closed"));
  CHECK_THAT(CompileError(WecomText("{{#attr.city}}x{{/attr.a}}")), Contains("closes section"));
  CHECK_THAT(CompileError(WecomText("x{{/attr.a}}")), Contains("closes no section"));
  CHECK_THAT(CompileError(WecomText("x{{ }}")), Contains("tag without a name"));
}

TEST_CASE("CompiledTemplate refuses sections nested deeper than the limit", "[unit]") {
  std::string source;
  for (int i = 0; i < 9; ++i) source += "{{#attr.a" + std::to_string(i) + "}}";
  for (int i = 8; i >= 0; --i) source += "{{/attr.a" + std::to_string(i) + "}}";
  CHECK_THAT(CompileError(WecomText(source)), Contains("nested deeper than 8"));
  // Hundreds of opening tags are refused by the scan before kainjow's recursive passes see them.
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "{{#attr.x}}";
  CHECK_THAT(CompileError(WecomText(deep)), Contains("nested deeper than 8"));
}

TEST_CASE("CompiledTemplate refuses variables in id fields", "[unit]") {
  model::WecomMessageContent content;
  content.attachments.push_back(model::WecomImage{"{{attr.media}}", ""});
  CHECK(CompileError(content) ==
        "content.attachments[0].image.media_id: variables are not allowed here");
}

TEST_CASE("CompiledTemplate never renders mustache inside a value", "[unit]") {
  RenderProfile profile;
  profile.customer_id = 9;
  profile.name = "{{customer.id}}{{#x}}";
  CHECK(RenderWecomText("hi {{customer.name}}", profile) == "hi {{customer.id}}{{#x}}");
}

TEST_CASE("CompiledTemplate keeps plain-text values as typed in a WeCom text", "[unit]") {
  RenderProfile profile;
  profile.name = "<b>&\"'";
  CHECK(RenderWecomText("hi {{customer.name}}", profile) == "hi <b>&\"'");
}

TEST_CASE("CompiledTemplate HTML-escapes values in OA customer-service text", "[unit]") {
  auto compiled = CompiledTemplate::Compile(
      model::OaCustomTextContent{"<a href=\"{{link}}\">{{customer.name}}</a> {{attr.note}}"});
  REQUIRE(compiled.ok());
  RenderProfile profile;
  profile.name = "<a href=\"x\">";
  profile.attributes["note"] = "a&b";
  Placeholders placeholders;
  placeholders.link = "https://t.example.com/x?a=1&b=2";
  auto rendered = compiled->Render(profile, placeholders);
  REQUIRE(rendered.ok());
  CHECK(std::get<model::OaCustomTextContent>(*rendered).content ==
        "<a href=\"https://t.example.com/x?a=1&amp;b=2\">&lt;a href=&quot;x&quot;&gt;</a> a&amp;b");
}

TEST_CASE("CompiledTemplate URL-encodes values in URL fields and keeps the link whole", "[unit]") {
  model::WecomMessageContent content;
  content.attachments.push_back(model::WecomLink{
      "{{customer.name}}的链接",
      "https://shop.example.com/s?city={{attr.city}}&n={{customer.name}}", "", ""});
  content.attachments.push_back(model::WecomLink{"t", "{{link}}", "", ""});
  auto compiled = CompiledTemplate::Compile(content);
  INFO(compiled.status().ToString());
  REQUIRE(compiled.ok());
  RenderProfile profile;
  profile.name = "a&b=c d";
  profile.attributes["city"] = "杭州";
  Placeholders placeholders;
  placeholders.link = "https://t.example.com/r/abc?x=1";
  auto rendered = compiled->Render(profile, placeholders);
  REQUIRE(rendered.ok());
  const auto& out = std::get<model::WecomMessageContent>(*rendered);
  const auto& first = std::get<model::WecomLink>(out.attachments[0]);
  CHECK(first.title == "a&b=c d的链接");
  CHECK(first.url == "https://shop.example.com/s?city=%E6%9D%AD%E5%B7%9E&n=a%26b%3Dc%20d");
  CHECK(std::get<model::WecomLink>(out.attachments[1]).url == "https://t.example.com/r/abc?x=1");
}

TEST_CASE("CompiledTemplate refuses a template whose static text is over a limit", "[unit]") {
  CHECK(CompileError(WecomText(std::string(4001, 'x'))) ==
        "content.text.content: 4001 bytes, at most 4000");
  // The static text counts even around variables.
  CHECK_THAT(
      CompileError(WecomText(std::string(3990, 'x') + "{{customer.name}}" + std::string(11, 'y'))),
      Contains("4001 bytes, at most 4000"));
}

TEST_CASE("CompiledTemplate refuses a rendered message over a limit naming the field", "[unit]") {
  auto compiled = CompiledTemplate::Compile(WecomText(std::string(3990, 'x') + "{{attr.note}}"));
  REQUIRE(compiled.ok());
  RenderProfile profile;
  profile.attributes["note"] = "short";
  CHECK(compiled->Render(profile, {}).ok());
  profile.attributes["note"] = std::string(11, 'n');
  auto rendered = compiled->Render(profile, {});
  REQUIRE_FALSE(rendered.ok());
  CHECK(rendered.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(rendered.status().message() ==
        "rendered message: content.text.content: 4001 bytes, at most 4000");
}

TEST_CASE("CompiledTemplate checks OA template data values in characters on render", "[unit]") {
  model::OaTemplateContent content;
  content.template_id = "T1";
  content.data["thing1"] = model::OaTemplateField{"{{customer.name}}您好", ""};
  auto compiled = CompiledTemplate::Compile(content);
  REQUIRE(compiled.ok());
  RenderProfile profile;
  profile.name = std::string("一二三四五六七八九十一二三四五六七八");  // 18 characters
  CHECK(compiled->Render(profile, {}).ok());
  profile.name += "九";
  auto rendered = compiled->Render(profile, {});
  REQUIRE_FALSE(rendered.ok());
  CHECK(rendered.status().message() ==
        "rendered message: content.data.thing1.value: 21 characters, at most 20");
}

TEST_CASE("CompiledTemplate refuses an empty URL field once rendered", "[unit]") {
  model::OaCustomNewsContent content;
  content.articles.push_back(model::OaNewsArticle{"t", "", "{{attr.page}}", ""});
  auto compiled = CompiledTemplate::Compile(content);
  REQUIRE(compiled.ok());  // the value is not known when it is saved
  auto rendered = compiled->Render(RenderProfile{}, {});
  REQUIRE_FALSE(rendered.ok());
  CHECK(rendered.status().message() ==
        "rendered message: content.news.articles[0].url: required, must not be empty");
}

TEST_CASE("CompiledTemplate never crashes on generated mustache-like text", "[unit]") {
  // Fragments that make kainjow's parser and the scan disagree if anything does: braces of every
  // width, section ends without starts, unknown and known names, whitespace inside tags.
  static const char* const kPieces[] = {
      "{{",
      "}}",
      "{",
      "}",
      "{{{",
      "}}}",
      "{{#",
      "{{/",
      "{{^",
      "{{!",
      "{{>",
      "{{=",
      "{{&",
      "customer.name",
      "attr.city",
      "link",
      " ",
      "\n",
      "杭州",
      "{{customer.name}}",
      "{{#attr.city}}",
      "{{/attr.city}}",
      "{{^attr.city}}",
      "tag.兴趣/产品A.held",
      ".",
      "=",
      "x",
  };
  core::FakeRandom random(7);
  RenderProfile profile = SampleProfile();
  int compiled_ok = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string source;
    const size_t pieces = 1 + random.NextU64() % 12;
    for (size_t i = 0; i < pieces; ++i) {
      source += kPieces[random.NextU64() % (sizeof(kPieces) / sizeof(kPieces[0]))];
    }
    auto compiled = CompiledTemplate::Compile(WecomText(source));
    if (!compiled.ok()) {
      CHECK(compiled.status().code() == core::StatusCode::kInvalidArgument);
      continue;
    }
    ++compiled_ok;
    auto rendered = compiled->Render(profile, SamplePlaceholders());
    INFO(source);
    CHECK((rendered.ok() || rendered.status().code() == core::StatusCode::kFailedPrecondition));
  }
  CHECK(compiled_ok > 100);  // the generator reaches the renderer, not only the refusals
}

}  // namespace
}  // namespace scrm::render
