#include "sim/sim_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

namespace scrm::sim {
namespace {

using nlohmann::json;

int PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

// cpp-httplib 0.11 gives handlers no access to their socket, and every way of answering writes
// a status line. To close "without an answer" (a platform fault clients must survive) we find
// the server-side socket by its (local, peer) ports and shut it down; the library's own write
// then fails quietly (MSG_NOSIGNAL) and it closes the descriptor as usual.
void ShutdownConnection(const httplib::Request& req) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof local;
    socklen_t peer_len = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    if (PortOf(local) == req.local_port && PortOf(peer) == req.remote_port) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
  }
}

// httplib::Server with access to the listening socket, which 0.11 keeps protected.
class ListeningServer final : public httplib::Server {
 public:
  // httplib 0.11 listens with a hard-coded backlog of 5: a burst of new connections (a test's
  // 1000 concurrent callers) overflows it and each dropped SYN costs the client a 1 s retry.
  // Linux lets listen() be called again on a listening socket to change the backlog.
  void RaiseBacklog() {
    const auto sock = svr_sock_.load();
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
};

void Reply(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(2), "application/json; charset=utf-8");
}

void BadRequest(httplib::Response& res, const std::string& message) {
  Reply(res, {{"error", message}}, 400);
}

// Parses a JSON body; answers 400 and returns discarded on failure.
json ParseBody(const httplib::Request& req, httplib::Response& res) {
  json doc = json::parse(req.body, nullptr, false);
  if (doc.is_discarded()) BadRequest(res, "body is not JSON");
  return doc;
}

}  // namespace

SimServer::SimServer(Platform& platform, SimServerOptions options)
    : platform_(platform), options_(std::move(options)) {}

SimServer::~SimServer() { Stop(); }

std::string SimServer::base_url() const {
  return "http://" + options_.host + ":" + std::to_string(port_);
}

core::Status SimServer::Start() {
  if (options_.host.rfind("127.", 0) != 0 && options_.host != "localhost") {
    return core::InvalidArgumentError("the simulator listens on loopback only, not " +
                                      options_.host);
  }
  auto server = std::make_unique<ListeningServer>();
  ListeningServer* listening = server.get();
  server_ = std::move(server);
  const size_t threads = static_cast<size_t>(std::max(2, options_.threads));
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Short keep-alive so Stop() does not wait for idle client connections.
  server_->set_keep_alive_timeout(1);
  server_->set_keep_alive_max_count(100);
  server_->set_read_timeout(5, 0);
  server_->set_payload_max_length(8 * 1024 * 1024);
  server_->set_tcp_nodelay(true);
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Reply(res, {{"error", "internal error"}}, 500);
      });
  InstallHandlers();
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else {
    port_ = server_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return core::UnavailableError("cannot bind " + options_.host + ":" +
                                  std::to_string(options_.port));
  }
  listening->RaiseBacklog();
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // No wait_until_ready() in 0.11: poll is_running().
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) return core::InternalError("simulator server did not start");
  return core::OkStatus();
}

void SimServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void SimServer::InstallHandlers() {
  httplib::Server& s = *server_;

  auto api = [this](const httplib::Request& req, httplib::Response& res) {
    ApiCall call;
    call.method = req.method;
    call.api = req.matches[1];
    for (const auto& [key, value] : req.params) call.params.emplace(key, value);
    call.body = req.body;
    const ApiAnswer answer = platform_.Handle(call);
    if (answer.latency_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(answer.latency_ms));
    }
    if (answer.drop) {
      ShutdownConnection(req);
      res.status = 500;
      return;
    }
    res.status = answer.http_status;
    res.set_content(answer.body, answer.content_type.c_str());
  };
  s.Get(R"(/cgi-bin/(.+))", api);
  s.Post(R"(/cgi-bin/(.+))", api);

  s.Get("/sim/health", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, {{"ok", true}});
  });

  // ---- records ----
  s.Get("/sim/requests", [this](const httplib::Request& req, httplib::Response& res) {
    const auto list = platform_.Requests(req.get_param_value("api"));
    Reply(res, {{"count", list.size()}, {"requests", list}});
  });
  s.Delete("/sim/requests", [this](const httplib::Request&, httplib::Response& res) {
    platform_.ClearRecords();
    Reply(res, {{"ok", true}});
  });
  s.Get("/sim/deliveries", [this](const httplib::Request&, httplib::Response& res) {
    const auto list = platform_.Deliveries();
    Reply(res, {{"count", list.size()}, {"deliveries", list}});
  });
  s.Post("/sim/deliveries", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    try {
      platform_.RecordDelivery(doc.get<DeliveryRecord>());
    } catch (const json::exception& e) {
      return BadRequest(res, e.what());
    }
    Reply(res, {{"ok", true}});
  });

  // ---- faults, limits, tokens, clock ----
  s.Get("/sim/faults", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, {{"faults", platform_.Faults()}});
  });
  s.Post("/sim/faults", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    if (!doc.is_object()) return BadRequest(res, "body must be an object");
    if (doc.contains("faults")) {
      auto faults = ParseFaults(doc["faults"]);
      if (!faults.ok()) return BadRequest(res, faults.status().message());
      std::vector<FaultRule> next =
          doc.value("append", false) ? platform_.Faults() : std::vector<FaultRule>{};
      next.insert(next.end(), faults->begin(), faults->end());
      platform_.SetFaults(std::move(next));
    }
    if (doc.value("invalidate_tokens", false)) platform_.InvalidateTokens();
    Reply(res, {{"faults", platform_.Faults()}});
  });
  s.Delete("/sim/faults", [this](const httplib::Request&, httplib::Response& res) {
    platform_.SetFaults({});
    Reply(res, {{"faults", json::array()}});
  });
  s.Post("/sim/rate_limits", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    try {
      platform_.SetRateLimits(doc.at("rate_limits").get<std::vector<RateLimitRule>>());
    } catch (const json::exception& e) {
      return BadRequest(res, e.what());
    }
    Reply(res, {{"ok", true}});
  });
  s.Post("/sim/tokens/invalidate", [this](const httplib::Request&, httplib::Response& res) {
    platform_.InvalidateTokens();
    Reply(res, {{"ok", true}});
  });
  s.Get("/sim/clock", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, {{"now_ms", platform_.NowMs()}});
  });
  s.Post("/sim/clock", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    if (!doc.is_object()) return BadRequest(res, "body must be an object");
    const int64_t delta =
        doc.value("advance_ms", int64_t{0}) + doc.value("advance_s", int64_t{0}) * 1000;
    if (delta < 0) return BadRequest(res, "the clock only moves forward");
    platform_.AdvanceClock(delta);
    Reply(res, {{"now_ms", platform_.NowMs()}});
  });

  // ---- world ----
  s.Get("/sim/world", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, platform_.WorldSnapshot());
  });
  s.Put("/sim/world", [this](const httplib::Request& req, httplib::Response& res) {
    auto world = ParseWorld(req.body);
    if (!world.ok()) return BadRequest(res, world.status().message());
    platform_.ReplaceWorld(std::move(world).value());
    Reply(res, {{"ok", true}});
  });
  s.Post("/sim/events", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    const json list =
        doc.is_object() && doc.contains("events") ? doc["events"] : json::array({doc});
    if (!list.is_array()) return BadRequest(res, "events must be an array");
    std::vector<ScenarioEvent> events;
    for (const auto& item : list) {
      auto event = ParseEvent(item);
      if (!event.ok()) return BadRequest(res, event.status().message());
      events.push_back(std::move(event).value());
    }
    for (const auto& e : events) {
      auto applied = platform_.ApplyEvent(e);
      if (!applied.ok()) return BadRequest(res, applied.message());
    }
    Reply(res, {{"applied", events.size()}});
  });

  // ---- play: deliver callbacks (synchronously) ----
  s.Post("/sim/play", [this](const httplib::Request& req, httplib::Response& res) {
    json doc = ParseBody(req, res);
    if (doc.is_discarded()) return;
    if (!doc.is_object()) return BadRequest(res, "body must be an object");
    PlayerOptions opts = options_.play;
    opts.target = doc.value("target", opts.target);
    opts.response_timeout =
        std::chrono::milliseconds(doc.value("response_timeout_ms", opts.response_timeout.count()));
    opts.retry_interval =
        std::chrono::milliseconds(doc.value("retry_interval_ms", opts.retry_interval.count()));
    opts.max_retries = doc.value("max_retries", opts.max_retries);
    const World world = platform_.WorldSnapshot();
    std::vector<ScenarioEvent> events = world.events;
    if (doc.contains("events")) {
      events.clear();
      if (!doc["events"].is_array()) return BadRequest(res, "events must be an array");
      for (const auto& item : doc["events"]) {
        auto event = ParseEvent(item);
        if (!event.ok()) return BadRequest(res, event.status().message());
        events.push_back(std::move(event).value());
      }
    }
    auto player = Player::Create(world, opts, platform_);
    if (!player.ok()) return BadRequest(res, player.status().message());
    auto result = (*player)->Play(events);
    if (!result.ok()) return BadRequest(res, result.status().message());
    Reply(res, {{"events", result->events},
                {"delivered", result->delivered},
                {"failed", result->failed},
                {"deliveries", result->deliveries}});
  });
}

}  // namespace scrm::sim
