// The JSON codec of message contents and template documents: each channel round-trips, and
// malformed input is refused naming the member.
#include "campaigns/render/template_json.h"

#include <catch2/catch.hpp>

namespace scrm::render {
namespace {

using Catch::Matchers::StartsWith;
using nlohmann::json;

void RoundTrips(const model::MessageContent& content) {
  const json encoded = ContentToJson(content);
  auto decoded = ContentFromJson(encoded, model::ChannelOf(content));
  INFO(encoded.dump());
  INFO(decoded.status().ToString());
  REQUIRE(decoded.ok());
  CHECK(*decoded == content);
  CHECK(ContentToJson(*decoded) == encoded);
}

std::string ContentError(const json& body, model::TemplateChannel channel) {
  auto decoded = ContentFromJson(body, channel);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().code() == core::StatusCode::kInvalidArgument);
  return decoded.status().message();
}

TEST_CASE("ContentFromJson round-trips a WeCom message with every attachment kind", "[unit]") {
  model::WecomMessageContent content;
  content.text = "您好 {{customer.name}}";
  content.attachments.push_back(model::WecomImage{"MEDIA1", ""});
  content.attachments.push_back(model::WecomImage{"", "https://img.example.com/a.png"});
  content.attachments.push_back(
      model::WecomLink{"标题", "https://a.example.com", "说明", "https://a.example.com/p.png"});
  content.attachments.push_back(model::WecomLink{"t", "{{link}}", "", ""});
  content.attachments.push_back(model::WecomMiniprogram{"小程序", "wx123", "pages/index", "M2"});
  RoundTrips(content);
  const json encoded = ContentToJson(content);
  CHECK(encoded["text"]["content"] == "您好 {{customer.name}}");
  CHECK(encoded["attachments"][2] == json{{"msgtype", "link"},
                                          {"link",
                                           {{"title", "标题"},
                                            {"url", "https://a.example.com"},
                                            {"desc", "说明"},
                                            {"picurl", "https://a.example.com/p.png"}}}});
}

TEST_CASE("ContentFromJson round-trips an OA template message with url and miniprogram", "[unit]") {
  model::OaTemplateContent content;
  content.template_id = "ngqIpbwh8bUf";
  content.url = "https://a.example.com";
  content.miniprogram = model::OaMiniprogram{"wxapp", "index?foo=bar"};
  content.data["keyword1"] = model::OaTemplateField{"巧克力", "#173177"};
  content.data["thing2"] = model::OaTemplateField{"{{customer.name}}", ""};
  RoundTrips(content);
  CHECK(ContentToJson(content)["data"]["keyword1"] ==
        json{{"value", "巧克力"}, {"color", "#173177"}});
}

TEST_CASE("ContentFromJson round-trips OA customer-service text and news", "[unit]") {
  RoundTrips(model::OaCustomTextContent{"<a href=\"{{link}}\">买</a>"});
  model::OaCustomNewsContent news;
  news.articles.push_back(model::OaNewsArticle{"标题", "描述", "https://a.example.com", ""});
  RoundTrips(news);
  CHECK(ContentToJson(news) ==
        json{{"news",
              {{"articles", json::array({{{"title", "标题"},
                                          {"description", "描述"},
                                          {"url", "https://a.example.com"}}})}}}});
}

TEST_CASE("ContentFromJson refuses malformed content naming the member", "[unit]") {
  using model::TemplateChannel;
  CHECK(ContentError(json::array(), TemplateChannel::kWecomMessage) ==
        "content: must be a JSON object");
  CHECK(ContentError(json{{"txt", 1}}, TemplateChannel::kWecomMessage) ==
        "content.txt: unknown member");
  CHECK(ContentError(json{{"text", {{"content", 3}}}}, TemplateChannel::kWecomMessage) ==
        "content.text.content: must be a string");
  CHECK(ContentError(json{{"attachments", {{{"msgtype", "video"}}}}},
                     TemplateChannel::kWecomMessage) ==
        "content.attachments[0].msgtype: must be \"image\", \"link\" or \"miniprogram\"");
  CHECK(ContentError(json{{"attachments", {{{"msgtype", "link"}, {"link", {{"title", "t"}}}}}}},
                     TemplateChannel::kWecomMessage) ==
        "content.attachments[0].link.url: required, a string");
  CHECK(ContentError(json{{"template_id", "T"}}, TemplateChannel::kOaTemplate) ==
        "content.data: required, an object");
  CHECK(ContentError(json{{"template_id", "T"}, {"data", {{"k", {{"value", "v"}, {"x", 1}}}}}},
                     TemplateChannel::kOaTemplate) == "content.data.k.x: unknown member");
  CHECK(ContentError(json::object(), TemplateChannel::kOaCustomText) ==
        "content.text: required, an object");
  CHECK(ContentError(json{{"news", {{"articles", json::array({1})}}}},
                     TemplateChannel::kOaCustomNews) ==
        "content.news.articles[0]: must be a JSON object");
}

TEST_CASE("TemplateDocFromJson reads a template document and ignores what answers add", "[unit]") {
  auto doc = TemplateDocFromJson(json{{"id", "7"},
                                      {"name", "welcome"},
                                      {"channel", "oa_custom_text"},
                                      {"content", {{"text", {{"content", "hi"}}}}},
                                      {"enabled", false},
                                      {"version", 3},
                                      {"variables", json::array()},
                                      {"created_at_ms", 1}});
  INFO(doc.status().ToString());
  REQUIRE(doc.ok());
  CHECK(doc->name == "welcome");
  CHECK(doc->content == model::MessageContent(model::OaCustomTextContent{"hi"}));
  CHECK_FALSE(doc->enabled);
  CHECK(doc->version == 3);
}

TEST_CASE("TemplateDocFromJson refuses bad names, channels and members", "[unit]") {
  const json content = {{"text", {{"content", "hi"}}}};
  auto error = [](const json& body) {
    auto doc = TemplateDocFromJson(body);
    REQUIRE_FALSE(doc.ok());
    return doc.status().message();
  };
  CHECK(error(json{{"channel", "oa_custom_text"}, {"content", content}}) ==
        "name: required, a string");
  CHECK(error(json{
            {"name", std::string(65, 'n')}, {"channel", "oa_custom_text"}, {"content", content}}) ==
        "name: must be 1..64 bytes");
  CHECK_THAT(error(json{{"name", "a"}, {"channel", "sms"}, {"content", content}}),
             StartsWith("channel: must be"));
  CHECK(error(json{{"name", "a"}, {"channel", "oa_custom_text"}}) ==
        "content: required, an object");
  CHECK(
      error(json{
          {"name", "a"}, {"channel", "oa_custom_text"}, {"content", content}, {"colour", "red"}}) ==
      "colour: unknown member");
  CHECK(error(json{
            {"name", "a"}, {"channel", "oa_custom_text"}, {"content", content}, {"version", 0}}) ==
        "version: must be an integer in 1..1000000000");
}

}  // namespace
}  // namespace scrm::render
