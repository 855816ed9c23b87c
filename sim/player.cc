#include "sim/player.h"

#include <httplib.h>

#include <thread>

namespace scrm::sim {
namespace {

// CDATA cannot hold "]]>": split it across two sections, as XML writers do.
std::string Cdata(const std::string& text) {
  std::string out = "<![CDATA[";
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find("]]>", pos);
    if (hit == std::string::npos) break;
    out += text.substr(pos, hit - pos) + "]]]]><![CDATA[>";
    pos = hit + 3;
  }
  return out + text.substr(pos) + "]]>";
}

std::string Tag(const std::string& name, const std::string& value) {
  return "<" + name + ">" + Cdata(value) + "</" + name + ">";
}

std::string Bare(const std::string& name, int64_t value) {
  return "<" + name + ">" + std::to_string(value) + "</" + name + ">";
}

// OA answers that count as an acknowledgement (§2): empty, "success", or a passive reply.
bool OaAckBody(const std::string& body) {
  return body.empty() || body == "success" || body.rfind("<xml", 0) == 0 || body.rfind("{", 0) == 0;
}

int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace

std::string EventXml(const World& accounts, const ScenarioEvent& e, int64_t create_time) {
  if (e.platform == "oa") {
    std::string xml = "<xml>" + Tag("ToUserName", accounts.oa.gh_id) +
                      Tag("FromUserName", e.openid) + Bare("CreateTime", create_time);
    if (e.type == "text") {
      return xml + Tag("MsgType", "text") + Tag("Content", e.content) + "<MsgId>" +
             std::to_string(e.msg_id) + "</MsgId></xml>";
    }
    xml += Tag("MsgType", "event") + Tag("Event", e.type);
    // subscribe via a parametric QR code: EventKey "qrscene_<value>"; SCAN: the bare value (§3.2).
    if (e.type == "subscribe") {
      xml += Tag("EventKey", e.scene.empty() ? "" : "qrscene_" + e.scene);
      if (!e.scene.empty()) xml += Tag("Ticket", "gQSIMTICKET" + e.scene);
    } else if (e.type == "SCAN") {
      xml += Tag("EventKey", e.scene) + Tag("Ticket", "gQSIMTICKET" + e.scene);
    } else if (e.type == "unsubscribe") {
      xml += Tag("EventKey", "");
    } else {
      xml += Tag("EventKey", e.key);
    }
    return xml + "</xml>";
  }
  std::string xml = "<xml>" + Tag("ToUserName", accounts.wecom.corp_id);
  if (e.type == "text") {  // a member's message to the app (§3.3)
    return xml + Tag("FromUserName", e.userid) + Bare("CreateTime", create_time) +
           Tag("MsgType", "text") + Tag("Content", e.content) + "<MsgId>" +
           std::to_string(e.msg_id) + "</MsgId>" + Bare("AgentID", accounts.wecom.agent_id) +
           "</xml>";
  }
  // 客户联系 events come from "sys" (§3.4).
  xml += Tag("FromUserName", "sys") + Bare("CreateTime", create_time) + Tag("MsgType", "event") +
         Tag("Event", "change_external_contact") + Tag("ChangeType", e.type) +
         Tag("UserID", e.userid) + Tag("ExternalUserID", e.external_userid);
  if (e.type == "add_external_contact" || e.type == "add_half_external_contact") {
    xml += Tag("State", e.state);
    if (!e.welcome_code.empty() && e.welcome_code != "none") {
      xml += Tag("WelcomeCode", e.welcome_code);
    }
  }
  return xml + "</xml>";
}

core::StatusOr<std::pair<std::string, int>> ParseLoopbackBase(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return core::InvalidArgumentError("target must be http://...");
  std::string rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    return core::InvalidArgumentError("target is a base URL without a path: " + url);
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size()) {
    return core::InvalidArgumentError("target needs a port: " + url);
  }
  std::string host = rest.substr(0, colon);
  const std::string port_text = rest.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                           [](char c) { return c >= '0' && c <= '9'; })) {
    return core::InvalidArgumentError("bad port in " + url);
  }
  const int port = std::stoi(port_text);
  if (port < 1 || port > 65535) return core::InvalidArgumentError("bad port in " + url);
  if (host == "localhost") host = "127.0.0.1";
  if (host == "[::1]") host = "::1";
  // Names other than localhost are never resolved: they could point anywhere.
  const bool loopback_v4 = host.rfind("127.", 0) == 0 &&
                           std::all_of(host.begin(), host.end(),
                                       [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
  if (!loopback_v4 && host != "::1") {
    return core::InvalidArgumentError("refusing non-loopback target " + url);
  }
  return std::make_pair(host, port);
}

core::StatusOr<std::unique_ptr<Player>> Player::Create(const World& accounts, PlayerOptions options,
                                                       WorldSink& sink) {
  SCRM_ASSIGN_OR_RETURN(auto base, ParseLoopbackBase(options.target));
  if (options.max_retries < 0 || options.max_retries > 10) {
    return core::InvalidArgumentError("max_retries must be 0..10");
  }
  SCRM_ASSIGN_OR_RETURN(
      auto wecom, CallbackBuilder::Create(accounts.wecom.token, accounts.wecom.encoding_aes_key,
                                          accounts.wecom.corp_id, options.seed));
  SCRM_ASSIGN_OR_RETURN(auto oa,
                        CallbackBuilder::Create(accounts.oa.token, accounts.oa.encoding_aes_key,
                                                accounts.oa.app_id, options.seed + 1));
  return std::unique_ptr<Player>(new Player(accounts, std::move(options), base.first, base.second,
                                            sink, std::move(wecom), std::move(oa)));
}

Player::Player(World accounts, PlayerOptions options, std::string host, int port, WorldSink& sink,
               CallbackBuilder wecom, CallbackBuilder oa)
    : accounts_(std::move(accounts)),
      options_(std::move(options)),
      host_(std::move(host)),
      port_(port),
      sink_(sink),
      wecom_(std::move(wecom)),
      oa_(std::move(oa)) {}

SimRequest Player::Build(const ScenarioEvent& e, int64_t now_s) {
  const std::string xml = EventXml(accounts_, e, now_s);
  if (e.platform == "wecom") {
    return wecom_.WecomPost("/callbacks/wecom/" + accounts_.wecom.account, xml, now_s);
  }
  const std::string path = "/callbacks/oa/" + accounts_.oa.account;
  if (accounts_.oa.mode == "plain") return oa_.OaPlainPost(path, xml, e.openid, now_s);
  return oa_.OaSafePost(path, xml, e.openid, now_s);
}

core::StatusOr<PlayResult> Player::Play(const std::vector<ScenarioEvent>& events) {
  PlayResult result;
  for (size_t i = 0; i < events.size(); ++i) {
    ScenarioEvent e = events[i];
    if (e.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(e.delay_ms));
    // Ids the platform would generate; unique per player run and stable for its retries.
    const uint64_t n = next_id_++;
    if (e.type == "text" && e.msg_id == 0) e.msg_id = 7'100'000'000'000'000'000ULL + n;
    if ((e.type == "add_external_contact" || e.type == "add_half_external_contact") &&
        e.welcome_code.empty()) {
      e.welcome_code = "SIMWELCOME" + std::to_string(sink_.NowMs()) + "N" + std::to_string(n);
    }
    // The platform's state changes before it notifies (§3.4: events are notifications; the
    // receiver re-reads through the APIs), so the world is updated first.
    if (e.mutate_world) {
      auto applied = sink_.ApplyEvent(e);
      if (!applied.ok()) return applied;
    }
    const SimRequest request = Build(e, sink_.NowMs() / 1000);
    ++result.events;
    if (Deliver(i, e, request, result)) {
      ++result.delivered;
    } else {
      ++result.failed;
    }
  }
  return result;
}

bool Player::Deliver(size_t index, const ScenarioEvent& e, const SimRequest& request,
                     PlayResult& result) {
  const auto timeout = options_.response_timeout;
  for (int attempt = 1; attempt <= 1 + options_.max_retries; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(options_.retry_interval);
    DeliveryRecord rec;
    rec.event_index = static_cast<int64_t>(index);
    rec.attempt = attempt;
    rec.platform = e.platform;
    rec.type = e.type;
    rec.path = request.path_and_query;
    rec.at_ms = sink_.NowMs();
    // A fresh connection per attempt, like the platform after it gave up on the previous one.
    httplib::Client client(host_, port_);
    client.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                                  static_cast<time_t>((timeout.count() % 1000) * 1000));
    client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                            static_cast<time_t>((timeout.count() % 1000) * 1000));
    client.set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                             static_cast<time_t>((timeout.count() % 1000) * 1000));
    client.set_keep_alive(false);
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Post(request.path_and_query, request.body, "text/xml");
    rec.latency_ms = ElapsedMs(start);
    bool ok = false;
    if (!res) {
      rec.outcome =
          res.error() == httplib::Error::Read && rec.latency_ms >= timeout.count() * 9 / 10
              ? "timeout"
              : (res.error() == httplib::Error::ConnectionTimeout ? "timeout" : "connection_error");
    } else {
      rec.http_status = res->status;
      rec.response_body = res->body.substr(0, 256);
      if (res->status != 200) {
        rec.outcome = "http_status";  // any status but 200 is a failure (§2)
      } else if (e.platform == "oa" && !OaAckBody(res->body)) {
        rec.outcome = "bad_body";
      } else if (rec.latency_ms > timeout.count()) {
        rec.outcome = "timeout";  // answered, but after the platform stopped waiting
      } else {
        rec.outcome = "ok";
        ok = true;
      }
    }
    sink_.RecordDelivery(rec);
    result.deliveries.push_back(std::move(rec));
    if (ok) return true;
  }
  return false;
}

void StandaloneSink::RecordDelivery(const DeliveryRecord& record) {
  std::lock_guard lock(mu_);
  deliveries_.push_back(record);
}

std::vector<DeliveryRecord> StandaloneSink::Deliveries() const {
  std::lock_guard lock(mu_);
  return deliveries_;
}

}  // namespace scrm::sim
