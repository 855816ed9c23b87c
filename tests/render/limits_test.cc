// Per channel limits on save (static text and counts) and the escaping helpers.
#include "campaigns/render/limits.h"

#include <catch2/catch.hpp>

#include "campaigns/render/escape.h"
#include "campaigns/render/renderer.h"

namespace scrm::render {
namespace {

std::string LimitError(const model::MessageContent& content) {
  auto compiled = CompiledTemplate::Compile(content);
  REQUIRE_FALSE(compiled.ok());
  return compiled.status().message();
}

model::WecomLink SimpleLink() { return model::WecomLink{"t", "https://a.example.com", "", ""}; }

TEST_CASE("Limits refuse a WeCom message with more than nine attachments", "[unit]") {
  model::WecomMessageContent content;
  for (int i = 0; i < 9; ++i) content.attachments.push_back(SimpleLink());
  CHECK(CompiledTemplate::Compile(content).ok());
  content.attachments.push_back(SimpleLink());
  CHECK(LimitError(content) == "content.attachments: 10 attachments, at most 9");
}

TEST_CASE("Limits refuse a WeCom message with neither text nor attachment", "[unit]") {
  CHECK(LimitError(model::WecomMessageContent{}) ==
        "content: needs text.content or at least one attachment");
}

TEST_CASE("Limits check WeCom attachment members", "[unit]") {
  model::WecomMessageContent content;
  content.attachments.push_back(model::WecomImage{"M", "https://a.example.com/i.png"});
  CHECK(LimitError(content) ==
        "content.attachments[0].image: needs exactly one of media_id and pic_url");
  content.attachments[0] = model::WecomLink{std::string(129, 't'), "https://a.example.com", "", ""};
  CHECK(LimitError(content) == "content.attachments[0].link.title: 129 bytes, at most 128");
  content.attachments[0] = model::WecomLink{"t", "ftp://a.example.com", "", ""};
  CHECK(LimitError(content) ==
        "content.attachments[0].link.url: must be an http:// or https:// URL");
  content.attachments[0] = model::WecomMiniprogram{"t", "wx1", "", "M"};
  CHECK(LimitError(content) ==
        "content.attachments[0].miniprogram.page: required, must not be empty");
}

TEST_CASE("Limits check OA template ids, keys, values and colours", "[unit]") {
  model::OaTemplateContent content;
  content.template_id = "T 1";
  content.data["thing1"] = model::OaTemplateField{"v", ""};
  CHECK(LimitError(content) == "content.template_id: letters, digits, '-' and '_' only");
  content.template_id = "T1";
  content.data["phrase2"] = model::OaTemplateField{"配送中了吗啊", ""};  // 6 characters
  CHECK(LimitError(content) == "content.data.phrase2.value: 6 characters, at most 5");
  content.data.erase("phrase2");
  content.data["thing1"].color = "red";
  CHECK(LimitError(content) == "content.data.thing1.color: must be #RRGGBB");
  content.data["thing1"].color = "#FF0000";
  content.data["bad-key"] = model::OaTemplateField{"v", ""};
  CHECK(LimitError(content) == "content.data.bad-key: key of letters, digits and '_' only");
  content.data.clear();
  CHECK(LimitError(content) == "content.data: needs at least one field");
}

TEST_CASE("Limits refuse OA news with other than one article and long OA text", "[unit]") {
  model::OaCustomNewsContent news;
  CHECK(LimitError(news) == "content.news.articles: 0 articles, must be 1..1");
  news.articles.push_back(model::OaNewsArticle{"t", "", "https://a.example.com", ""});
  CHECK(CompiledTemplate::Compile(news).ok());
  news.articles.push_back(news.articles[0]);
  CHECK(LimitError(news) == "content.news.articles: 2 articles, must be 1..1");
  CHECK(LimitError(model::OaCustomTextContent{std::string(2049, 'x')}) ==
        "content.text.content: 2049 bytes, at most 2048");
}

TEST_CASE("OaTemplateValueLimit follows the key's type prefix", "[unit]") {
  CHECK(OaTemplateValueLimit("thing1") == 20);
  CHECK(OaTemplateValueLimit("character_string2") == 20);
  CHECK(OaTemplateValueLimit("phrase3") == 5);
  CHECK(OaTemplateValueLimit("car_number4") == 8);
  CHECK(OaTemplateValueLimit("name5") == 10);
  CHECK(OaTemplateValueLimit("keyword1") == 20);
}

TEST_CASE("Utf8Chars counts code points", "[unit]") {
  CHECK(Utf8Chars("") == 0);
  CHECK(Utf8Chars("ab") == 2);
  CHECK(Utf8Chars("杭州") == 2);
  CHECK(Utf8Chars("a😀") == 2);
}

TEST_CASE("UrlEncode keeps only unreserved characters", "[unit]") {
  CHECK(UrlEncode("aZ9-._~") == "aZ9-._~");
  CHECK(UrlEncode("a b&c=d/e?") == "a%20b%26c%3Dd%2Fe%3F");
  CHECK(UrlEncode("杭") == "%E6%9D%AD");
}

TEST_CASE("HtmlEscape escapes markup characters", "[unit]") {
  CHECK(HtmlEscape("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(EscapeFor(FieldKind::kPlain, "<b>") == "<b>");
}

TEST_CASE("IsHttpUrl accepts absolute http URLs only", "[unit]") {
  CHECK(IsHttpUrl("https://a.example.com/x?y=1"));
  CHECK(IsHttpUrl("http://a"));
  CHECK_FALSE(IsHttpUrl("https://"));
  CHECK_FALSE(IsHttpUrl("https:///path"));
  CHECK_FALSE(IsHttpUrl("javascript:alert(1)"));
  CHECK_FALSE(IsHttpUrl("https://a.example.com/a b"));
}

}  // namespace
}  // namespace scrm::render
