// World: the state the simulated WeCom corp and Official Account hold (members, external
// contacts, corp tags, followers, OA tags), the simulator's knobs (token lifetime, rate limits,
// faults) and the scenario events, as plain value types loaded from one JSON file
// (docs/simulator.md describes the format).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/core/status.h"

namespace scrm::sim {

// ---- WeCom (PROTOCOL.md §4.1 shapes) ----
struct FollowUser {    // follow_user[] of externalcontact/get
  std::string userid;  // the member who added the customer
  std::string remark;
  std::string description;
  int64_t createtime = 0;         // unix seconds
  std::vector<std::string> tags;  // corp tag ids (tag_id)
  std::string oper_userid;
  int add_way = 1;    // 1 = scanned the member's QR code
  std::string state;  // 联系我 state that produced the relation
};

struct ExternalContact {
  std::string external_userid;  // ExternalUserID
  std::string name;
  std::string position;
  std::string avatar;
  std::string corp_name;
  int type = 1;  // 1 WeChat user, 2 WeCom user
  int gender = 0;
  std::string unionid;  // only type 1 with an open-platform binding
  std::vector<FollowUser> follow_user;
};

struct Member {
  std::string userid;
  std::string name;
};

struct CorpTag {
  std::string id;
  std::string name;
  int64_t create_time = 0;
  int64_t order = 0;
};

struct CorpTagGroup {
  std::string group_id;
  std::string group_name;
  int64_t create_time = 0;
  int64_t order = 0;
  std::vector<CorpTag> tag;
};

struct WecomWorld {
  std::string account = "acme";  // scrmd callback path /callbacks/wecom/{account}
  std::string corp_id = "wwsim0000000000001";
  std::string corp_secret = "sim-corp-secret";
  std::string token = "simtoken";                                                // callback Token
  std::string encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";  // 43 chars
  int64_t agent_id = 1000002;
  std::vector<Member> members;
  std::vector<ExternalContact> external_contacts;
  std::vector<CorpTagGroup> corp_tags;
};

// ---- Official Account (PROTOCOL.md §4.2 shapes) ----
struct Follower {
  std::string openid;
  std::string unionid;
  bool subscribe = true;
  int64_t subscribe_time = 0;
  std::string language = "zh_CN";
  std::string remark;
  std::vector<int64_t> tagid_list;
  std::string subscribe_scene = "ADD_SCENE_SEARCH";
  int64_t qr_scene = 0;
  std::string qr_scene_str;
  bool refuse_messages = false;  // the user blocked template messages (43101)
  int64_t last_message_at = 0;   // user sent a message: opens the 48 h 客服 window (5 msgs)
  int64_t last_event_at = 0;     // subscribe / click / scan: opens a 1 min window (3 msgs)
};

struct OaTag {
  int64_t id = 0;
  std::string name;
};

struct OaWorld {
  std::string account = "brand";  // scrmd callback path /callbacks/oa/{account}
  std::string app_id = "wxsim00000000001";
  std::string app_secret = "sim-app-secret";
  std::string gh_id = "gh_sim000001";  // original id, ToUserName of callbacks
  std::string token = "simtoken";
  std::string encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  std::string mode = "safe";  // callback encryption: "safe" (AES) or "plain"
  std::vector<Follower> followers;
  std::vector<OaTag> tags;
};

// ---- Simulator knobs ----
// `limit` calls of `api` ("message/custom/send", or "*" for every API) per fixed window of
// `window_s` seconds on the simulator clock; the excess answers `errcode` (0: the platform's
// code, 45009 for OA, 45033 for WeCom).
struct RateLimitRule {
  std::string api = "*";
  int64_t limit = 0;
  int64_t window_s = 60;
  int64_t errcode = 0;
};

// One fault. kind: "latency" (sleep latency_ms, then answer), "http_5xx" (answer HTTP
// `status` with no JSON), "drop" (close the connection without an answer), "busy"
// (errcode -1), "errcode" (answer errcode `errcode`, e.g. 45033 or 42001, before doing
// anything). It applies to calls of `api` ("*" = all) and, when `call` > 0, only to the
// call with that global sequence number (see /sim/requests `seq`). `rate` in (0, 1] is the
// fraction of matching calls hit (1 = all); `count` > 0 limits how many calls it hits before it
// retires (-1 = unlimited).
struct FaultRule {
  std::string kind;
  std::string api = "*";
  int64_t call = 0;
  double rate = 1.0;
  int64_t count = -1;
  int64_t latency_ms = 0;
  int64_t status = 503;
  int64_t errcode = 0;  // kind "errcode": the errcode answered (not 0)
};

// One scenario step (docs/simulator.md lists the types). It is delivered as a callback and,
// unless mutate_world is false, first changes the world the way the real platform would (so a
// later externalcontact/get finds the contact).
struct ScenarioEvent {
  std::string platform;  // "oa" | "wecom"
  std::string type;      // oa: subscribe unsubscribe SCAN CLICK VIEW text;
                         // wecom: add_external_contact add_half_external_contact
                         // edit_external_contact del_external_contact del_follow_user text
  std::string openid;
  std::string unionid;
  std::string scene;  // OA: QR scene value (subscribe → "qrscene_" + scene, SCAN → scene)
  std::string key;    // OA CLICK/VIEW EventKey
  std::string content;
  std::string userid;           // WeCom member
  std::string external_userid;  // WeCom customer
  std::string name;             // WeCom customer name (add_external_contact)
  std::string state;            // 联系我 State
  std::string welcome_code;     // "" → generated; "none" → no WelcomeCode element
  uint64_t msg_id = 0;          // text messages: 0 → generated
  int64_t delay_ms = 0;         // wait before this event (real time)
  bool mutate_world = true;
};

struct World {
  WecomWorld wecom;
  OaWorld oa;
  int64_t token_lifetime_s = 7200;
  std::vector<RateLimitRule> rate_limits;
  std::vector<FaultRule> faults;
  std::vector<ScenarioEvent> events;
};

// JSON mapping: field names are the JSON keys; a missing key keeps the default above.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FollowUser, userid, remark, description, createtime,
                                                tags, oper_userid, add_way, state)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ExternalContact, external_userid, name, position,
                                                avatar, corp_name, type, gender, unionid,
                                                follow_user)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Member, userid, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CorpTag, id, name, create_time, order)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CorpTagGroup, group_id, group_name, create_time,
                                                order, tag)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WecomWorld, account, corp_id, corp_secret, token,
                                                encoding_aes_key, agent_id, members,
                                                external_contacts, corp_tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Follower, openid, unionid, subscribe,
                                                subscribe_time, language, remark, tagid_list,
                                                subscribe_scene, qr_scene, qr_scene_str,
                                                refuse_messages, last_message_at, last_event_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OaTag, id, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OaWorld, account, app_id, app_secret, gh_id, token,
                                                encoding_aes_key, mode, followers, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RateLimitRule, api, limit, window_s, errcode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FaultRule, kind, api, call, rate, count, latency_ms,
                                                status, errcode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ScenarioEvent, platform, type, openid, unionid,
                                                scene, key, content, userid, external_userid, name,
                                                state, welcome_code, msg_id, delay_ms, mutate_world)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(World, wecom, oa, token_lifetime_s, rate_limits,
                                                faults, events)

// The one place nlohmann exceptions are caught: InvalidArgument naming the bad field for a
// malformed document, an unknown fault kind or an EncodingAESKey that is not 43 characters.
core::StatusOr<World> ParseWorld(const std::string& json_text);
core::StatusOr<World> LoadWorldFile(const std::string& path);
core::StatusOr<std::vector<FaultRule>> ParseFaults(const nlohmann::json& array);
core::StatusOr<ScenarioEvent> ParseEvent(const nlohmann::json& object);

}  // namespace scrm::sim
