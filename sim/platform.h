// Platform: the simulated WeCom corp and Official Account behind the outbound APIs of
// PROTOCOL.md §4 — tokens with expiry on an injectable clock, the exact JSON shapes and error
// codes, per-API rate limits, per-customer quotas and windows, fault injection, and a record of
// every call. Transport-free: SimServer (sim/sim_server.h) feeds it HTTP requests, tests may call
// Handle() directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/records.h"
#include "sim/world.h"
#include "src/core/clock.h"
#include "src/core/random.h"

namespace scrm::sim {

// One API call: `api` is the path after "/cgi-bin/", `params` the decoded query.
struct ApiCall {
  std::string method = "GET";
  std::string api;
  std::multimap<std::string, std::string> params;
  std::string body;
};

// What to do with the call. The transport sleeps `latency_ms`, then closes the connection
// without an answer when `drop`, else answers `http_status` with `body`.
struct ApiAnswer {
  int http_status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  bool drop = false;
  int64_t latency_ms = 0;
};

// Thread-safe: every public method takes one mutex (the simulator is not a throughput path).
// Reads time through `clock` plus an offset moved by AdvanceClock(); draws tokens, ids and fault
// fractions from `random`. Both must outlive the Platform.
class Platform final : public WorldSink {
 public:
  Platform(World world, const core::Clock& clock, core::Random& random);

  ApiAnswer Handle(const ApiCall& call);

  // ---- control (the /sim/ endpoints) ----
  int64_t NowMs() const override;
  // Moves the simulator clock forward (tokens expire, windows close) without sleeping.
  void AdvanceClock(int64_t delta_ms);
  // Every issued token answers "invalid" from now on; the next token call issues a new one.
  void InvalidateTokens();
  void SetFaults(std::vector<FaultRule> faults);
  std::vector<FaultRule> Faults() const;
  void SetRateLimits(std::vector<RateLimitRule> limits);
  World WorldSnapshot() const;
  void ReplaceWorld(World world);
  core::Status ApplyEvent(const ScenarioEvent& event) override;
  void RecordDelivery(const DeliveryRecord& record) override;
  // Calls of `api` ("" = all), in arrival order.
  std::vector<RecordedRequest> Requests(const std::string& api = "") const;
  std::vector<DeliveryRecord> Deliveries() const;
  void ClearRecords();

 private:
  struct Token {
    std::string platform;  // "wecom" | "oa"
    int64_t expires_at_ms = 0;
    bool revoked = false;     // invalidated now (fault, force_refresh)
    bool superseded = false;  // OA: a newer token was issued; answers 40001 once it lapses
  };
  struct WelcomeCode {
    std::string external_userid;
    int64_t issued_ms = 0;
    bool used = false;
  };
  struct SendResult {
    std::string external_userid;
    std::string userid;
    int64_t status = 1;  // 0 未发送 1 已发送 2 not a friend 3 quota (PROTOCOL.md §4.1)
    int64_t send_time = 0;
  };
  struct GroupMsg {
    std::string msgid;
    std::string chat_type;
    std::string creator;
    int64_t create_time = 0;
    std::string content;
    std::vector<SendResult> send_list;
  };
  struct CustomWindow {
    int64_t opened_at = 0;  // the interaction that opened it (unix seconds)
    int64_t used = 0;
  };
  struct Context {  // per call, filled by the handlers
    std::string note;
  };
  using Handler = std::function<nlohmann::json(const ApiCall&, const nlohmann::json&, Context&)>;
  struct Route {
    std::string platform;  // "wecom" | "oa"
    std::string method;    // "GET" | "POST"
    bool needs_token = true;
    Handler handler;
  };

  void InstallRoutes();
  // Fault decision for call `seq` of `api`; consumes counts. `injected` becomes the errcode to
  // answer instead of handling the call (-1 for "busy"), 0 when none.
  void ApplyFaults(int64_t seq, const std::string& api, ApiAnswer& answer, int64_t& injected);
  // 0 when the token is usable, else the errcode to answer.
  int64_t CheckToken(const ApiCall& call, const std::string& platform, std::string& errmsg);
  // 0 when within every matching limit, else the errcode to answer.
  int64_t CheckRateLimit(const std::string& api, const std::string& platform);
  std::string IssueToken(const std::string& platform, int64_t now_ms);
  int64_t NowS() const { return NowMs() / 1000; }
  std::string NewId(const std::string& prefix, size_t hex_bytes);

  ExternalContact* FindContact(const std::string& external_userid);
  FollowUser* FindFollow(ExternalContact& contact, const std::string& userid);
  bool MemberExists(const std::string& userid) const;
  const CorpTag* FindCorpTag(const std::string& id, const CorpTagGroup** group) const;
  Follower* FindFollower(const std::string& openid);
  nlohmann::json ContactJson(const ExternalContact& contact) const;
  nlohmann::json FollowUserJson(const FollowUser& follow) const;
  nlohmann::json FollowerJson(const Follower& follower) const;

  // WeCom handlers (PROTOCOL.md §4.1).
  nlohmann::json WecomGetToken(const ApiCall& call);
  nlohmann::json ExternalContactGet(const ApiCall& call);
  nlohmann::json ExternalContactList(const ApiCall& call);
  nlohmann::json BatchGetByUser(const nlohmann::json& body);
  nlohmann::json GetCorpTagList(const nlohmann::json& body);
  nlohmann::json AddCorpTag(const nlohmann::json& body);
  nlohmann::json MarkTag(const nlohmann::json& body);
  nlohmann::json AddContactWay(const nlohmann::json& body);
  nlohmann::json DelContactWay(const nlohmann::json& body);
  nlohmann::json SendWelcomeMsg(const nlohmann::json& body, Context& ctx);
  nlohmann::json AddMsgTemplate(const nlohmann::json& body);
  nlohmann::json GetGroupMsgList(const nlohmann::json& body);
  nlohmann::json GetGroupMsgSendResult(const nlohmann::json& body);
  nlohmann::json MessageSend(const nlohmann::json& body, Context& ctx);
  // OA handlers (PROTOCOL.md §4.2).
  nlohmann::json OaToken(const ApiCall& call);
  nlohmann::json OaStableToken(const nlohmann::json& body);
  nlohmann::json UserInfo(const ApiCall& call);
  nlohmann::json UserInfoBatchGet(const nlohmann::json& body);
  nlohmann::json TagsCreate(const nlohmann::json& body);
  nlohmann::json BatchTagging(const nlohmann::json& body, bool tag);
  nlohmann::json QrCodeCreate(const nlohmann::json& body);
  nlohmann::json TemplateSend(const nlohmann::json& body, Context& ctx);
  nlohmann::json CustomSend(const nlohmann::json& body, Context& ctx);
  nlohmann::json MassSendAll(const nlohmann::json& body, Context& ctx);

  const core::Clock& clock_;
  core::Random& random_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::map<std::string, Route> routes_;  // immutable after the constructor

  mutable std::mutex mu_;
  World world_;
  std::map<std::string, Token> tokens_;
  std::string wecom_token_;                                         // current gettoken answer
  std::string oa_stable_token_;                                     // current stable_token answer
  std::string oa_plain_token_;                                      // latest /token answer
  std::map<std::string, int64_t> fault_hits_;                       // fault index -> hits so far
  std::map<std::pair<std::string, int64_t>, int64_t> rate_counts_;  // (rule, window) -> calls
  std::map<std::string, WelcomeCode> welcome_codes_;
  std::set<std::string> contact_ways_;  // config_ids add_contact_way made, until deleted
  std::vector<GroupMsg> group_msgs_;
  std::map<std::string, CustomWindow> custom_windows_;  // openid -> 客服 window use
  std::map<std::string, std::pair<int64_t, int64_t>> template_sends_;     // openid|client_msg_id ->
                                                                          // (msgid, at_ms)
  std::map<std::string, int64_t> mass_clientmsgids_;                      // clientmsgid -> at_ms
  std::map<std::string, std::pair<std::string, int64_t>> app_msg_dupes_;  // key -> (msgid, at_ms)
  std::set<std::string> qr_tickets_;
  int64_t seq_ = 0;
  int64_t next_id_ = 1;
  std::vector<RecordedRequest> requests_;
  std::vector<DeliveryRecord> deliveries_;
};

}  // namespace scrm::sim
