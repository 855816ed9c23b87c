#include "sim/platform.h"

#include <algorithm>
#include <cmath>

namespace scrm::sim {
namespace {

using nlohmann::json;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kOaOverlapMs = 5 * kMinuteMs;   // old OA token stays valid 5 min (§4.2)
constexpr int64_t kWelcomeCodeTtlMs = 20'000;     // send_welcome_msg within 20 s (§4.1)
constexpr int64_t kCustomMsgWindowS = 48 * 3600;  // user message → 5 msgs in 48 h (§4.2)
constexpr int64_t kCustomMsgQuota = 5;
constexpr int64_t kEventWindowS = 60;  // subscribe / click / scan → 3 msgs in 1 min
constexpr int64_t kEventQuota = 3;
constexpr int64_t kGroupMsgMonthlyCap = 30;  // "days in the month" (§4.1 add_msg_template)

json Ok(json extra = json::object()) {
  json out = {{"errcode", 0}, {"errmsg", "ok"}};
  out.update(extra);
  return out;
}

// The platforms append a request id hint to every error message; so do we, recognisably.
json Err(int64_t code, const std::string& message) {
  return {{"errcode", code}, {"errmsg", message + ", hint: [sim] rid: sim"}};
}

std::string Param(const ApiCall& call, const std::string& key) {
  auto it = call.params.find(key);
  return it == call.params.end() ? std::string() : it->second;
}

std::string Str(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& body, const char* key, int64_t fallback) {
  auto it = body.find(key);
  return it != body.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::vector<std::string> StrList(const json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Cursors are opaque to clients; ours are offsets. A bad cursor starts over, like the platform
// does with an expired one.
size_t ParseCursor(const std::string& cursor) {
  if (cursor.empty() || cursor.size() > 9 ||
      !std::all_of(cursor.begin(), cursor.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return static_cast<size_t>(std::stoul(cursor));
}

std::string StripSecretsFromQuery(const std::multimap<std::string, std::string>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (key == "corpsecret" || key == "secret") continue;
    if (!out.empty()) out += '&';
    out += key + "=" + value;
  }
  return out;
}

std::string StripSecretsFromBody(const std::string& body) {
  if (body.find("secret") == std::string::npos) return body;
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return body;
  if (doc.contains("secret")) doc["secret"] = "***";
  return doc.dump();
}

}  // namespace

Platform::Platform(World world, const core::Clock& clock, core::Random& random)
    : clock_(clock), random_(random), world_(std::move(world)) {
  InstallRoutes();
}

int64_t Platform::NowMs() const { return clock_.NowUnixMillis() + clock_offset_ms_.load(); }

void Platform::AdvanceClock(int64_t delta_ms) { clock_offset_ms_ += delta_ms; }

std::string Platform::NewId(const std::string& prefix, size_t hex_bytes) {
  return prefix + random_.HexString(hex_bytes);
}

void Platform::InstallRoutes() {
  auto get = [](std::string platform, bool token, Handler h) {
    return Route{std::move(platform), "GET", token, std::move(h)};
  };
  auto post = [](std::string platform, bool token, Handler h) {
    return Route{std::move(platform), "POST", token, std::move(h)};
  };
  // WeCom (qyapi.weixin.qq.com/cgi-bin/...).
  routes_["gettoken"] = get(
      "wecom", false, [this](const ApiCall& c, const json&, Context&) { return WecomGetToken(c); });
  routes_["externalcontact/get"] =
      get("wecom", true,
          [this](const ApiCall& c, const json&, Context&) { return ExternalContactGet(c); });
  routes_["externalcontact/list"] =
      get("wecom", true,
          [this](const ApiCall& c, const json&, Context&) { return ExternalContactList(c); });
  routes_["externalcontact/batch/get_by_user"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return BatchGetByUser(b); });
  routes_["externalcontact/get_corp_tag_list"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return GetCorpTagList(b); });
  routes_["externalcontact/add_corp_tag"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return AddCorpTag(b); });
  routes_["externalcontact/mark_tag"] =
      post("wecom", true, [this](const ApiCall&, const json& b, Context&) { return MarkTag(b); });
  routes_["externalcontact/add_contact_way"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return AddContactWay(b); });
  routes_["externalcontact/del_contact_way"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return DelContactWay(b); });
  routes_["externalcontact/send_welcome_msg"] =
      post("wecom", true,
           [this](const ApiCall&, const json& b, Context& x) { return SendWelcomeMsg(b, x); });
  routes_["externalcontact/add_msg_template"] = post(
      "wecom", true, [this](const ApiCall&, const json& b, Context&) { return AddMsgTemplate(b); });
  routes_["externalcontact/get_groupmsg_list_v2"] =
      post("wecom", true,
           [this](const ApiCall&, const json& b, Context&) { return GetGroupMsgList(b); });
  routes_["externalcontact/get_groupmsg_send_result"] =
      post("wecom", true,
           [this](const ApiCall&, const json& b, Context&) { return GetGroupMsgSendResult(b); });
  routes_["message/send"] = post("wecom", true, [this](const ApiCall&, const json& b, Context& x) {
    return MessageSend(b, x);
  });
  // Official Account (api.weixin.qq.com/cgi-bin/...).
  routes_["token"] =
      get("oa", false, [this](const ApiCall& c, const json&, Context&) { return OaToken(c); });
  routes_["stable_token"] = post(
      "oa", false, [this](const ApiCall&, const json& b, Context&) { return OaStableToken(b); });
  routes_["user/info"] =
      get("oa", true, [this](const ApiCall& c, const json&, Context&) { return UserInfo(c); });
  routes_["user/info/batchget"] = post(
      "oa", true, [this](const ApiCall&, const json& b, Context&) { return UserInfoBatchGet(b); });
  routes_["tags/create"] =
      post("oa", true, [this](const ApiCall&, const json& b, Context&) { return TagsCreate(b); });
  routes_["tags/members/batchtagging"] =
      post("oa", true,
           [this](const ApiCall&, const json& b, Context&) { return BatchTagging(b, true); });
  routes_["tags/members/batchuntagging"] =
      post("oa", true,
           [this](const ApiCall&, const json& b, Context&) { return BatchTagging(b, false); });
  routes_["qrcode/create"] =
      post("oa", true, [this](const ApiCall&, const json& b, Context&) { return QrCodeCreate(b); });
  routes_["message/template/send"] = post(
      "oa", true, [this](const ApiCall&, const json& b, Context& x) { return TemplateSend(b, x); });
  routes_["message/custom/send"] = post(
      "oa", true, [this](const ApiCall&, const json& b, Context& x) { return CustomSend(b, x); });
  routes_["message/mass/sendall"] = post(
      "oa", true, [this](const ApiCall&, const json& b, Context& x) { return MassSendAll(b, x); });
}

ApiAnswer Platform::Handle(const ApiCall& call) {
  std::lock_guard lock(mu_);
  const int64_t now_ms = NowMs();
  RecordedRequest rec;
  rec.seq = ++seq_;
  rec.at_ms = now_ms;
  rec.method = call.method;
  rec.api = call.api;
  rec.query = StripSecretsFromQuery(call.params);
  rec.body = StripSecretsFromBody(call.body);

  ApiAnswer answer;
  int64_t injected = 0;
  ApplyFaults(rec.seq, call.api, answer, injected);
  if (answer.drop || answer.http_status != 200) {
    rec.http_status = answer.drop ? 0 : answer.http_status;
    rec.outcome = answer.drop ? "dropped" : "http_5xx";
    if (!answer.drop) {
      answer.body = "<html><body>" + std::to_string(answer.http_status) + "</body></html>";
      answer.content_type = "text/html";
    }
    requests_.push_back(std::move(rec));
    return answer;
  }

  json out;
  auto route = routes_.find(call.api);
  if (route == routes_.end()) {
    answer.http_status = 404;
    answer.content_type = "text/plain";
    answer.body = "not found";
    rec.http_status = 404;
    rec.outcome = "answered";
    requests_.push_back(std::move(rec));
    return answer;
  }
  Context ctx;
  std::string errmsg;
  if (injected == -1) {
    // -1 "system busy" (§4.3: transient, retry ≤ 3 with backoff).
    out = Err(-1, "system error");
  } else if (injected != 0) {
    out = Err(injected, "injected fault");
  } else if (route->second.method != call.method) {
    out = Err(43002, "require POST method");
    if (route->second.method == "GET") out = Err(43001, "require GET method");
  } else if (int64_t code =
                 route->second.needs_token ? CheckToken(call, route->second.platform, errmsg) : 0;
             code != 0) {
    out = Err(code, errmsg);
  } else if (int64_t limited = CheckRateLimit(call.api, route->second.platform); limited != 0) {
    out = Err(limited,
              limited == 45009 ? "reach max api daily quota limit" : "api freq out of limit");
  } else {
    json body = json::object();
    bool parsed = true;
    if (call.method == "POST") {
      body = json::parse(call.body, nullptr, false);
      parsed = !body.is_discarded() && body.is_object();
    }
    out = parsed ? route->second.handler(call, body, ctx) : Err(47001, "data format error");
  }
  answer.body = out.dump();
  rec.errcode = out.value("errcode", int64_t{0});
  rec.outcome = "answered";
  rec.note = ctx.note;
  requests_.push_back(std::move(rec));
  return answer;
}

void Platform::ApplyFaults(int64_t seq, const std::string& api, ApiAnswer& answer,
                           int64_t& injected) {
  for (size_t i = 0; i < world_.faults.size(); ++i) {
    const FaultRule& f = world_.faults[i];
    if (f.api != "*" && f.api != api) continue;
    if (f.call > 0 && f.call != seq) continue;
    const std::string key = std::to_string(i);
    if (f.count >= 0 && fault_hits_[key] >= f.count) continue;
    if (f.rate < 1.0) {
      const double roll = static_cast<double>(random_.NextU64() >> 11) * 0x1.0p-53;
      if (roll >= f.rate) continue;
    }
    ++fault_hits_[key];
    if (f.kind == "latency") {
      answer.latency_ms += f.latency_ms;
    } else if (f.kind == "drop") {
      answer.drop = true;
    } else if (f.kind == "http_5xx") {
      answer.http_status = static_cast<int>(f.status);
    } else if (f.kind == "busy") {
      injected = -1;
    } else if (f.kind == "errcode") {
      injected = f.errcode;
    }
  }
}

int64_t Platform::CheckToken(const ApiCall& call, const std::string& platform,
                             std::string& errmsg) {
  const std::string token = Param(call, "access_token");
  if (token.empty()) {
    errmsg = "access_token missing";
    return 41001;
  }
  auto it = tokens_.find(token);
  if (it == tokens_.end() || it->second.platform != platform) {
    errmsg = "invalid access_token";
    return 40014;
  }
  const Token& t = it->second;
  // OA answers 40001 for a token a newer one replaced (§4.3: "invalid credential, access_token
  // is invalid or not latest"); WeCom answers 40014 for an invalidated token.
  if (t.revoked) {
    errmsg = platform == "oa" ? "invalid credential, access_token is invalid or not latest"
                              : "invalid access_token";
    return platform == "oa" ? 40001 : 40014;
  }
  if (NowMs() >= t.expires_at_ms) {
    if (t.superseded) {
      errmsg = "invalid credential, access_token is invalid or not latest";
      return 40001;
    }
    errmsg = "access_token expired";
    return 42001;
  }
  return 0;
}

int64_t Platform::CheckRateLimit(const std::string& api, const std::string& platform) {
  const int64_t now_s = NowS();
  for (size_t i = 0; i < world_.rate_limits.size(); ++i) {
    const RateLimitRule& r = world_.rate_limits[i];
    if (r.api != "*" && r.api != api) continue;
    // Fixed windows aligned on the clock, like the platforms' per-minute / per-day counters.
    const int64_t window = now_s / r.window_s;
    int64_t& count = rate_counts_[{std::to_string(i) + "|" + api, window}];
    if (count >= r.limit) {
      if (r.errcode != 0) return r.errcode;
      return platform == "oa" ? 45009 : 45033;
    }
    ++count;
  }
  return 0;
}

std::string Platform::IssueToken(const std::string& platform, int64_t now_ms) {
  // Real tokens are long opaque strings (WeCom reserves 512 bytes); 64 hex is plenty here.
  std::string token = NewId(platform == "oa" ? "oa_" : "wc_", 32);
  tokens_[token] = Token{platform, now_ms + world_.token_lifetime_s * 1000, false, false};
  return token;
}

// ---------------------------------------------------------------------------------------------
// Control

void Platform::InvalidateTokens() {
  std::lock_guard lock(mu_);
  for (auto& [token, info] : tokens_) info.revoked = true;
  wecom_token_.clear();
  oa_stable_token_.clear();
  oa_plain_token_.clear();
}

void Platform::SetFaults(std::vector<FaultRule> faults) {
  std::lock_guard lock(mu_);
  world_.faults = std::move(faults);
  fault_hits_.clear();
}

std::vector<FaultRule> Platform::Faults() const {
  std::lock_guard lock(mu_);
  return world_.faults;
}

void Platform::SetRateLimits(std::vector<RateLimitRule> limits) {
  std::lock_guard lock(mu_);
  world_.rate_limits = std::move(limits);
  rate_counts_.clear();
}

World Platform::WorldSnapshot() const {
  std::lock_guard lock(mu_);
  return world_;
}

void Platform::ReplaceWorld(World world) {
  std::lock_guard lock(mu_);
  world_ = std::move(world);
  fault_hits_.clear();
  rate_counts_.clear();
}

void Platform::RecordDelivery(const DeliveryRecord& record) {
  std::lock_guard lock(mu_);
  deliveries_.push_back(record);
}

std::vector<RecordedRequest> Platform::Requests(const std::string& api) const {
  std::lock_guard lock(mu_);
  if (api.empty()) return requests_;
  std::vector<RecordedRequest> out;
  for (const auto& r : requests_) {
    if (r.api == api) out.push_back(r);
  }
  return out;
}

std::vector<DeliveryRecord> Platform::Deliveries() const {
  std::lock_guard lock(mu_);
  return deliveries_;
}

void Platform::ClearRecords() {
  std::lock_guard lock(mu_);
  requests_.clear();
  deliveries_.clear();
}

core::Status Platform::ApplyEvent(const ScenarioEvent& e) {
  std::lock_guard lock(mu_);
  const int64_t now_s = NowS();
  if (e.platform == "oa") {
    Follower* f = FindFollower(e.openid);
    if (f == nullptr) {
      world_.oa.followers.push_back(Follower{});
      f = &world_.oa.followers.back();
      f->openid = e.openid;
      f->subscribe = false;
    }
    if (!e.unionid.empty()) f->unionid = e.unionid;
    if (e.type == "subscribe") {
      f->subscribe = true;
      f->subscribe_time = now_s;
      f->last_event_at = now_s;
      f->subscribe_scene = e.scene.empty() ? "ADD_SCENE_SEARCH" : "ADD_SCENE_QR_CODE";
      const bool numeric =
          !e.scene.empty() && e.scene.size() <= 10 &&
          std::all_of(e.scene.begin(), e.scene.end(), [](char c) { return c >= '0' && c <= '9'; });
      f->qr_scene = numeric ? std::stoll(e.scene) : 0;
      f->qr_scene_str = numeric ? "" : e.scene;
    } else if (e.type == "unsubscribe") {
      f->subscribe = false;
      f->tagid_list.clear();
    } else if (e.type == "text") {
      f->last_message_at = now_s;
    } else {
      f->last_event_at = now_s;  // SCAN, CLICK, VIEW
    }
    return core::OkStatus();
  }
  if (e.platform != "wecom") return core::InvalidArgumentError("unknown platform " + e.platform);
  if (e.type == "text") return core::OkStatus();  // a member's app message changes nothing
  ExternalContact* c = FindContact(e.external_userid);
  if (e.type == "add_external_contact" || e.type == "add_half_external_contact") {
    if (!MemberExists(e.userid)) world_.wecom.members.push_back(Member{e.userid, e.userid});
    if (c == nullptr) {
      world_.wecom.external_contacts.push_back(ExternalContact{});
      c = &world_.wecom.external_contacts.back();
      c->external_userid = e.external_userid;
      c->type = 1;
    }
    if (!e.name.empty()) c->name = e.name;
    if (!e.unionid.empty()) c->unionid = e.unionid;
    FollowUser* fu = FindFollow(*c, e.userid);
    if (fu == nullptr) {
      c->follow_user.push_back(FollowUser{});
      fu = &c->follow_user.back();
      fu->userid = e.userid;
    }
    fu->createtime = now_s;
    fu->state = e.state;
    fu->oper_userid = e.external_userid;  // the customer initiated the add
    if (!e.welcome_code.empty() && e.welcome_code != "none") {
      welcome_codes_[e.welcome_code] = WelcomeCode{e.external_userid, NowMs(), false};
    }
    return core::OkStatus();
  }
  if (c == nullptr) return core::OkStatus();
  if (e.type == "del_external_contact" || e.type == "del_follow_user") {
    auto& fus = c->follow_user;
    fus.erase(std::remove_if(fus.begin(), fus.end(),
                             [&](const FollowUser& f) { return f.userid == e.userid; }),
              fus.end());
  }
  return core::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Lookups and shapes

ExternalContact* Platform::FindContact(const std::string& external_userid) {
  for (auto& c : world_.wecom.external_contacts) {
    if (c.external_userid == external_userid) return &c;
  }
  return nullptr;
}

FollowUser* Platform::FindFollow(ExternalContact& contact, const std::string& userid) {
  for (auto& f : contact.follow_user) {
    if (f.userid == userid) return &f;
  }
  return nullptr;
}

bool Platform::MemberExists(const std::string& userid) const {
  return std::any_of(world_.wecom.members.begin(), world_.wecom.members.end(),
                     [&](const Member& m) { return m.userid == userid; });
}

const CorpTag* Platform::FindCorpTag(const std::string& id, const CorpTagGroup** group) const {
  for (const auto& g : world_.wecom.corp_tags) {
    for (const auto& t : g.tag) {
      if (t.id == id) {
        if (group != nullptr) *group = &g;
        return &t;
      }
    }
  }
  return nullptr;
}

Follower* Platform::FindFollower(const std::string& openid) {
  for (auto& f : world_.oa.followers) {
    if (f.openid == openid) return &f;
  }
  return nullptr;
}

json Platform::ContactJson(const ExternalContact& c) const {
  json out = {{"external_userid", c.external_userid},
              {"name", c.name},
              {"avatar", c.avatar},
              {"type", c.type},
              {"gender", c.gender}};
  if (!c.position.empty()) out["position"] = c.position;
  if (!c.corp_name.empty()) out["corp_name"] = c.corp_name;
  // unionid only for WeChat users of a corp bound to an open-platform account (§5).
  if (c.type == 1 && !c.unionid.empty()) out["unionid"] = c.unionid;
  return out;
}

json Platform::FollowUserJson(const FollowUser& f) const {
  json tags = json::array();
  for (const auto& id : f.tags) {
    const CorpTagGroup* group = nullptr;
    const CorpTag* tag = FindCorpTag(id, &group);
    if (tag == nullptr) continue;
    tags.push_back(
        {{"group_name", group->group_name}, {"tag_name", tag->name}, {"tag_id", id}, {"type", 1}});
  }
  return {{"userid", f.userid},
          {"remark", f.remark},
          {"description", f.description},
          {"createtime", f.createtime},
          {"tags", tags},
          {"remark_corp_name", ""},
          {"remark_mobiles", json::array()},
          {"oper_userid", f.oper_userid},
          {"add_way", f.add_way},
          {"state", f.state}};
}

json Platform::FollowerJson(const Follower& f) const {
  if (!f.subscribe) {
    // subscribe=0: "拉取不到其余信息" — only openid (and unionid when bound) (§4.2).
    json out = {{"subscribe", 0}, {"openid", f.openid}};
    if (!f.unionid.empty()) out["unionid"] = f.unionid;
    return out;
  }
  json out = {{"subscribe", 1},
              {"openid", f.openid},
              {"language", f.language},
              {"subscribe_time", f.subscribe_time},
              {"remark", f.remark},
              {"groupid", 0},
              {"tagid_list", f.tagid_list},
              {"subscribe_scene", f.subscribe_scene},
              {"qr_scene", f.qr_scene},
              {"qr_scene_str", f.qr_scene_str}};
  if (!f.unionid.empty()) out["unionid"] = f.unionid;
  return out;
}

// ---------------------------------------------------------------------------------------------
// WeCom

json Platform::WecomGetToken(const ApiCall& call) {
  if (Param(call, "corpid") != world_.wecom.corp_id) return Err(40013, "invalid corpid");
  // WeCom's 40001 means a wrong secret, not a bad token (§4.3 / §7.15).
  if (Param(call, "corpsecret") != world_.wecom.corp_secret) return Err(40001, "invalid secret");
  const int64_t now_ms = NowMs();
  auto it = tokens_.find(wecom_token_);
  // Same token while it is valid (§4.1).
  if (it == tokens_.end() || it->second.revoked || now_ms >= it->second.expires_at_ms) {
    wecom_token_ = IssueToken("wecom", now_ms);
    it = tokens_.find(wecom_token_);
  }
  return Ok(
      {{"access_token", wecom_token_}, {"expires_in", (it->second.expires_at_ms - now_ms) / 1000}});
}

json Platform::ExternalContactGet(const ApiCall& call) {
  const std::string id = Param(call, "external_userid");
  if (id.empty()) return Err(40058, "external_userid missing");
  ExternalContact* c = FindContact(id);
  if (c == nullptr) return Err(40096, "invalid external userid");
  if (c->follow_user.empty()) return Err(84061, "not external contact");
  // follow_user pages at 500 (§4.1); the cursor is an offset.
  const size_t start = std::min(ParseCursor(Param(call, "cursor")), c->follow_user.size());
  const size_t end = std::min(start + 500, c->follow_user.size());
  json follows = json::array();
  for (size_t i = start; i < end; ++i) follows.push_back(FollowUserJson(c->follow_user[i]));
  return Ok({{"external_contact", ContactJson(*c)},
             {"follow_user", follows},
             {"next_cursor", end < c->follow_user.size() ? std::to_string(end) : ""}});
}

json Platform::ExternalContactList(const ApiCall& call) {
  const std::string userid = Param(call, "userid");
  json ids = json::array();
  for (const auto& c : world_.wecom.external_contacts) {
    for (const auto& f : c.follow_user) {
      if (f.userid == userid) ids.push_back(c.external_userid);
    }
  }
  if (ids.empty()) return Err(84061, "not external contact");
  return Ok({{"external_userid", ids}});
}

json Platform::BatchGetByUser(const json& body) {
  std::vector<std::string> users = StrList(body, "userid_list");
  // Older docs and wechatpy send a single "userid" (§7.7).
  if (users.empty() && !Str(body, "userid").empty()) users.push_back(Str(body, "userid"));
  if (users.empty() || users.size() > 100) return Err(40058, "userid_list must hold 1..100 ids");
  const int64_t limit = Int(body, "limit", 50);
  if (limit < 1 || limit > 100) return Err(40058, "limit must be 1..100");
  std::vector<std::pair<const ExternalContact*, const FollowUser*>> pairs;
  for (const auto& c : world_.wecom.external_contacts) {
    for (const auto& f : c.follow_user) {
      if (std::find(users.begin(), users.end(), f.userid) != users.end())
        pairs.emplace_back(&c, &f);
    }
  }
  const size_t start = std::min(ParseCursor(Str(body, "cursor")), pairs.size());
  const size_t end = std::min(start + static_cast<size_t>(limit), pairs.size());
  json list = json::array();
  for (size_t i = start; i < end; ++i) {
    const FollowUser& f = *pairs[i].second;
    list.push_back({{"external_contact", ContactJson(*pairs[i].first)},
                    {"follow_info",
                     {{"userid", f.userid},
                      {"remark", f.remark},
                      {"description", f.description},
                      {"createtime", f.createtime},
                      {"tag_id", f.tags},
                      {"remark_corp_name", ""},
                      {"remark_mobiles", json::array()},
                      {"oper_userid", f.oper_userid},
                      {"add_way", f.add_way},
                      {"state", f.state}}}});
  }
  return Ok({{"external_contact_list", list},
             {"next_cursor", end < pairs.size() ? std::to_string(end) : ""}});
}

json Platform::GetCorpTagList(const json& body) {
  const auto tag_ids = StrList(body, "tag_id");
  const auto group_ids = StrList(body, "group_id");
  json groups = json::array();
  for (const auto& g : world_.wecom.corp_tags) {
    const bool group_wanted = group_ids.empty() || std::find(group_ids.begin(), group_ids.end(),
                                                             g.group_id) != group_ids.end();
    if (!group_wanted) continue;
    json tags = json::array();
    for (const auto& t : g.tag) {
      if (!tag_ids.empty() && std::find(tag_ids.begin(), tag_ids.end(), t.id) == tag_ids.end()) {
        continue;
      }
      tags.push_back({{"id", t.id},
                      {"name", t.name},
                      {"create_time", t.create_time},
                      {"order", t.order},
                      {"deleted", false}});
    }
    if (tags.empty() && !tag_ids.empty()) continue;
    groups.push_back({{"group_id", g.group_id},
                      {"group_name", g.group_name},
                      {"create_time", g.create_time},
                      {"order", g.order},
                      {"deleted", false},
                      {"tag", tags}});
  }
  return Ok({{"tag_group", groups}});
}

json Platform::AddCorpTag(const json& body) {
  auto tags_it = body.find("tag");
  if (tags_it == body.end() || !tags_it->is_array() || tags_it->empty()) {
    return Err(40058, "tag list must not be empty");  // no empty groups (§4.1)
  }
  const std::string group_id = Str(body, "group_id");
  const std::string group_name = Str(body, "group_name");
  CorpTagGroup* group = nullptr;
  for (auto& g : world_.wecom.corp_tags) {
    // group_id wins; otherwise a group of the same name receives the tags (§4.1).
    if ((!group_id.empty() && g.group_id == group_id) ||
        (group_id.empty() && g.group_name == group_name)) {
      group = &g;
    }
  }
  if (group == nullptr && !group_id.empty()) return Err(40068, "invalid tagid");
  if (group == nullptr && group_name.empty()) return Err(40058, "group_name missing");
  const int64_t now_s = NowS();
  json new_tags = json::array();
  std::vector<CorpTag> added;
  for (const auto& t : *tags_it) {
    const std::string name = t.is_object() ? Str(t, "name") : "";
    if (name.empty() || name.size() > 30 * 3) return Err(40058, "invalid tag name");
    if (group != nullptr && std::any_of(group->tag.begin(), group->tag.end(),
                                        [&](const CorpTag& x) { return x.name == name; })) {
      return Err(40071, "UserTag Name Already Exist");
    }
    added.push_back(CorpTag{NewId("et", 12), name, now_s, Int(t, "order", 0)});
  }
  if (group == nullptr) {
    world_.wecom.corp_tags.push_back(
        CorpTagGroup{NewId("et", 12), group_name, now_s, Int(body, "order", 0), {}});
    group = &world_.wecom.corp_tags.back();
  }
  for (const auto& t : added) {
    group->tag.push_back(t);
    new_tags.push_back(
        {{"id", t.id}, {"name", t.name}, {"create_time", t.create_time}, {"order", t.order}});
  }
  return Ok({{"tag_group",
              {{"group_id", group->group_id},
               {"group_name", group->group_name},
               {"create_time", group->create_time},
               {"order", group->order},
               {"tag", new_tags}}}});
}

json Platform::MarkTag(const json& body) {
  ExternalContact* c = FindContact(Str(body, "external_userid"));
  if (c == nullptr) return Err(40096, "invalid external userid");
  FollowUser* f = FindFollow(*c, Str(body, "userid"));
  if (f == nullptr) return Err(84061, "not external contact");  // the relation must exist
  const auto add = StrList(body, "add_tag");
  const auto remove = StrList(body, "remove_tag");
  if (add.empty() && remove.empty()) return Err(40058, "add_tag and remove_tag both empty");
  for (const auto& id : add) {
    if (FindCorpTag(id, nullptr) == nullptr) return Err(40068, "invalid tagid");
  }
  for (const auto& id : add) {
    if (std::find(f->tags.begin(), f->tags.end(), id) == f->tags.end()) f->tags.push_back(id);
  }
  for (const auto& id : remove) {
    f->tags.erase(std::remove(f->tags.begin(), f->tags.end(), id), f->tags.end());
  }
  return Ok();
}

json Platform::AddContactWay(const json& body) {
  const int64_t type = Int(body, "type", 0);
  const int64_t scene = Int(body, "scene", 0);
  if (type != 1 && type != 2) return Err(40058, "type must be 1 or 2");
  if (scene != 1 && scene != 2) return Err(40058, "scene must be 1 or 2");
  const auto users = StrList(body, "user");
  if (users.empty()) return Err(40058, "user missing");
  if (type == 1 && users.size() != 1) return Err(40058, "type 1 takes exactly one user");
  for (const auto& u : users) {
    if (!MemberExists(u)) return Err(60111, "userid not found");
  }
  if (Str(body, "state").size() > 30) return Err(40058, "state longer than 30 characters");
  const std::string config_id = random_.HexString(16);
  contact_ways_.insert(config_id);
  json out = {{"config_id", config_id}};
  if (scene == 2) out["qr_code"] = "http://p.qpic.cn/wwhead/sim/" + config_id + "/0";
  return Ok(out);
}

json Platform::DelContactWay(const json& body) {
  const std::string config_id = Str(body, "config_id");
  if (config_id.empty()) return Err(40058, "config_id missing");
  // An unknown or deleted config_id: WeCom answers 41044 (invalid config_id).
  if (contact_ways_.erase(config_id) == 0) return Err(41044, "invalid config_id");
  return Ok();
}

json Platform::SendWelcomeMsg(const json& body, Context& ctx) {
  const std::string code = Str(body, "welcome_code");
  if (code.empty()) return Err(40058, "welcome_code missing");
  if (!body.contains("text") && !body.contains("attachments")) {
    return Err(40058, "text or attachments required");
  }
  auto it = welcome_codes_.find(code);
  // Valid for 20 s, once (§4.1): a late or second caller gets 41051.
  if (it == welcome_codes_.end() || it->second.used ||
      NowMs() - it->second.issued_ms > kWelcomeCodeTtlMs) {
    return Err(41051, "externaluser has started chatting");
  }
  it->second.used = true;
  ctx.note = "welcome sent to " + it->second.external_userid;
  return Ok();
}

json Platform::AddMsgTemplate(const json& body) {
  const std::string chat_type = body.value("chat_type", std::string("single"));
  if (chat_type != "single" && chat_type != "group") return Err(40058, "invalid chat_type");
  const std::string sender = Str(body, "sender");
  if (chat_type == "group" && sender.empty()) return Err(40058, "sender required for group");
  if (!sender.empty() && !MemberExists(sender)) return Err(60111, "userid not found");
  if (!body.contains("text") && !body.contains("attachments")) {
    return Err(40058, "text or attachments required");
  }
  const int64_t now_s = NowS();
  GroupMsg msg;
  msg.msgid = NewId("msgSIM", 10);
  msg.chat_type = chat_type;
  msg.creator = sender;
  msg.create_time = now_s;
  if (body.contains("text") && body["text"].is_object()) msg.content = Str(body["text"], "content");
  json fail_list = json::array();
  std::vector<std::string> targets = StrList(body, "external_userid");
  if (targets.empty()) {  // no explicit list: every customer of the sender (or of the corp)
    for (const auto& c : world_.wecom.external_contacts) {
      for (const auto& f : c.follow_user) {
        if (sender.empty() || f.userid == sender) {
          targets.push_back(c.external_userid);
          break;
        }
      }
    }
  }
  for (const auto& id : targets) {
    ExternalContact* c = FindContact(id);
    FollowUser* f = nullptr;
    if (c != nullptr)
      f = sender.empty() ? (c->follow_user.empty() ? nullptr : &c->follow_user[0])
                         : FindFollow(*c, sender);
    if (f == nullptr) {
      fail_list.push_back(id);
      continue;
    }
    // Per-customer cap: excess recipients get status 3, not an errcode (§4.1).
    int64_t received = 0;
    for (const auto& m : group_msgs_) {
      for (const auto& s : m.send_list) {
        if (s.external_userid == id && s.status == 1 && now_s - s.send_time < 30 * 86400) {
          ++received;
        }
      }
    }
    msg.send_list.push_back(
        SendResult{id, f->userid, received >= kGroupMsgMonthlyCap ? 3 : 1, now_s});
  }
  group_msgs_.push_back(msg);
  return Ok({{"fail_list", fail_list}, {"msgid", msg.msgid}});
}

json Platform::GetGroupMsgList(const json& body) {
  const std::string chat_type = Str(body, "chat_type");
  if (chat_type != "single" && chat_type != "group") return Err(40058, "invalid chat_type");
  const int64_t start = Int(body, "start_time", -1);
  const int64_t end = Int(body, "end_time", -1);
  if (start < 0 || end < start) return Err(40058, "invalid start_time/end_time");
  if (end - start > 31 * 86400) return Err(40058, "time span longer than one month");
  const int64_t limit = Int(body, "limit", 50);
  if (limit < 1 || limit > 100) return Err(40058, "limit must be 1..100");
  const std::string creator = Str(body, "creator");
  std::vector<const GroupMsg*> hits;
  for (const auto& m : group_msgs_) {
    if (m.chat_type == chat_type && m.create_time >= start && m.create_time <= end &&
        (creator.empty() || m.creator == creator)) {
      hits.push_back(&m);
    }
  }
  const size_t from = std::min(ParseCursor(Str(body, "cursor")), hits.size());
  const size_t to = std::min(from + static_cast<size_t>(limit), hits.size());
  json list = json::array();
  for (size_t i = from; i < to; ++i) {
    list.push_back({{"msgid", hits[i]->msgid},
                    {"creator", hits[i]->creator},
                    {"create_time", std::to_string(hits[i]->create_time)},
                    {"create_type", 0},
                    {"text", {{"content", hits[i]->content}}}});
  }
  return Ok(
      {{"group_msg_list", list}, {"next_cursor", to < hits.size() ? std::to_string(to) : ""}});
}

json Platform::GetGroupMsgSendResult(const json& body) {
  const std::string msgid = Str(body, "msgid");
  const std::string userid = Str(body, "userid");
  const GroupMsg* msg = nullptr;
  for (const auto& m : group_msgs_) {
    if (m.msgid == msgid) msg = &m;
  }
  if (msg == nullptr) return Err(41063, "invalid msgid");
  const int64_t limit = Int(body, "limit", 500);
  if (limit < 1 || limit > 1000) return Err(40058, "limit must be 1..1000");
  std::vector<const SendResult*> hits;
  for (const auto& s : msg->send_list) {
    if (userid.empty() || s.userid == userid) hits.push_back(&s);
  }
  const size_t from = std::min(ParseCursor(Str(body, "cursor")), hits.size());
  const size_t to = std::min(from + static_cast<size_t>(limit), hits.size());
  json list = json::array();
  for (size_t i = from; i < to; ++i) {
    list.push_back({{"external_userid", hits[i]->external_userid},
                    {"chat_id", ""},
                    {"userid", hits[i]->userid},
                    {"status", hits[i]->status},
                    {"send_time", hits[i]->send_time}});
  }
  return Ok({{"send_list", list}, {"next_cursor", to < hits.size() ? std::to_string(to) : ""}});
}

json Platform::MessageSend(const json& body, Context& ctx) {
  if (Int(body, "agentid", -1) != world_.wecom.agent_id) return Err(40056, "invalid agentid");
  const std::string msgtype = Str(body, "msgtype");
  if (msgtype.empty() || !body.contains(msgtype)) return Err(40008, "invalid message type");
  const std::string touser = Str(body, "touser");
  std::string invalid;
  size_t valid = 0;
  if (touser == "@all") {
    valid = world_.wecom.members.size();
  } else {
    size_t pos = 0;
    while (pos <= touser.size() && !touser.empty()) {
      const size_t bar = touser.find('|', pos);
      const std::string user = touser.substr(pos, bar == std::string::npos ? bar : bar - pos);
      if (MemberExists(user)) {
        ++valid;
      } else if (!user.empty()) {
        invalid += (invalid.empty() ? "" : "|") + user;
      }
      if (bar == std::string::npos) break;
      pos = bar + 1;
    }
  }
  // Partial failure is errcode 0 with invaliduser; all invalid is 81013 (§4.1).
  if (valid == 0) return Err(81013, "user & party & tag all invalid");
  const int64_t now_ms = NowMs();
  if (Int(body, "enable_duplicate_check", 0) == 1) {
    const int64_t interval_s =
        std::clamp<int64_t>(Int(body, "duplicate_check_interval", 1800), 0, 4 * 3600);
    const std::string key = touser + "|" + body[msgtype].dump();
    auto it = app_msg_dupes_.find(key);
    if (it != app_msg_dupes_.end() && now_ms - it->second.second < interval_s * 1000) {
      ctx.note = "deduplicated";
      return Ok({{"invaliduser", invalid}, {"msgid", it->second.first}});
    }
    const std::string msgid = NewId("", 16);
    app_msg_dupes_[key] = {msgid, now_ms};
    return Ok({{"invaliduser", invalid}, {"msgid", msgid}});
  }
  return Ok({{"invaliduser", invalid}, {"msgid", NewId("", 16)}});
}

// ---------------------------------------------------------------------------------------------
// Official Account

json Platform::OaToken(const ApiCall& call) {
  if (Param(call, "grant_type") != "client_credential") return Err(40002, "invalid grant_type");
  if (Param(call, "appid") != world_.oa.app_id) return Err(40013, "invalid appid");
  if (Param(call, "secret") != world_.oa.app_secret) return Err(40125, "invalid appsecret");
  const int64_t now_ms = NowMs();
  // Each /token call issues a new token; the previous one stays valid ~5 min (§4.2).
  auto prev = tokens_.find(oa_plain_token_);
  if (prev != tokens_.end()) {
    prev->second.expires_at_ms = std::min(prev->second.expires_at_ms, now_ms + kOaOverlapMs);
    prev->second.superseded = true;
  }
  oa_plain_token_ = IssueToken("oa", now_ms);
  return {{"access_token", oa_plain_token_}, {"expires_in", world_.token_lifetime_s}};
}

json Platform::OaStableToken(const json& body) {
  if (Str(body, "grant_type") != "client_credential") return Err(40002, "invalid grant_type");
  if (Str(body, "appid") != world_.oa.app_id) return Err(40013, "invalid appid");
  if (Str(body, "secret") != world_.oa.app_secret) return Err(40125, "invalid appsecret");
  const bool force = body.value("force_refresh", false);
  const int64_t now_ms = NowMs();
  auto cur = tokens_.find(oa_stable_token_);
  const bool usable =
      cur != tokens_.end() && !cur->second.revoked && now_ms < cur->second.expires_at_ms;
  if (force && usable) {
    cur->second.revoked = true;  // force_refresh invalidates the old token immediately
  }
  // Normal mode: the same token while it has ≥ 5 min left; then a new one (old and new overlap).
  if (force || !usable || cur->second.expires_at_ms - now_ms < kOaOverlapMs) {
    if (usable && !force) cur->second.superseded = true;
    oa_stable_token_ = IssueToken("oa", now_ms);
    cur = tokens_.find(oa_stable_token_);
  }
  return {{"access_token", oa_stable_token_},
          {"expires_in", (cur->second.expires_at_ms - now_ms) / 1000}};
}

json Platform::UserInfo(const ApiCall& call) {
  Follower* f = FindFollower(Param(call, "openid"));
  if (f == nullptr) return Err(40003, "invalid openid");
  return FollowerJson(*f);
}

json Platform::UserInfoBatchGet(const json& body) {
  auto list = body.find("user_list");
  if (list == body.end() || !list->is_array() || list->empty() || list->size() > 100) {
    return Err(40032, "invalid openid list size");
  }
  json infos = json::array();
  for (const auto& item : *list) {
    Follower* f = item.is_object() ? FindFollower(Str(item, "openid")) : nullptr;
    if (f == nullptr) return Err(40003, "invalid openid");
    infos.push_back(FollowerJson(*f));
  }
  return {{"user_info_list", infos}};
}

json Platform::TagsCreate(const json& body) {
  const json tag = body.value("tag", json::object());
  const std::string name = tag.is_object() ? Str(tag, "name") : "";
  if (name.empty()) return Err(40058, "tag name missing");
  if (name.size() > 30) return Err(45158, "tag name too long");  // 30 bytes (§4.2)
  int64_t next = 100;
  for (const auto& t : world_.oa.tags) {
    if (t.name == name) return Err(45157, "invalid tag name");  // duplicate
    next = std::max(next, t.id + 1);
  }
  if (world_.oa.tags.size() >= 100) return Err(45056, "too many tags now, no need to add new");
  world_.oa.tags.push_back(OaTag{next, name});
  return {{"tag", {{"id", next}, {"name", name}}}};
}

json Platform::BatchTagging(const json& body, bool tag) {
  const auto openids = StrList(body, "openid_list");
  if (openids.empty() || openids.size() > 50) return Err(40032, "invalid openid list size");
  const int64_t tagid = Int(body, "tagid", -1);
  if (std::none_of(world_.oa.tags.begin(), world_.oa.tags.end(),
                   [&](const OaTag& t) { return t.id == tagid; })) {
    return Err(45159, "invalid tag id");
  }
  std::vector<Follower*> followers;
  for (const auto& id : openids) {
    Follower* f = FindFollower(id);
    if (f == nullptr) return Err(40003, "invalid openid");
    auto& list = f->tagid_list;
    if (tag && list.size() >= 20 && std::find(list.begin(), list.end(), tagid) == list.end()) {
      return Err(45059, "has too many tags");
    }
    followers.push_back(f);
  }
  for (Follower* f : followers) {  // all or nothing, so checks run before any change
    auto& list = f->tagid_list;
    const bool has = std::find(list.begin(), list.end(), tagid) != list.end();
    if (tag && !has) list.push_back(tagid);
    if (!tag) list.erase(std::remove(list.begin(), list.end(), tagid), list.end());
  }
  return Ok();
}

json Platform::QrCodeCreate(const json& body) {
  const std::string action = Str(body, "action_name");
  const json scene = body.value("action_info", json::object()).value("scene", json::object());
  const bool permanent = action == "QR_LIMIT_SCENE" || action == "QR_LIMIT_STR_SCENE";
  const bool by_str = action == "QR_STR_SCENE" || action == "QR_LIMIT_STR_SCENE";
  if (action != "QR_SCENE" && !permanent && action != "QR_STR_SCENE") {
    return Err(40052, "invalid action name");
  }
  if (by_str) {
    const std::string s = scene.is_object() ? Str(scene, "scene_str") : "";
    if (s.empty() || s.size() > 64) return Err(40053, "invalid action info");
  } else {
    const int64_t id = scene.is_object() ? Int(scene, "scene_id", 0) : 0;
    // Temporary: 32-bit non-zero; permanent: 1..100 000 (§4.2).
    if (id == 0 || id > (permanent ? 100'000 : 4'294'967'295LL) ||
        id < (permanent ? 1 : -2147483648LL)) {
      return Err(40053, "invalid action info");
    }
  }
  int64_t expire = 0;
  if (!permanent) {
    expire = Int(body, "expire_seconds", 60);  // default 60 s (§7.11)
    if (expire < 1 || expire > 2'592'000) return Err(40009, "invalid expire_seconds");
  }
  const std::string id = random_.HexString(12);
  const std::string ticket = "gQSIM" + random_.HexString(24) + "==";
  qr_tickets_.insert(ticket);
  json out = {{"ticket", ticket}, {"url", "http://weixin.qq.com/q/" + id}};
  if (!permanent) out["expire_seconds"] = expire;
  return out;
}

json Platform::TemplateSend(const json& body, Context& ctx) {
  const std::string openid = Str(body, "touser");
  Follower* f = FindFollower(openid);
  if (f == nullptr) return Err(40003, "invalid openid");
  if (Str(body, "template_id").empty()) return Err(40037, "invalid template_id");
  if (!f->subscribe) return Err(43004, "require subscribe");
  if (f->refuse_messages) return Err(43101, "user refuse to accept the msg");
  const int64_t now_ms = NowMs();
  const std::string client_msg_id = Str(body, "client_msg_id");
  // Same openid + client_msg_id is sent once within 10 min (§4.2): answer the first msgid.
  if (!client_msg_id.empty()) {
    auto it = template_sends_.find(openid + "|" + client_msg_id);
    if (it != template_sends_.end() && now_ms - it->second.second < 10 * kMinuteMs) {
      ctx.note = "deduplicated";
      return Ok({{"msgid", it->second.first}});
    }
  }
  const int64_t msgid = 200228332 + next_id_++;
  if (!client_msg_id.empty()) template_sends_[openid + "|" + client_msg_id] = {msgid, now_ms};
  return Ok({{"msgid", msgid}});
}

json Platform::CustomSend(const json& body, Context& ctx) {
  Follower* f = FindFollower(Str(body, "touser"));
  if (f == nullptr) return Err(40003, "invalid openid");
  const std::string msgtype = Str(body, "msgtype");
  if (msgtype.empty() || !body.contains(msgtype)) return Err(40008, "invalid message type");
  if (!f->subscribe) return Err(43004, "require subscribe");
  const int64_t now_s = NowS();
  // 客服 messages need a recent user action (§4.2): a message opens 5 sends in 48 h, an event
  // (subscribe / click / scan) 3 sends in 1 min. Outside both → 45015; window used up → 45047.
  int64_t opened = 0;
  int64_t quota = 0;
  if (f->last_message_at > 0 && now_s - f->last_message_at < kCustomMsgWindowS) {
    opened = f->last_message_at;
    quota = kCustomMsgQuota;
  } else if (f->last_event_at > 0 && now_s - f->last_event_at < kEventWindowS) {
    opened = f->last_event_at;
    quota = kEventQuota;
  } else {
    return Err(45015, "response out of time limit or subscription is canceled");
  }
  CustomWindow& w = custom_windows_[f->openid];
  if (w.opened_at != opened) w = CustomWindow{opened, 0};
  if (w.used >= quota) return Err(45047, "out of response count limit");
  ++w.used;
  ctx.note = "window " + std::to_string(w.used) + "/" + std::to_string(quota);
  return Ok();
}

json Platform::MassSendAll(const json& body, Context& ctx) {
  const json filter = body.value("filter", json::object());
  if (!filter.is_object()) return Err(40058, "filter missing");
  const bool to_all = filter.value("is_to_all", false);
  const int64_t tag_id = Int(filter, "tag_id", -1);
  if (!to_all && std::none_of(world_.oa.tags.begin(), world_.oa.tags.end(),
                              [&](const OaTag& t) { return t.id == tag_id; })) {
    return Err(45159, "invalid tag id");
  }
  const std::string msgtype = Str(body, "msgtype");
  if (msgtype.empty() || !body.contains(msgtype)) return Err(40008, "invalid message type");
  const std::string clientmsgid = Str(body, "clientmsgid");
  if (clientmsgid.size() > 64) return Err(45067, "clientmsgid size out of limit");
  const int64_t now_ms = NowMs();
  if (!clientmsgid.empty()) {
    // clientmsgid de-duplicates for 24 h (§4.2).
    auto it = mass_clientmsgids_.find(clientmsgid);
    if (it != mass_clientmsgids_.end() && now_ms - it->second < 24 * 60 * kMinuteMs) {
      ctx.note = "deduplicated";
      return Err(45065, "clientmsgid exist");
    }
    mass_clientmsgids_[clientmsgid] = now_ms;
  }
  int64_t recipients = 0;
  for (const auto& f : world_.oa.followers) {
    if (!f.subscribe) continue;
    if (to_all ||
        std::find(f.tagid_list.begin(), f.tagid_list.end(), tag_id) != f.tagid_list.end()) {
      ++recipients;
    }
  }
  ctx.note = "recipients " + std::to_string(recipients);
  const int64_t id = next_id_++;
  return {{"errcode", 0},
          {"errmsg", "send job submission success"},
          {"msg_id", 34182 + id},
          {"msg_data_id", 206227730 + id}};
}

}  // namespace scrm::sim
