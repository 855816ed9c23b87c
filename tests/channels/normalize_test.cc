#include "channels/common/normalize.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "src/core/crypto_util.h"

namespace scrm::channels {
namespace {

using model::InteractionKind;
using model::Platform;

constexpr Platform kOa = Platform::kOfficialAccount;
constexpr Platform kWecom = Platform::kWecom;

// Dedupe keys join fields with the ASCII unit separator.
std::string Key(std::initializer_list<std::string_view> parts) {
  std::string key;
  for (const std::string_view part : parts) {
    if (!key.empty()) key.push_back('\x1f');
    key.append(part);
  }
  return key;
}

model::Interaction MustNormalize(Platform platform, std::string_view body,
                                 PayloadFormat format = PayloadFormat::kXml) {
  Decoded<model::Interaction> decoded = NormalizePayload(platform, "acct-1", body, format);
  INFO("rejection: " << decoded.rejection.detail);
  REQUIRE(decoded.ok());
  return *std::move(decoded.value);
}

void CheckMalformed(Platform platform, std::string_view body,
                    PayloadFormat format = PayloadFormat::kXml) {
  const Decoded<model::Interaction> decoded = NormalizePayload(platform, "acct-1", body, format);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.rejection.reason == RejectReason::kMalformedMessage);
  CHECK_FALSE(decoded.rejection.detail.empty());
}

template <typename T>
const T& PayloadAs(const model::Interaction& interaction) {
  REQUIRE(std::holds_alternative<T>(interaction.payload));
  return std::get<T>(interaction.payload);
}

// ---- PROTOCOL §3.1: Official Account messages --------------------------------------------

constexpr std::string_view kOaText =
    "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName>"
    "<FromUserName><![CDATA[oUser123]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId>"
    "<MsgDataId>xxxx</MsgDataId><Idx>xxxx</Idx></xml>";

TEST_CASE("NormalizePayload maps an OA text message when given the documented XML", "[unit]") {
  const model::Interaction i = MustNormalize(kOa, kOaText);
  CHECK(i.platform == kOa);
  CHECK(i.account_id == "acct-1");
  CHECK(i.kind == InteractionKind::kMessageText);
  CHECK(i.openid == "oUser123");
  CHECK(i.userid.empty());
  CHECK(i.to_user == "gh_xxx");
  CHECK(i.occurred_at_ms == 1348831860000);
  CHECK(i.received_at_ms == 0);
  CHECK(i.id == 0);
  CHECK(i.msg_id == "1234567890123456");
  CHECK(PayloadAs<model::TextPayload>(i).content == "this is a test");
  CHECK(i.dedupe_key == Key({"msg", "1234567890123456", "oUser123"}));
  CHECK(i.raw_body == kOaText);
  CHECK(i.raw_format == "xml");
}

TEST_CASE("NormalizePayload maps an OA image message when PicUrl and MediaId are set", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
      "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType>"
      "<PicUrl><![CDATA[http://mmbiz.qpic.cn/abc]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>"
      "<MsgId>1234567890123456</MsgId></xml>");
  CHECK(i.kind == InteractionKind::kMessageImage);
  const auto& media = PayloadAs<model::MediaPayload>(i);
  CHECK(media.pic_url == "http://mmbiz.qpic.cn/abc");
  CHECK(media.media_id == "media_id");
}

TEST_CASE("NormalizePayload maps an OA voice message when it carries Recognition", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
      "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
      "<MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format>"
      "<MediaId16K><![CDATA[m16]]></MediaId16K><Recognition><![CDATA[腾讯微信团队]]></Recognition>"
      "<MsgId>1234567890123456</MsgId></xml>");
  CHECK(i.kind == InteractionKind::kMessageVoice);
  const auto& media = PayloadAs<model::MediaPayload>(i);
  CHECK(media.media_id == "media_id");
  CHECK(media.format == "amr");
  CHECK(media.recognition == "腾讯微信团队");
}

TEST_CASE("NormalizePayload maps video and shortvideo to message.video when either arrives",
          "[unit]") {
  for (const std::string type : {"video", "shortvideo"}) {
    const std::string body =
        "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oU]]>"
        "</FromUserName><CreateTime>1357290913</CreateTime><MsgType><![CDATA[" +
        type +
        "]]></MsgType><MediaId><![CDATA[media_id]]></MediaId>"
        "<ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><MsgId>1234567890123456</MsgId>"
        "</xml>";
    const model::Interaction i = MustNormalize(kOa, body);
    INFO(type);
    CHECK(i.kind == InteractionKind::kMessageVideo);
    const auto& media = PayloadAs<model::MediaPayload>(i);
    CHECK(media.media_id == "media_id");
    CHECK(media.thumb_media_id == "thumb_media_id");
  }
}

TEST_CASE("NormalizePayload maps an OA location message when coordinates are bare", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
      "<CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType>"
      "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale>"
      "<Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId></xml>");
  CHECK(i.kind == InteractionKind::kMessageLocation);
  const auto& location = PayloadAs<model::LocationPayload>(i);
  CHECK(location.latitude == Approx(23.134521));
  CHECK(location.longitude == Approx(113.358803));
  CHECK(location.scale == 20);
  CHECK(location.label == "位置信息");
}

TEST_CASE("NormalizePayload maps an OA link message when Title, Description and Url are set",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
      "<CreateTime>1351776360</CreateTime><MsgType><![CDATA[link]]></MsgType>"
      "<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]>"
      "</Description><Url><![CDATA[url]]></Url><MsgId>1234567890123456</MsgId></xml>");
  CHECK(i.kind == InteractionKind::kMessageLink);
  const auto& link = PayloadAs<model::LinkPayload>(i);
  CHECK(link.title == "公众平台官网链接");
  CHECK(link.description == "公众平台官网链接");
  CHECK(link.url == "url");
}

// ---- PROTOCOL §3.2: Official Account events ----------------------------------------------

std::string OaEvent(std::string_view openid, std::string_view create_time, std::string_view event,
                    std::string_view extra) {
  return std::string("<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[") +
         std::string(openid) + "]]></FromUserName><CreateTime>" + std::string(create_time) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + std::string(event) +
         "]]></Event>" + std::string(extra) + "</xml>";
}

TEST_CASE("NormalizePayload maps a plain subscribe to an empty scene when EventKey is empty",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa, OaEvent("openid", "123456789", "subscribe", "<EventKey><![CDATA[]]></EventKey>"));
  CHECK(i.kind == InteractionKind::kSubscribe);
  CHECK(i.openid == "openid");
  CHECK(i.msg_id.empty());
  CHECK(i.occurred_at_ms == 123456789000);
  const auto& qr = PayloadAs<model::QrScenePayload>(i);
  CHECK(qr.scene.empty());
  CHECK(qr.ticket.empty());
  CHECK(i.dedupe_key == Key({"evt", "openid", "123456789", "subscribe", ""}));
}

TEST_CASE("NormalizePayload strips the qrscene_ prefix when a subscribe came through a QR code",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      OaEvent(
          "openid", "123456789", "subscribe",
          "<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>"));
  CHECK(i.kind == InteractionKind::kSubscribe);
  const auto& qr = PayloadAs<model::QrScenePayload>(i);
  CHECK(qr.scene == "123123");
  CHECK(qr.ticket == "TICKET");
}

TEST_CASE("NormalizePayload keeps the scene bare when a follower sends SCAN", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      OaEvent("openid", "123456789", "SCAN",
              "<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>"));
  CHECK(i.kind == InteractionKind::kScan);
  const auto& qr = PayloadAs<model::QrScenePayload>(i);
  CHECK(qr.scene == "SCENE_VALUE");
  CHECK(qr.ticket == "TICKET");
}

TEST_CASE("NormalizePayload maps unsubscribe when a follower leaves", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa, OaEvent("openid", "123456789", "unsubscribe", "<EventKey><![CDATA[]]></EventKey>"));
  CHECK(i.kind == InteractionKind::kUnsubscribe);
  CHECK(i.openid == "openid");
}

TEST_CASE("NormalizePayload maps CLICK and VIEW menu events when a menu is used", "[unit]") {
  const model::Interaction click = MustNormalize(
      kOa, OaEvent("openid", "123456789", "CLICK", "<EventKey><![CDATA[EVENTKEY]]></EventKey>"));
  CHECK(click.kind == InteractionKind::kMenuClick);
  CHECK(PayloadAs<model::MenuPayload>(click).event_key == "EVENTKEY");

  const model::Interaction view = MustNormalize(
      kOa, OaEvent("openid", "123456789", "VIEW",
                   "<EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId>"));
  CHECK(view.kind == InteractionKind::kMenuView);
  CHECK(PayloadAs<model::MenuPayload>(view).event_key == "www.qq.com");
  CHECK(PayloadAs<model::MenuPayload>(view).menu_id == "MENUID");
}

TEST_CASE("NormalizePayload maps a LOCATION event to a location report when coordinates are set",
          "[unit]") {
  const model::Interaction i =
      MustNormalize(kOa, OaEvent("openid", "123456789", "LOCATION",
                                 "<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude>"
                                 "<Precision>119.385040</Precision>"));
  CHECK(i.kind == InteractionKind::kLocationReport);
  const auto& location = PayloadAs<model::LocationPayload>(i);
  CHECK(location.latitude == Approx(23.137466));
  CHECK(location.longitude == Approx(113.352425));
  CHECK(location.precision == Approx(119.385040));
}

TEST_CASE("NormalizePayload keys a template job by MsgID when TEMPLATESENDJOBFINISH arrives",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[touser]]></ToUserName><FromUserName><![CDATA[fromuser]]>"
      "</FromUserName><CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>"
      "<Status><![CDATA[failed:user block]]></Status></xml>");
  CHECK(i.kind == InteractionKind::kTemplateSendFinish);
  CHECK(i.msg_id.empty());
  const auto& job = PayloadAs<model::SendJobPayload>(i);
  CHECK(job.job_msg_id == "200163836");
  CHECK(job.status == "failed:user block");
  CHECK(i.dedupe_key == Key({"job", "TEMPLATESENDJOBFINISH", "200163836", "fromuser"}));
}

TEST_CASE("NormalizePayload reads counts and skips nested results when MASSSENDJOBFINISH arrives",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName>"
      "<![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime>"
      "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
      "<MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>10</TotalCount>"
      "<FilterCount>8</FilterCount><SentCount>7</SentCount><ErrorCount>1</ErrorCount>"
      "<CopyrightCheckResult><Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx>"
      "<Status>99</Status></item></ResultList><CheckState>2</CheckState></CopyrightCheckResult>"
      "<ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl>"
      "<![CDATA[Url]]></ArticleUrl></item></ResultList></ArticleUrlResult></xml>");
  CHECK(i.kind == InteractionKind::kMassSendFinish);
  const auto& job = PayloadAs<model::SendJobPayload>(i);
  CHECK(job.job_msg_id == "1000001625");
  CHECK(job.status == "err(30003)");
  CHECK(job.total_count == 10);
  CHECK(job.filter_count == 8);
  CHECK(job.sent_count == 7);
  CHECK(job.error_count == 1);
  CHECK(i.dedupe_key ==
        Key({"job", "MASSSENDJOBFINISH", "1000001625", "oV5CrjpxgaGXNHIQigzNlgLTnwic"}));
}

// ---- PROTOCOL §3.3: WeCom app messages/events --------------------------------------------

// The official WeCom sample's decrypted POST body (vectors/wecom_official.json).
constexpr std::string_view kWecomText =
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n"
    "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>";

TEST_CASE("NormalizePayload maps FromUserName to userid when a WeCom app text arrives", "[unit]") {
  const model::Interaction i = MustNormalize(kWecom, kWecomText);
  CHECK(i.platform == kWecom);
  CHECK(i.kind == InteractionKind::kMessageText);
  CHECK(i.userid == "mycreate");
  CHECK(i.openid.empty());
  CHECK(i.to_user == "wx5823bf96d3bd56c7");
  CHECK(i.msg_id == "4561255354251345929");
  CHECK(i.occurred_at_ms == 1409659813000);
  CHECK(PayloadAs<model::TextPayload>(i).content == "hello");
  CHECK(i.dedupe_key == Key({"msg", "4561255354251345929", "mycreate"}));
}

TEST_CASE("NormalizePayload maps enter_agent with an AgentID key when a member opens the app",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kWecom,
      "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]>"
      "</FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>"
      "<AgentID>1</AgentID></xml>");
  CHECK(i.kind == InteractionKind::kEnterAgent);
  CHECK(i.userid == "FromUser");
  CHECK(i.msg_id.empty());
  CHECK(i.dedupe_key == Key({"evt", "FromUser", "1408091189", "enter_agent", "", "1"}));
}

TEST_CASE("NormalizePayload maps WeCom member events to other events when they share OA names",
          "[unit]") {
  // WeCom's "subscribe" is a member following the app, not an OA follower (PROTOCOL §3.3).
  const model::Interaction i = MustNormalize(
      kWecom,
      "<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[zhangsan]]>"
      "</FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[subscribe]]></Event><AgentID>1</AgentID></xml>");
  CHECK(i.kind == InteractionKind::kOtherEvent);
  CHECK(PayloadAs<model::GenericPayload>(i).event == "subscribe");
  CHECK(i.userid == "zhangsan");
}

// ---- PROTOCOL §3.4: WeCom 客户联系 events --------------------------------------------------

std::string ContactEvent(std::string_view change_type, std::string_view external_userid,
                         std::string_view extra) {
  return std::string(
             "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
             "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
             "</MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[") +
         std::string(change_type) + "]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>" +
         "<ExternalUserID><![CDATA[" + std::string(external_userid) + "]]></ExternalUserID>" +
         std::string(extra) + "</xml>";
}

constexpr std::string_view kExternal = "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w";

TEST_CASE("NormalizePayload maps every change_external_contact ChangeType when one arrives",
          "[unit]") {
  const struct {
    std::string_view change_type;
    InteractionKind kind;
  } cases[] = {
      {"add_external_contact", InteractionKind::kContactAdd},
      {"add_half_external_contact", InteractionKind::kContactAddHalf},
      {"edit_external_contact", InteractionKind::kContactEdit},
      {"del_external_contact", InteractionKind::kContactDelete},
      {"del_follow_user", InteractionKind::kFollowUserDelete},
      {"transfer_fail", InteractionKind::kContactTransferFail},
  };
  for (const auto& c : cases) {
    INFO(c.change_type);
    const model::Interaction i = MustNormalize(kWecom, ContactEvent(c.change_type, kExternal, ""));
    CHECK(i.kind == c.kind);
    CHECK(i.userid == "zhangsan");
    CHECK(i.external_userid == kExternal);
    CHECK(i.to_user == "toUser");
    CHECK(i.occurred_at_ms == 1403610513000);
    CHECK(PayloadAs<model::ContactChangePayload>(i).change_type == c.change_type);
    CHECK(i.dedupe_key ==
          Key({"ext", c.change_type, "zhangsan", kExternal, "1403610513", "", "", "", ""}));
  }
}

TEST_CASE("NormalizePayload reads State and WelcomeCode when a customer is added", "[unit]") {
  const model::Interaction i =
      MustNormalize(kWecom, ContactEvent("add_external_contact", kExternal,
                                         "<State><![CDATA[teststate]]></State>"
                                         "<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>"));
  const auto& change = PayloadAs<model::ContactChangePayload>(i);
  CHECK(change.state == "teststate");
  CHECK(change.welcome_code == "WELCOMECODE");
  CHECK(i.dedupe_key == Key({"ext", "add_external_contact", "zhangsan", kExternal, "1403610513",
                             "teststate", "WELCOMECODE", "", ""}));
}

TEST_CASE(
    "NormalizePayload reads Source and FailReason when a contact is deleted or transfer fails",
    "[unit]") {
  const model::Interaction deleted =
      MustNormalize(kWecom, ContactEvent("del_external_contact", kExternal,
                                         "<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>"));
  CHECK(PayloadAs<model::ContactChangePayload>(deleted).source == "DELETE_BY_TRANSFER");

  const model::Interaction failed =
      MustNormalize(kWecom, ContactEvent("transfer_fail", kExternal,
                                         "<FailReason><![CDATA[customer_refused]]></FailReason>"));
  CHECK(failed.kind == InteractionKind::kContactTransferFail);
  CHECK(PayloadAs<model::ContactChangePayload>(failed).fail_reason == "customer_refused");
  CHECK(deleted.dedupe_key != failed.dedupe_key);
}

TEST_CASE("NormalizePayload maps an unknown ChangeType to an other event when it is not modelled",
          "[unit]") {
  const model::Interaction i =
      MustNormalize(kWecom, ContactEvent("brand_new_change", kExternal, ""));
  CHECK(i.kind == InteractionKind::kOtherEvent);
  const auto& generic = PayloadAs<model::GenericPayload>(i);
  CHECK(generic.msg_type == "event");
  CHECK(generic.event == "change_external_contact");
  CHECK(generic.change_type == "brand_new_change");
  CHECK(i.external_userid == kExternal);
  CHECK(i.dedupe_key.rfind("ext\x1f", 0) == 0);
}

std::string ChatEvent(std::string_view change_type, std::string_view extra) {
  return std::string(
             "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
             "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
             "</MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT_ID]]>"
             "</ChatId><ChangeType><![CDATA[") +
         std::string(change_type) + "]]></ChangeType>" + std::string(extra) + "</xml>";
}

TEST_CASE("NormalizePayload maps chat create and dismiss when a group chat changes", "[unit]") {
  const model::Interaction created = MustNormalize(kWecom, ChatEvent("create", ""));
  CHECK(created.kind == InteractionKind::kChatCreate);
  CHECK(created.chat_id == "CHAT_ID");
  CHECK(created.userid.empty());  // FromUserName "sys" is not a member
  CHECK(PayloadAs<model::ChatChangePayload>(created).change_type == "create");
  CHECK(created.dedupe_key == Key({"chat", "create", "CHAT_ID", "1403610513", "", ""}));

  const model::Interaction dismissed = MustNormalize(kWecom, ChatEvent("dismiss", ""));
  CHECK(dismissed.kind == InteractionKind::kChatDismiss);
  CHECK(dismissed.dedupe_key != created.dedupe_key);
}

TEST_CASE("NormalizePayload reads members and versions when a chat update adds members", "[unit]") {
  const model::Interaction i = MustNormalize(
      kWecom,
      ChatEvent(
          "update",
          "<UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene>"
          "<QuitScene>0</QuitScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item>"
          "<![CDATA[wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA]]></Item><Item><![CDATA[zhangsan]]>"
          "</Item></MemChangeList><LastMemVer><![CDATA[9c3f97c2ada667dfb5f6d03308d963e1]]>"
          "</LastMemVer><CurMemVer><![CDATA[71217227bbd112ecfe3a49c482195cb4]]></CurMemVer>"));
  CHECK(i.kind == InteractionKind::kChatUpdate);
  const auto& chat = PayloadAs<model::ChatChangePayload>(i);
  CHECK(chat.update_detail == "add_member");
  CHECK(chat.join_scene == 1);
  CHECK(chat.quit_scene == 0);
  CHECK(chat.mem_change_cnt == 2);
  CHECK(chat.mem_change_list ==
        std::vector<std::string>{"wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", "zhangsan"});
  CHECK(chat.last_mem_ver == "9c3f97c2ada667dfb5f6d03308d963e1");
  CHECK(chat.cur_mem_ver == "71217227bbd112ecfe3a49c482195cb4");
  CHECK(i.dedupe_key ==
        Key({"chat", "update", "CHAT_ID", "1403610513", "add_member",
             "71217227bbd112ecfe3a49c482195cb4", "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", "zhangsan"}));
}

TEST_CASE("NormalizePayload reads garbage scene numbers as zero when they are not numbers",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kWecom, ChatEvent("update",
                        "<UpdateDetail>del_member</UpdateDetail><JoinScene>x</JoinScene>"
                        "<QuitScene>1x</QuitScene><MemChangeCnt></MemChangeCnt>"));
  const auto& chat = PayloadAs<model::ChatChangePayload>(i);
  CHECK(chat.join_scene == 0);
  CHECK(chat.quit_scene == 0);
  CHECK(chat.mem_change_cnt == 0);
  CHECK(chat.mem_change_list.empty());
}

TEST_CASE("NormalizePayload keeps the member list in the key bounded when it is long", "[unit]") {
  std::string items;
  for (int n = 0; n < 200; ++n)
    items += "<Item>wmOgQhDgAAuXFJGwbve4g4iXknfO" + std::to_string(n) + "</Item>";
  const model::Interaction a = MustNormalize(
      kWecom, ChatEvent("update", "<UpdateDetail>add_member</UpdateDetail><MemChangeList>" + items +
                                      "</MemChangeList>"));
  const model::Interaction b = MustNormalize(
      kWecom, ChatEvent("update", "<UpdateDetail>add_member</UpdateDetail><MemChangeList>" + items +
                                      "<Item>one-more</Item></MemChangeList>"));
  CHECK(PayloadAs<model::ChatChangePayload>(a).mem_change_list.size() == 200);
  CHECK(a.dedupe_key.size() <= 256);
  CHECK(a.dedupe_key.rfind("chat\x1f", 0) == 0);
  CHECK(a.dedupe_key != b.dedupe_key);
}

std::string TagEvent(std::string_view change_type, std::string_view extra) {
  return std::string(
             "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
             "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
             "</MsgType><Event><![CDATA[change_external_tag]]></Event>") +
         std::string(extra) + "<ChangeType><![CDATA[" + std::string(change_type) +
         "]]></ChangeType></xml>";
}

TEST_CASE("NormalizePayload maps every change_external_tag ChangeType when one arrives", "[unit]") {
  const struct {
    std::string_view change_type;
    InteractionKind kind;
  } cases[] = {
      {"create", InteractionKind::kTagCreate},
      {"update", InteractionKind::kTagUpdate},
      {"delete", InteractionKind::kTagDelete},
  };
  for (const auto& c : cases) {
    INFO(c.change_type);
    const model::Interaction i =
        MustNormalize(kWecom, TagEvent(c.change_type,
                                       "<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]>"
                                       "</TagType><StrategyId>1</StrategyId>"));
    CHECK(i.kind == c.kind);
    const auto& tag = PayloadAs<model::TagChangePayload>(i);
    CHECK(tag.change_type == c.change_type);
    CHECK(tag.id == "TAG_ID");
    CHECK(tag.tag_type == "tag");
    CHECK(tag.strategy_id == "1");
    CHECK(i.dedupe_key == Key({"tag", c.change_type, "TAG_ID", "tag", "1403610513", "1"}));
  }
}

TEST_CASE("NormalizePayload maps a tag shuffle without TagType when groups are re-ordered",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kWecom, TagEvent("shuffle", "<Id><![CDATA[TAG_GROUP_ID]]></Id><StrategyId>1</StrategyId>"));
  CHECK(i.kind == InteractionKind::kTagShuffle);
  const auto& tag = PayloadAs<model::TagChangePayload>(i);
  CHECK(tag.id == "TAG_GROUP_ID");
  CHECK(tag.tag_type.empty());
  CHECK(i.dedupe_key == Key({"tag", "shuffle", "TAG_GROUP_ID", "", "1403610513", "1"}));
}

TEST_CASE("NormalizePayload reads InfoType and TimeStamp when the third-party form arrives",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kWecom,
      "<xml><SuiteId><![CDATA[ww4asffe99e54c0f4c]]></"
      "SuiteId><AuthCorpId><![CDATA[wxf8b4f85f3a794e77]]>"
      "</AuthCorpId><InfoType><![CDATA[change_external_contact]]></InfoType>"
      "<TimeStamp>1403610513</TimeStamp><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
      "<UserID><![CDATA[zhangsan]]></"
      "UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACH71w]]>"
      "</ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]>"
      "</WelcomeCode></xml>");
  CHECK(i.kind == InteractionKind::kContactAdd);
  CHECK(i.occurred_at_ms == 1403610513000);
  CHECK(i.userid == "zhangsan");
  CHECK(i.external_userid == kExternal);
  CHECK(i.to_user == "wxf8b4f85f3a794e77");
  const model::Interaction self_built =
      MustNormalize(kWecom, ContactEvent("add_external_contact", kExternal,
                                         "<State><![CDATA[teststate]]></State>"
                                         "<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>"));
  CHECK(i.dedupe_key == self_built.dedupe_key);
}

TEST_CASE("NormalizePayload keys system events by body hash when nothing names their subject",
          "[unit]") {
  constexpr std::string_view kBody =
      "<xml><SuiteId><![CDATA[ww4asffe99e54c0f4c]]></SuiteId><InfoType><![CDATA[suite_ticket]]>"
      "</InfoType><TimeStamp>1403610513</TimeStamp><SuiteTicket><![CDATA[asdfasfdasdfasdf]]>"
      "</SuiteTicket></xml>";
  const model::Interaction i = MustNormalize(kWecom, kBody);
  CHECK(i.kind == InteractionKind::kOtherEvent);
  CHECK(PayloadAs<model::GenericPayload>(i).event == "suite_ticket");
  CHECK(i.dedupe_key == Key({"raw", core::Sha256Hex(kBody)}));
}

// ---- Encoding variants ----------------------------------------------------------------------

TEST_CASE("NormalizePayload reads the same values when numbers are CDATA or bare", "[unit]") {
  const model::Interaction bare = MustNormalize(kWecom, kWecomText);
  const model::Interaction cdata = MustNormalize(
      kWecom,
      "<xml><ToUserName>wx5823bf96d3bd56c7</ToUserName><FromUserName>mycreate</FromUserName>"
      "<CreateTime><![CDATA[1409659813]]></CreateTime><MsgType>text</MsgType>"
      "<Content>hello</Content><MsgId><![CDATA[4561255354251345929]]></MsgId>"
      "<AgentID><![CDATA[218]]></AgentID></xml>");
  CHECK(cdata.kind == bare.kind);
  CHECK(cdata.msg_id == bare.msg_id);
  CHECK(cdata.occurred_at_ms == bare.occurred_at_ms);
  CHECK(cdata.userid == bare.userid);
  CHECK(cdata.to_user == bare.to_user);
  CHECK(PayloadAs<model::TextPayload>(cdata).content == "hello");
  CHECK(cdata.dedupe_key == bare.dedupe_key);
}

TEST_CASE("NormalizePayload reads the same values when elements are shuffled", "[unit]") {
  // The wechatpy reply-vector layout puts MsgType first and CreateTime last.
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml>\n<MsgId>1234567890123456</MsgId>\n<Unknown><Nested>1</Nested></Unknown>"
      "<Content><![CDATA[this is a test]]></Content>\n<MsgType><![CDATA[text]]></MsgType>\n"
      "<FromUserName><![CDATA[oUser123]]></FromUserName>\n<ToUserName><![CDATA[gh_xxx]]>"
      "</ToUserName>\n<CreateTime>1348831860</CreateTime>\n</xml>");
  const model::Interaction ordered = MustNormalize(kOa, kOaText);
  CHECK(i.kind == ordered.kind);
  CHECK(i.openid == ordered.openid);
  CHECK(i.to_user == ordered.to_user);
  CHECK(i.occurred_at_ms == ordered.occurred_at_ms);
  CHECK(PayloadAs<model::TextPayload>(i).content == "this is a test");
  CHECK(i.dedupe_key == ordered.dedupe_key);
}

TEST_CASE("NormalizePayload keeps Chinese UTF-8 intact when content is not ASCII", "[unit]") {
  const std::string content = "你好，世界！🙂 企业微信 客户联系";
  const model::Interaction xml =
      MustNormalize(kOa,
                    "<xml><ToUserName>gh_xxx</ToUserName><FromUserName>oU</FromUserName>"
                    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content><![CDATA[" +
                        content + "]]></Content><MsgId>1</MsgId></xml>");
  CHECK(PayloadAs<model::TextPayload>(xml).content == content);
  const model::Interaction json = MustNormalize(
      kOa,
      R"({"ToUserName":"gh_xxx","FromUserName":"oU","CreateTime":1,"MsgType":"text","Content":")" +
          content + R"(","MsgId":1})",
      PayloadFormat::kJson);
  CHECK(PayloadAs<model::TextPayload>(json).content == content);
}

TEST_CASE("NormalizePayload decodes predefined escapes when text is bare", "[unit]") {
  const model::Interaction i =
      MustNormalize(kOa, OaEvent("openid", "1", "VIEW",
                                 "<EventKey>https://a.example/?x=1&amp;y=&lt;2&gt;</EventKey>"));
  CHECK(PayloadAs<model::MenuPayload>(i).event_key == "https://a.example/?x=1&y=<2>");
}

TEST_CASE("NormalizePayload joins CDATA sections when content contains the CDATA terminator",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
      "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content><MsgId>1</MsgId></xml>");
  CHECK(PayloadAs<model::TextPayload>(i).content == "a]]>b");
}

TEST_CASE("NormalizePayload leaves unionid empty when the payload claims a UnionId", "[unit]") {
  // PROTOCOL §5: unionids come from user/info / externalcontact/get, never from a body.
  const model::Interaction xml = MustNormalize(
      kOa, OaEvent("openid", "1", "subscribe", "<UnionId><![CDATA[oUnion1]]></UnionId>"));
  CHECK(xml.unionid.empty());
  CHECK(xml.openid == "openid");
  const model::Interaction lower = MustNormalize(
      kOa, OaEvent("openid", "1", "subscribe", "<unionid><![CDATA[oUnion1]]></unionid>"));
  CHECK(lower.unionid.empty());
}

// ---- JSON format (OA safe mode may be configured for JSON) ----------------------------------

TEST_CASE("NormalizePayload maps an OA text when the payload is JSON", "[unit]") {
  constexpr std::string_view kBody =
      R"({"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",)"
      R"("CreateTime":1714112445,"MsgType":"text","Content":"hi","MsgId":18446744073709551615})";
  const model::Interaction i = MustNormalize(kOa, kBody, PayloadFormat::kJson);
  CHECK(i.kind == InteractionKind::kMessageText);
  CHECK(i.openid == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(i.to_user == "gh_97417a04a28d");
  CHECK(i.occurred_at_ms == 1714112445000);
  CHECK(i.msg_id == "18446744073709551615");
  CHECK(PayloadAs<model::TextPayload>(i).content == "hi");
  CHECK(i.raw_body == kBody);
  CHECK(i.raw_format == "json");
  CHECK(i.dedupe_key == Key({"msg", "18446744073709551615", "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"}));
}

TEST_CASE("NormalizePayload keeps every digit of MsgId when it is past 2^63 or 2^53", "[unit]") {
  for (const std::string id :
       {"9223372036854775807", "9223372036854775808", "9007199254740993", "4561255354251345929"}) {
    INFO(id);
    const model::Interaction number = MustNormalize(
        kOa, R"({"FromUserName":"oU","CreateTime":1,"MsgType":"text","MsgId":)" + id + "}",
        PayloadFormat::kJson);
    CHECK(number.msg_id == id);
    const model::Interaction text = MustNormalize(
        kOa, R"({"FromUserName":"oU","CreateTime":"1","MsgType":"text","MsgId":")" + id + "\"}",
        PayloadFormat::kJson);
    CHECK(text.msg_id == id);
    CHECK(text.dedupe_key == number.dedupe_key);
  }
}

TEST_CASE("NormalizePayload maps an OA event when the payload is JSON", "[unit]") {
  const model::Interaction subscribe = MustNormalize(
      kOa,
      R"({"ToUserName":"gh_x","FromUserName":"oU","CreateTime":1714112445,"MsgType":"event",)"
      R"("Event":"subscribe","EventKey":"qrscene_campaign-7","Ticket":"T"})",
      PayloadFormat::kJson);
  CHECK(subscribe.kind == InteractionKind::kSubscribe);
  CHECK(PayloadAs<model::QrScenePayload>(subscribe).scene == "campaign-7");
  CHECK(subscribe.dedupe_key ==
        Key({"evt", "oU", "1714112445", "subscribe", "qrscene_campaign-7"}));

  // The developers.weixin.qq.com safe-mode example (vectors/oa_safe_mode_official.json).
  const model::Interaction debug = MustNormalize(
      kOa,
      R"({"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",)"
      R"("CreateTime":1714112445,"MsgType":"event","Event":"debug_demo",)"
      R"("debug_str":"hello world"})",
      PayloadFormat::kJson);
  CHECK(debug.kind == InteractionKind::kOtherEvent);
  CHECK(PayloadAs<model::GenericPayload>(debug).event == "debug_demo");
  CHECK(debug.openid == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
}

TEST_CASE("NormalizePayload reads MemChangeList when JSON gives an array or Item object",
          "[unit]") {
  for (const std::string list : {R"(["a","b"])", R"({"Item":["a","b"]})"}) {
    INFO(list);
    const model::Interaction i = MustNormalize(
        kWecom,
        R"({"ToUserName":"corp","FromUserName":"sys","CreateTime":1,"MsgType":"event",)"
        R"("Event":"change_external_chat","ChatId":"c","ChangeType":"update",)"
        R"("UpdateDetail":"add_member","JoinScene":3,"MemChangeList":)" +
            list + "}",
        PayloadFormat::kJson);
    const auto& chat = PayloadAs<model::ChatChangePayload>(i);
    CHECK(chat.join_scene == 3);
    CHECK(chat.mem_change_list == std::vector<std::string>{"a", "b"});
  }
}

TEST_CASE("NormalizePayload refuses a JSON MsgId when it is a float or past uint64", "[unit]") {
  CheckMalformed(kOa, R"({"FromUserName":"oU","CreateTime":1,"MsgType":"text","MsgId":1.0})",
                 PayloadFormat::kJson);
  CheckMalformed(
      kOa, R"({"FromUserName":"oU","CreateTime":1,"MsgType":"text","MsgId":18446744073709551616})",
      PayloadFormat::kJson);
  CheckMalformed(kOa, R"({"FromUserName":"oU","CreateTime":1,"MsgType":"text","MsgId":-5})",
                 PayloadFormat::kJson);
  CheckMalformed(kOa, R"({"FromUserName":"oU","CreateTime":1,"MsgType":"text","MsgId":true})",
                 PayloadFormat::kJson);
  CheckMalformed(kOa, R"({"FromUserName":"oU","CreateTime":1.5,"MsgType":"text"})",
                 PayloadFormat::kJson);
}

// ---- Dedupe keys (PROTOCOL §2) --------------------------------------------------------------

TEST_CASE("NormalizePayload gives the same key when the same XML arrives twice", "[unit]") {
  for (const std::string& body :
       {std::string(kOaText), std::string(kWecomText),
        OaEvent("openid", "1", "SCAN", "<EventKey>s</EventKey>"),
        ContactEvent("add_external_contact", kExternal, "<State>s</State>"),
        ChatEvent("dismiss", ""), TagEvent("delete", "<Id>t</Id>")}) {
    CHECK(MustNormalize(kWecom, body).dedupe_key == MustNormalize(kWecom, body).dedupe_key);
    CHECK(MustNormalize(kOa, body).dedupe_key == MustNormalize(kOa, body).dedupe_key);
  }
}

TEST_CASE("NormalizePayload gives different keys when two openids scan one QR in one second",
          "[unit]") {
  const std::string extra = "<EventKey><![CDATA[qrscene_42]]></EventKey><Ticket>T</Ticket>";
  const model::Interaction a =
      MustNormalize(kOa, OaEvent("openidA", "1700000000", "subscribe", extra));
  const model::Interaction b =
      MustNormalize(kOa, OaEvent("openidB", "1700000000", "subscribe", extra));
  CHECK(a.dedupe_key != b.dedupe_key);
}

TEST_CASE("NormalizePayload gives different keys when one user sends two EventKeys in one second",
          "[unit]") {
  const model::Interaction a =
      MustNormalize(kOa, OaEvent("openid", "1700000000", "CLICK", "<EventKey>menu_a</EventKey>"));
  const model::Interaction b =
      MustNormalize(kOa, OaEvent("openid", "1700000000", "CLICK", "<EventKey>menu_b</EventKey>"));
  CHECK(a.dedupe_key != b.dedupe_key);
}

TEST_CASE("NormalizePayload gives different keys when contact events differ in one subject field",
          "[unit]") {
  const std::string base = ContactEvent("add_external_contact", "wmA", "<State>s1</State>");
  CHECK(MustNormalize(kWecom, base).dedupe_key !=
        MustNormalize(kWecom, ContactEvent("add_external_contact", "wmB", "<State>s1</State>"))
            .dedupe_key);
  CHECK(MustNormalize(kWecom, base).dedupe_key !=
        MustNormalize(kWecom, ContactEvent("add_external_contact", "wmA", "<State>s2</State>"))
            .dedupe_key);
}

TEST_CASE("NormalizePayload gives different keys when a field contains the separator", "[unit]") {
  // Without escaping, State "s\x1fw" + WelcomeCode "" would join like State "s" + WelcomeCode "w".
  const std::string head =
      R"({"FromUserName":"sys","CreateTime":1,"MsgType":"event","Event":"change_external_contact",)"
      R"("ChangeType":"add_external_contact","UserID":"u","ExternalUserID":"e",)";
  const model::Interaction a =
      MustNormalize(kWecom, head + R"("State":"s\u001fw","WelcomeCode":""})", PayloadFormat::kJson);
  const model::Interaction b =
      MustNormalize(kWecom, head + R"("State":"s","WelcomeCode":"w"})", PayloadFormat::kJson);
  CHECK(a.dedupe_key != b.dedupe_key);
}

TEST_CASE("NormalizePayload gives different keys when the same MsgId comes from two senders",
          "[unit]") {
  const std::string body_a = std::string(kOaText);
  std::string body_b = body_a;
  body_b.replace(body_b.find("oUser123"), 8, "oUser999");
  CHECK(MustNormalize(kOa, body_a).dedupe_key != MustNormalize(kOa, body_b).dedupe_key);
}

// ---- Unknown shapes are kept, never errors ---------------------------------------------------

TEST_CASE("NormalizePayload maps an unknown MsgType to unknown when it is not modelled", "[unit]") {
  const model::Interaction i =
      MustNormalize(kWecom,
                    "<xml><ToUserName>corp</ToUserName><FromUserName>zhangsan</FromUserName>"
                    "<CreateTime>1</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType>"
                    "<MsgId>77</MsgId><AgentID>1</AgentID></xml>");
  CHECK(i.kind == InteractionKind::kUnknown);
  CHECK(PayloadAs<model::GenericPayload>(i).msg_type == "miniprogrampage");
  CHECK(i.dedupe_key == Key({"msg", "77", "zhangsan"}));
}

TEST_CASE("NormalizePayload keys an unknown message by body hash when it has no MsgId", "[unit]") {
  constexpr std::string_view kBody =
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>hologram</MsgType>"
      "</xml>";
  const model::Interaction i = MustNormalize(kOa, kBody);
  CHECK(i.kind == InteractionKind::kUnknown);
  CHECK(i.dedupe_key == Key({"raw", core::Sha256Hex(kBody)}));
  CHECK(MustNormalize(kOa, kBody).dedupe_key == i.dedupe_key);
}

TEST_CASE("NormalizePayload maps an unknown Event to other event when it is not modelled",
          "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa, OaEvent("openid", "1700000000", "subscribe_msg_popup_event", "<EventKey>k</EventKey>"));
  CHECK(i.kind == InteractionKind::kOtherEvent);
  const auto& generic = PayloadAs<model::GenericPayload>(i);
  CHECK(generic.msg_type == "event");
  CHECK(generic.event == "subscribe_msg_popup_event");
  CHECK(i.dedupe_key == Key({"evt", "openid", "1700000000", "subscribe_msg_popup_event", "k"}));
}

// ---- Malformed payloads -------------------------------------------------------------------------

TEST_CASE("NormalizePayload refuses a body when it is not XML", "[unit]") {
  CheckMalformed(kOa, "this is not xml");
  CheckMalformed(kOa, "<xml><CreateTime>1</CreateTime>");
  CheckMalformed(kOa, "");
}

TEST_CASE("NormalizePayload refuses a body when its root is not <xml>", "[unit]") {
  CheckMalformed(kOa, "<root><CreateTime>1</CreateTime><MsgType>text</MsgType></root>");
  CheckMalformed(kOa, "<xml><CreateTime>1</CreateTime></xml><xml><CreateTime>2</CreateTime></xml>");
}

TEST_CASE("NormalizePayload refuses a payload when CreateTime is missing or not a number",
          "[unit]") {
  CheckMalformed(kOa,
                 "<xml><FromUserName>oU</FromUserName><MsgType>text</MsgType>"
                 "<MsgId>1</MsgId></xml>");
  CheckMalformed(kOa, OaEvent("openid", "yesterday", "subscribe", ""));
  CheckMalformed(kOa, OaEvent("openid", "-1", "subscribe", ""));
  CheckMalformed(kOa, OaEvent("openid", "", "subscribe", ""));
  CheckMalformed(kOa, OaEvent("openid", "99999999999999999999", "subscribe", ""));
  CheckMalformed(kOa, R"({"FromUserName":"oU","MsgType":"text"})", PayloadFormat::kJson);
}

TEST_CASE("NormalizePayload refuses a message when MsgId is not a 64-bit number", "[unit]") {
  const auto with_msg_id = [](std::string_view id) {
    return "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
           "<MsgId>" +
           std::string(id) + "</MsgId></xml>";
  };
  CheckMalformed(kOa, with_msg_id("12ab"));
  CheckMalformed(kOa, with_msg_id("1.5"));
  CheckMalformed(kOa, with_msg_id("-12"));
  CheckMalformed(kOa, with_msg_id("123456789012345678901"));  // 21 digits
  CheckMalformed(kOa, with_msg_id("18446744073709551616"));   // 2^64
  CHECK(MustNormalize(kOa, with_msg_id("18446744073709551615")).msg_id == "18446744073709551615");
}

TEST_CASE("NormalizePayload refuses a JSON payload when it is not an object", "[unit]") {
  CheckMalformed(kOa, R"(["CreateTime",1])", PayloadFormat::kJson);
  CheckMalformed(kOa, R"("text")", PayloadFormat::kJson);
  CheckMalformed(kOa, R"({"CreateTime":1,)", PayloadFormat::kJson);
  CheckMalformed(kOa, "", PayloadFormat::kJson);
}

TEST_CASE("NormalizePayload refuses a body when it is over 1 MiB", "[unit]") {
  std::string body =
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>"
      "<MsgType>text</MsgType><Content>";
  body.append(size_t{1} << 20, 'a');
  body += "</Content></xml>";
  CheckMalformed(kOa, body);
}

TEST_CASE("NormalizePayload does not expand entities when a billion-laughs DTD is sent", "[unit]") {
  const std::string body =
      "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY lol \"lol\">"
      "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
      "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>"
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
      "<Content>&lol9;</Content><MsgId>1</MsgId></xml>";
  CheckMalformed(kOa, body);
}

TEST_CASE("NormalizePayload leaves an undeclared entity literal when no DTD is sent", "[unit]") {
  const model::Interaction i = MustNormalize(
      kOa,
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
      "<Content>&lol9;</Content><MsgId>1</MsgId></xml>");
  CHECK(PayloadAs<model::TextPayload>(i).content == "&lol9;");
}

TEST_CASE("NormalizePayload does not read files when a DTD declares an external entity", "[unit]") {
  const std::string body =
      "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
      "<xml><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
      "<Content>&xxe;</Content><MsgId>1</MsgId></xml>";
  const Decoded<model::Interaction> decoded =
      NormalizePayload(kOa, "acct-1", body, PayloadFormat::kXml);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.rejection.reason == RejectReason::kMalformedMessage);
  CHECK(decoded.rejection.detail.find("root:") == std::string::npos);
}

TEST_CASE("NormalizePayload does not crash when nesting is very deep", "[unit]") {
  const size_t depth = 100000;  // stays under the 1 MiB limit
  std::string xml = "<xml><CreateTime>1</CreateTime>";
  for (size_t n = 0; n < depth; ++n) xml += "<a>";
  for (size_t n = 0; n < depth; ++n) xml += "</a>";
  xml += "</xml>";
  CHECK(NormalizePayload(kOa, "acct-1", xml, PayloadFormat::kXml).ok());

  std::string json = R"({"CreateTime":1,"x":)";
  json.append(depth, '[');
  json.append(depth, ']');
  json += "}";
  CHECK(NormalizePayload(kOa, "acct-1", json, PayloadFormat::kJson).ok());
}

}  // namespace
}  // namespace scrm::channels
