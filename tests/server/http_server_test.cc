#include "src/server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <latch>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"

namespace scrm::server {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kMaxBody = 1024;

ServerOptions TestOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 4;
  options.max_connections = 512;
  options.keep_alive_timeout_s = 2;
  options.read_timeout_s = 5;
  options.write_timeout_s = 5;
  options.max_body_bytes = kMaxBody;
  options.max_connections_per_ip = 0;  // every test client is 127.0.0.1
  return options;
}

// A real server on an ephemeral loopback port with real time and deterministic request ids.
struct TestServer {
  explicit TestServer(ServerOptions options = TestOptions(),
                      std::shared_ptr<spdlog::logger> log = core::MakeNullLogger())
      : server(std::move(options), clock, random, std::move(log), metrics) {}

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", server.port());
    client.set_connection_timeout(10);
    client.set_read_timeout(10);
    client.set_write_timeout(10);
    return client;
  }

  uint64_t Requests(const std::string& route, const std::string& method, int status) {
    return metrics.Counter("scrmd_http_requests_total", "", {"route", "method", "status"})
        .Value({route, method, std::to_string(status)});
  }

  core::SystemClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  HttpServer server;
};

void AddEchoRoutes(HttpServer& server) {
  server.Get("/hello", [](const Request&, Response& res, const RequestContext&) {
    res.SetContent("hi", "text/plain");
  });
  server.Post("/echo", [](const Request& req, Response& res, const RequestContext&) {
    res.SetContent(std::to_string(req.body.size()) + ":" + req.body, "text/plain");
  });
}

nlohmann::json ParseJson(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  REQUIRE_FALSE(json.is_discarded());
  return json;
}

// Checks the JSON error contract and that the body's request id is the header's.
void CheckJsonError(const httplib::Response& res, int status, const std::string& code) {
  CHECK(res.status == status);
  CHECK(res.get_header_value("Content-Type") == "application/json");
  const auto json = ParseJson(res.body);
  CHECK(json["error"]["code"] == code);
  CHECK(json["error"]["message"].is_string());
  CHECK_FALSE(json["error"]["message"].get<std::string>().empty());
  CHECK(json["error"]["request_id"] == res.get_header_value("X-Request-Id"));
  CHECK_FALSE(res.get_header_value("X-Request-Id").empty());
}

// A chunked body of `size` bytes (httplib sends Transfer-Encoding: chunked for a provider
// without length).
httplib::ContentProviderWithoutLength ChunkedBody(size_t size) {
  return [size](size_t offset, httplib::DataSink& sink) {
    if (offset >= size) {
      sink.done();
      return true;
    }
    const std::string chunk(std::min<size_t>(100, size - offset), 'c');
    return sink.write(chunk.data(), chunk.size());
  };
}

struct RawReply {
  std::string data;
  bool closed_by_server = false;  // EOF before our read timeout
};

// Sends bytes on a fresh connection, then reads until the server closes or 3 s of silence.
// Send errors are ignored: the server may stop reading (and reset) before we finish.
RawReply RawExchange(int port, const std::string& request) {
  RawReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      reply.data.append(buf, static_cast<size_t>(n));
      continue;
    }
    // 0: orderly close; ECONNRESET: closed with our unread bytes in its buffer. Both are the
    // server closing; EAGAIN is our timeout.
    reply.closed_by_server = n == 0 || errno == ECONNRESET;
    break;
  }
  ::close(fd);
  return reply;
}

int StatusOf(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::stoi(raw.substr(9, 3));
}

std::string BodyOf(const std::string& raw) {
  const auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? "" : raw.substr(end + 4);
}

// The status of a client result, -1 when the client got no response at all.
int StatusOf(const httplib::Result& result) { return result ? result->status : -1; }

bool HttpServerEventually(const std::function<bool()>& condition,
                          milliseconds deadline = milliseconds(5000)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return condition();
}

// ---------------------------------------------------------------------------------------------
// WriteStatusError / HttpStatusFor

TEST_CASE("HttpStatusFor maps canonical codes to HTTP statuses", "[unit]") {
  CHECK(HttpStatusFor(core::StatusCode::kOk) == 200);
  CHECK(HttpStatusFor(core::StatusCode::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(core::StatusCode::kFailedPrecondition) == 400);
  CHECK(HttpStatusFor(core::StatusCode::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(core::StatusCode::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(core::StatusCode::kNotFound) == 404);
  CHECK(HttpStatusFor(core::StatusCode::kAlreadyExists) == 409);
  CHECK(HttpStatusFor(core::StatusCode::kResourceExhausted) == 429);
  CHECK(HttpStatusFor(core::StatusCode::kCancelled) == 499);
  CHECK(HttpStatusFor(core::StatusCode::kInternal) == 500);
  CHECK(HttpStatusFor(core::StatusCode::kUnavailable) == 503);
  CHECK(HttpStatusFor(core::StatusCode::kDeadlineExceeded) == 504);
}

TEST_CASE("WriteStatusError writes the code name and message as JSON", "[unit]") {
  Response res;
  res.SetHeader("Content-Type", "text/plain");
  WriteStatusError(res, core::NotFoundError("no customer 42"), "rid-1");
  CHECK(res.status == 404);
  CHECK(res.headers.count("Content-Type") == 1);
  CHECK(res.Header("Content-Type") == "application/json");
  const auto json = ParseJson(res.body);
  CHECK(json["error"]["code"] == "not_found");
  CHECK(json["error"]["message"] == "no customer 42");
  CHECK(json["error"]["request_id"] == "rid-1");
}

TEST_CASE("WriteStatusError replaces an Internal message with a generic one", "[unit]") {
  Response res;
  WriteStatusError(res, core::InternalError("sqlite: disk I/O error at /var/lib/x"), "rid-2");
  CHECK(res.status == 500);
  const auto json = ParseJson(res.body);
  CHECK(json["error"]["code"] == "internal");
  CHECK(json["error"]["message"] == "internal error");
  CHECK(res.body.find("sqlite") == std::string::npos);
}

TEST_CASE("WriteJsonError escapes the message and survives invalid UTF-8", "[unit]") {
  Response res;
  WriteJsonError(res, 400, "invalid_argument", "bad \"field\" \xff", "rid-3");
  CHECK(res.status == 400);
  const auto json = ParseJson(res.body);
  CHECK(json["error"]["code"] == "invalid_argument");
  CHECK(json["error"]["request_id"] == "rid-3");
}

// ---------------------------------------------------------------------------------------------
// Routing, request ids, errors

TEST_CASE("HttpServer answers a registered GET route", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  CHECK(ts.server.IsRunning());
  CHECK(ts.server.port() > 0);
  auto res = ts.Client().Get("/hello");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "hi");
}

TEST_CASE("HttpServer passes the route name and request id to the handler", "[integration]") {
  TestServer ts;
  ts.server.Get("/items/{id}", [](const Request&, Response& res, const RequestContext& context) {
    res.SetContent(
        context.route + " " + context.request_id + " " + std::string(context.params.Get("id")),
        "text/plain");
  });
  REQUIRE(ts.server.Start().ok());
  auto res = ts.Client().Get("/items/42", {{"X-Request-Id", "abc-123"}});
  REQUIRE(res);
  CHECK(res->body == "/items/{id} abc-123 42");
}

TEST_CASE("HttpServer echoes a well-formed X-Request-Id", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const std::string id = "Client.req_01-" + std::string(50, 'x');  // 64 characters
  REQUIRE(id.size() == 64);
  auto res = ts.Client().Get("/hello", {{"X-Request-Id", id}});
  REQUIRE(res);
  CHECK(res->get_header_value("X-Request-Id") == id);
}

TEST_CASE("HttpServer generates a request id when the client sends none", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto first = client.Get("/hello");
  auto second = client.Get("/hello");
  REQUIRE(first);
  REQUIRE(second);
  const std::string id = first->get_header_value("X-Request-Id");
  CHECK(id.size() == 16);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(second->get_header_value("X-Request-Id") != id);
}

TEST_CASE("HttpServer generates unique request ids when clients send many requests at once",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  constexpr int kClients = 8;
  constexpr int kPerClient = 50;
  std::vector<std::vector<std::string>> ids(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = ts.Client();
      for (int i = 0; i < kPerClient; ++i) {
        auto res = client.Post("/echo", "x", "text/plain");
        ids[c].push_back(res ? res->get_header_value("X-Request-Id") : "");
      }
    });
  }
  for (auto& client : clients) client.join();
  std::set<std::string> unique;
  for (const auto& per_client : ids) {
    for (const std::string& id : per_client) {
      CHECK(id.size() == 16);
      CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
      unique.insert(id);
    }
  }
  CHECK(unique.size() == kClients * kPerClient);
}

TEST_CASE("HttpServer generates different request ids when its random source differs",
          "[integration]") {
  // Two servers (two processes, in production) whose randomness is seeded differently.
  core::SystemClock clock;
  core::MetricsRegistry metrics;
  core::FakeRandom random_a(1);
  core::FakeRandom random_b(2);
  HttpServer a(TestOptions(), clock, random_a, core::MakeNullLogger(), metrics);
  HttpServer b(TestOptions(), clock, random_b, core::MakeNullLogger(), metrics);
  AddEchoRoutes(a);
  AddEchoRoutes(b);
  REQUIRE(a.Start().ok());
  REQUIRE(b.Start().ok());
  httplib::Client client_a("127.0.0.1", a.port());
  httplib::Client client_b("127.0.0.1", b.port());
  auto from_a = client_a.Get("/hello");
  auto from_b = client_b.Get("/hello");
  REQUIRE(from_a);
  REQUIRE(from_b);
  CHECK(from_a->get_header_value("X-Request-Id") != from_b->get_header_value("X-Request-Id"));
}

TEST_CASE("HttpServer replaces a malformed X-Request-Id", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const std::string bad = GENERATE(std::string("has space"), std::string("a/b"),
                                   std::string("quote\"d"), std::string(65, 'x'));
  auto res = ts.Client().Get("/hello", {{"X-Request-Id", bad}});
  REQUIRE(res);
  const std::string id = res->get_header_value("X-Request-Id");
  CHECK(id != bad);
  CHECK(id.size() == 16);
}

TEST_CASE("HttpServer answers 404 with a JSON error for an unknown route", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto get = client.Get("/nope", {{"X-Request-Id", "r404"}});
  REQUIRE(get);
  CheckJsonError(*get, 404, "not_found");
  CHECK(get->get_header_value("X-Request-Id") == "r404");
  auto post = client.Post("/nope", "payload", "text/plain");
  REQUIRE(post);
  CheckJsonError(*post, 404, "not_found");
}

TEST_CASE("HttpServer answers 405 with a JSON error for other methods", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto put = client.Put("/echo", "x", "text/plain");
  REQUIRE(put);
  CheckJsonError(*put, 405, "method_not_allowed");
  auto del = client.Delete("/echo");
  REQUIRE(del);
  CheckJsonError(*del, 405, "method_not_allowed");
  auto after = client.Get("/hello");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("HttpServer serves PUT, PATCH and DELETE routes with their bodies once registered",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  const auto echo = [](const Request& req, Response& res, const RequestContext& ctx) {
    res.SetContent(ctx.route + ":" + req.body, "text/plain");
  };
  ts.server.Put("/thing", echo);
  ts.server.Patch("/thing", echo);
  ts.server.Delete("/thing", echo);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto put = client.Put("/thing", "a", "text/plain");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(put->body == "/thing:a");
  auto patch = client.Patch("/thing", "b", "text/plain");
  REQUIRE(patch);
  CHECK(patch->body == "/thing:b");
  auto del = client.Delete("/thing", "c", "text/plain");
  REQUIRE(del);
  CHECK(del->body == "/thing:c");
  auto del_empty = client.Delete("/thing");
  REQUIRE(del_empty);
  CHECK(del_empty->body == "/thing:");
  // Unknown paths are 404 (the body read within the limit first), too large bodies 413.
  auto unknown = client.Put("/nope", "x", "text/plain");
  REQUIRE(unknown);
  CheckJsonError(*unknown, 404, "not_found");
  auto large = client.Patch("/thing", std::string(kMaxBody + 1, 'x'), "text/plain");
  REQUIRE(large);
  CheckJsonError(*large, 413, "payload_too_large");
  // Methods no route uses are 405 too, and Allow lists the methods of the path.
  auto options = client.Options("/thing");
  REQUIRE(options);
  CheckJsonError(*options, 405, "method_not_allowed");
  CHECK(options->get_header_value("Allow") == "PUT, PATCH, DELETE");
}

TEST_CASE("HttpServer closes the connection on a malformed request line and keeps serving",
          "[integration]") {
  // libmicrohttpd rejects such a request itself, before any of our code sees it: no route, no
  // request id, no JSON body; what matters is that nothing is served and the connection ends.
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply = RawExchange(ts.server.port(), "NONSENSE\r\n\r\n");
  INFO(reply.data);
  CHECK(reply.closed_by_server);
  CHECK(reply.data.find(" 200 ") == std::string::npos);
  CHECK(StatusOf(ts.Client().Get("/hello")) == 200);
}

TEST_CASE("HttpServer answers 414 with a JSON error for a request target over 8 KiB",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply = RawExchange(
      ts.server.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(StatusOf(reply.data) == 414);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "uri_too_long");
  CHECK(reply.closed_by_server);
}

TEST_CASE("HttpServer answers 500 JSON when a handler throws and keeps serving", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  ts.server.Get("/boom", [](const Request&, Response& res, const RequestContext&) {
    res.SetContent("partial", "text/plain");
    throw std::runtime_error("secret detail: db password wrong");
  });
  ts.server.Get("/boom-int", [](const Request&, Response&, const RequestContext&) { throw 42; });
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto res = client.Get("/boom");
  REQUIRE(res);
  CheckJsonError(*res, 500, "internal");
  CHECK(res->body.find("secret") == std::string::npos);
  CHECK(res->get_header_value_count("Content-Type") == 1);
  auto non_standard = client.Get("/boom-int");
  REQUIRE(non_standard);
  CheckJsonError(*non_standard, 500, "internal");
  auto after = client.Get("/hello");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("HttpServer fills the JSON body when a handler sets only an error status",
          "[integration]") {
  TestServer ts;
  ts.server.Get("/forbidden",
                [](const Request&, Response& res, const RequestContext&) { res.status = 403; });
  ts.server.Get("/custom", [](const Request&, Response& res, const RequestContext& ctx) {
    WriteStatusError(res, core::InvalidArgumentError("bad cursor"), ctx.request_id);
  });
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto forbidden = client.Get("/forbidden");
  REQUIRE(forbidden);
  CheckJsonError(*forbidden, 403, "permission_denied");
  auto custom = client.Get("/custom");
  REQUIRE(custom);
  CheckJsonError(*custom, 400, "invalid_argument");
  CHECK(ParseJson(custom->body)["error"]["message"] == "bad cursor");
}

// ---------------------------------------------------------------------------------------------
// Body limits

TEST_CASE("HttpServer accepts a body exactly at max_body_bytes", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto res = ts.Client().Post("/echo", std::string(kMaxBody, 'a'), "text/plain");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.rfind(std::to_string(kMaxBody) + ":", 0) == 0);
}

TEST_CASE("HttpServer answers 413 for a Content-Length body one byte over and keeps serving",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  client.set_keep_alive(true);
  auto res = client.Post("/echo", std::string(kMaxBody + 1, 'a'), "text/plain");
  REQUIRE(res);
  CheckJsonError(*res, 413, "payload_too_large");
  // The same keep-alive connection still carries requests: the body was skipped, not left.
  auto after = client.Post("/echo", "ok", "text/plain");
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(after->body == "2:ok");
  CHECK(StatusOf(ts.Client().Get("/hello")) == 200);
}

TEST_CASE("HttpServer answers 413 for a chunked body one byte over and keeps serving",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  client.set_keep_alive(true);
  auto res = client.Post("/echo", ChunkedBody(kMaxBody + 1), "text/plain");
  REQUIRE(res);
  CHECK(res.get_request_header_value("Transfer-Encoding") == "chunked");
  CheckJsonError(*res, 413, "payload_too_large");
  auto after = client.Post("/echo", "ok", "text/plain");
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(after->body == "2:ok");
}

TEST_CASE("HttpServer reads a chunked body within max_body_bytes", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto res = ts.Client().Post("/echo", ChunkedBody(kMaxBody), "text/plain");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == std::to_string(kMaxBody) + ":" + std::string(kMaxBody, 'c'));
}

TEST_CASE("HttpServer answers 413 and closes when a chunked body goes far over the limit",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  // More than max_body_bytes plus the 1 MiB the server drains: it stops reading mid-body.
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(4096, 'z');
  for (int i = 0; i < 300; ++i) request += "1000\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  const RawReply reply = RawExchange(ts.server.port(), request);
  CHECK(StatusOf(reply.data) == 413);
  CHECK(reply.data.find("Connection: close\r\n") != std::string::npos);
  CHECK(reply.data.find("Keep-Alive") == std::string::npos);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "payload_too_large");
  CHECK(reply.closed_by_server);
  CHECK(StatusOf(ts.Client().Get("/hello")) == 200);
}

TEST_CASE("HttpServer answers 413 at once when Content-Length is far over the limit",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  // No body follows: the server must answer from the header alone, not wait to skip 100 MB.
  const auto start = std::chrono::steady_clock::now();
  const RawReply reply = RawExchange(
      ts.server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2500));
  CHECK(StatusOf(reply.data) == 413);
  CHECK(reply.closed_by_server);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "payload_too_large");
}

TEST_CASE("HttpServer treats a POST without Content-Length or Transfer-Encoding as empty",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  // httplib alone would read until the client closes (here: until its read timeout).
  const auto start = std::chrono::steady_clock::now();
  const RawReply reply =
      RawExchange(ts.server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2500));
  CHECK(StatusOf(reply.data) == 200);
  CHECK(BodyOf(reply.data) == "0:");
}

TEST_CASE("HttpServer rejects ambiguous body framing with 400 and closes", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const std::string headers =
      GENERATE(std::string("Transfer-Encoding: gzip\r\n"),
               std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
               std::string("Content-Length: 5\r\nContent-Length: 6\r\n"));
  const RawReply reply =
      RawExchange(ts.server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\n" + headers + "\r\nhello");
  INFO(reply.data);
  CHECK(StatusOf(reply.data) == 400);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "bad_request");
  CHECK(reply.closed_by_server);
}

TEST_CASE("HttpServer rejects a non-numeric Content-Length with 400 and closes", "[integration]") {
  // libmicrohttpd refuses this one itself while parsing the headers, with its own (HTML) body.
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply = RawExchange(
      ts.server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: five\r\n\r\nhello");
  CHECK(StatusOf(reply.data) == 400);
  CHECK(reply.closed_by_server);
}

// ---------------------------------------------------------------------------------------------
// Access log and metrics

TEST_CASE("HttpServer logs one access line per request without the query string", "[integration]") {
  std::ostringstream out;
  auto log = std::make_shared<spdlog::logger>(
      "http", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  log->set_pattern("%v");
  TestServer ts(TestOptions(), log);
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto res = ts.Client().Get("/hello?signature=topsecret&nonce=1", {{"X-Request-Id", "log-1"}});
  REQUIRE(res);
  ts.server.Stop();  // joins the workers, so the line has been written
  const std::string text = out.str();
  INFO(text);  // the access log shows no query string, so printing it on failure is safe
  CHECK(text.find("method=GET path=/hello status=200 bytes=2 duration_ms=") != std::string::npos);
  CHECK(text.find("request_id=log-1 remote=127.0.0.1") != std::string::npos);
  CHECK(text.find("topsecret") == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("HttpServer counts requests per route, method and status", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  CHECK(StatusOf(client.Get("/hello")) == 200);
  CHECK(StatusOf(client.Get("/hello")) == 200);
  CHECK(StatusOf(client.Post("/echo", "x", "text/plain")) == 200);
  CHECK(StatusOf(client.Post("/echo", std::string(kMaxBody + 1, 'x'), "text/plain")) == 413);
  CHECK(StatusOf(client.Get("/missing")) == 404);
  ts.server.Stop();  // every logger hook (which records the metrics) has run

  CHECK(ts.Requests("/hello", "GET", 200) == 2);
  CHECK(ts.Requests("/echo", "POST", 200) == 1);
  CHECK(ts.Requests("/echo", "POST", 413) == 1);
  CHECK(ts.Requests("unmatched", "GET", 404) == 1);
  auto& duration = ts.metrics.Histogram("scrmd_http_request_duration_seconds", "", {"route"}, {});
  CHECK(duration.Count({"/hello"}) == 2);
  CHECK(duration.Count({"unmatched"}) == 1);
  const std::string text = ts.metrics.Render();
  CHECK(text.find("scrmd_http_requests_total{route=\"/hello\",method=\"GET\",status=\"200\"} 2") !=
        std::string::npos);
  CHECK(text.find("scrmd_http_request_duration_seconds_bucket{route=\"/hello\",le=\"0.0005\"}") !=
        std::string::npos);
  CHECK(text.find("scrmd_http_request_duration_seconds_bucket{route=\"/hello\",le=\"5\"}") !=
        std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TEST_CASE("HttpServer Stop lets an in-flight request finish", "[integration]") {
  TestServer ts;
  std::atomic<bool> entered{false};
  ts.server.Get("/slow", [&](const Request&, Response& res, const RequestContext&) {
    entered = true;
    std::this_thread::sleep_for(milliseconds(300));
    res.SetContent("done", "text/plain");
  });
  REQUIRE(ts.server.Start().ok());
  httplib::Result result(nullptr, httplib::Error::Unknown);
  std::thread client([&] { result = ts.Client().Get("/slow"); });
  REQUIRE(HttpServerEventually([&] { return entered.load(); }));
  ts.server.Stop();
  client.join();
  REQUIRE(result);
  CHECK(result->status == 200);
  CHECK(result->body == "done");
  CHECK_FALSE(ts.server.IsRunning());
  CHECK_FALSE(ts.Client().Get("/slow"));  // no longer accepting
}

TEST_CASE("HttpServer Stop without Start and a second Stop are harmless", "[integration]") {
  TestServer ts;
  REQUIRE(ts.server.Bind().ok());
  ts.server.Stop();
  ts.server.Stop();
  CHECK_FALSE(ts.server.IsRunning());
}

TEST_CASE("HttpServer Bind returns Unavailable for an address that is not local", "[integration]") {
  ServerOptions options = TestOptions();
  options.host = "203.0.113.7";  // TEST-NET-3: never assigned to this machine
  TestServer ts(options);
  const core::Status status = ts.server.Bind();
  CHECK(status.code() == core::StatusCode::kUnavailable);
  CHECK(status.message().find("203.0.113.7:0") != std::string::npos);
  CHECK(ts.server.Start().code() == core::StatusCode::kUnavailable);
}

TEST_CASE("HttpServer Bind returns Unavailable when another server listens on the port",
          "[integration]") {
  // httplib's default SO_REUSEPORT would let the second bind succeed and share the traffic.
  TestServer first;
  REQUIRE(first.server.Start().ok());
  ServerOptions options = TestOptions();
  options.port = first.server.port();
  TestServer second(options);
  const core::Status status = second.server.Bind();
  CHECK(status.code() == core::StatusCode::kUnavailable);
  CHECK(status.message().find(std::to_string(options.port)) != std::string::npos);
}

TEST_CASE("HttpServer Bind rejects invalid options with InvalidArgument", "[unit]") {
  ServerOptions options = TestOptions();
  SECTION("threads") { options.threads = 0; }
  SECTION("max_connections below threads") { options.max_connections = options.threads - 1; }
  SECTION("keep_alive_max") { options.keep_alive_max = 0; }
  SECTION("port") { options.port = 70000; }
  SECTION("max_body_bytes") { options.max_body_bytes = -1; }
  TestServer ts(options);
  CHECK(ts.server.Bind().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("HttpServer Bind twice is a FailedPrecondition", "[integration]") {
  TestServer ts;
  REQUIRE(ts.server.Bind().ok());
  CHECK(ts.server.Bind().code() == core::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// Async routes

// Keeps the responder of the last request an async route took, for the test to answer.
struct ParkedResponders {
  std::mutex mu;
  std::vector<Responder> parked;

  AsyncHandler Handler() {
    return [this](const Request&, const RequestContext&, Responder responder) {
      std::lock_guard lock(mu);
      parked.push_back(std::move(responder));
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return parked.size();
  }
  Responder Take(size_t index) {
    std::lock_guard lock(mu);
    return parked.at(index);
  }
};

Response TextResponse(int status, const std::string& body) {
  Response res;
  res.status = status;
  res.SetContent(body, "text/plain");
  return res;
}

TEST_CASE("HttpServer answers an async route from another thread after the handler returned",
          "[integration]") {
  TestServer ts;
  ParkedResponders parked;
  ts.server.PostAsync("/later", parked.Handler());
  REQUIRE(ts.server.Start().ok());
  httplib::Result result(nullptr, httplib::Error::Unknown);
  std::thread client([&] {
    result = ts.Client().Post("/later", {{"X-Request-Id", "a-1"}}, "x", "text/plain");
  });
  REQUIRE(HttpServerEventually([&] { return parked.size() == 1; }));
  bool sent = false;
  std::thread answerer([&] { sent = parked.Take(0).Send(TextResponse(201, "done later")); });
  answerer.join();
  client.join();
  CHECK(sent);
  REQUIRE(result);
  CHECK(result->status == 201);
  CHECK(result->body == "done later");
  CHECK(result->get_header_value("X-Request-Id") == "a-1");
  ts.server.Stop();
  CHECK(ts.Requests("/later", "POST", 201) == 1);
}

TEST_CASE("HttpServer async handler gets the body, captures and query parameters",
          "[integration]") {
  TestServer ts;
  ts.server.PostAsync(
      "/items/{id}", [](const Request& req, const RequestContext& ctx, Responder responder) {
        responder.Send(TextResponse(200, ctx.route + " " + std::string(ctx.params.At(0)) + " " +
                                             req.Param("q") + " " + req.body));
      });
  REQUIRE(ts.server.Start().ok());
  auto res = ts.Client().Post("/items/42?q=a%20b", "payload", "text/plain");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "/items/{id} 42 a b payload");
}

TEST_CASE("HttpServer Responder answers exactly once whichever copy sends first", "[integration]") {
  TestServer ts;
  ParkedResponders parked;
  ts.server.GetAsync("/once", parked.Handler());
  REQUIRE(ts.server.Start().ok());
  httplib::Result result(nullptr, httplib::Error::Unknown);
  std::thread client([&] { result = ts.Client().Get("/once"); });
  REQUIRE(HttpServerEventually([&] { return parked.size() == 1; }));
  const Responder first = parked.Take(0);
  const Responder copy = first;
  constexpr int kSenders = 8;
  std::atomic<int> won{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      if ((i % 2 == 0 ? first : copy).Send(TextResponse(200, "from " + std::to_string(i)))) ++won;
    });
  }
  for (auto& sender : senders) sender.join();
  client.join();
  CHECK(won == 1);
  REQUIRE(result);
  CHECK(result->status == 200);
  CHECK(result->body.rfind("from ", 0) == 0);
  CHECK_FALSE(first.Send(TextResponse(500, "too late")));
  CHECK_FALSE(Responder().Send(TextResponse(200, "nobody")));
}

TEST_CASE("HttpServer answers 500 when an async handler drops its responder or throws",
          "[integration]") {
  TestServer ts;
  ts.server.GetAsync("/dropped", [](const Request&, const RequestContext&, Responder) {});
  ts.server.GetAsync("/throws", [](const Request&, const RequestContext&, Responder) {
    throw std::runtime_error("secret detail");
  });
  ts.server.GetAsync("/empty-error",
                     [](const Request&, const RequestContext&, Responder responder) {
                       Response res;
                       res.status = 429;
                       responder.Send(std::move(res));
                     });
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  auto dropped = client.Get("/dropped");
  REQUIRE(dropped);
  CheckJsonError(*dropped, 500, "internal");
  auto throws = client.Get("/throws");
  REQUIRE(throws);
  CheckJsonError(*throws, 500, "internal");
  CHECK(throws->body.find("secret") == std::string::npos);
  auto empty = client.Get("/empty-error");
  REQUIRE(empty);
  CheckJsonError(*empty, 429, "resource_exhausted");
}

TEST_CASE("HttpServer keeps serving when the client hangs up before the async answer",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  ParkedResponders parked;
  ts.server.GetAsync("/later", parked.Handler());
  REQUIRE(ts.server.Start().ok());
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(ts.server.port()));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string request = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()));
    REQUIRE(HttpServerEventually([&] { return parked.size() == 1; }));
    ::close(fd);
  }
  // The answer goes to a closed connection: taken, then dropped by the server.
  CHECK(parked.Take(0).Send(TextResponse(200, "nobody listens")));
  auto client = ts.Client();
  CHECK(StatusOf(client.Get("/hello")) == 200);
  ts.server.Stop();
  CHECK(ts.Requests("/hello", "GET", 200) == 1);
}

TEST_CASE("HttpServer Stop waits for a suspended async request answered meanwhile",
          "[integration]") {
  TestServer ts;
  ParkedResponders parked;
  ts.server.PostAsync("/later", parked.Handler());
  REQUIRE(ts.server.Start().ok());
  httplib::Result result(nullptr, httplib::Error::Unknown);
  std::thread client([&] { result = ts.Client().Post("/later", "x", "text/plain"); });
  REQUIRE(HttpServerEventually([&] { return parked.size() == 1; }));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    ts.server.Stop();
    stopped = true;
  });
  REQUIRE(HttpServerEventually([&] { return !ts.server.IsRunning(); }));
  CHECK_FALSE(stopped);  // still waiting for the suspended request
  CHECK(parked.Take(0).Send(TextResponse(200, "answered during stop")));
  stopper.join();
  client.join();
  REQUIRE(result);
  CHECK(result->status == 200);
  CHECK(result->body == "answered during stop");
  CHECK(result->get_header_value("Connection") == "close");
}

TEST_CASE("HttpServer Stop answers 503 to an async request nobody answers within the grace",
          "[integration]") {
  ServerOptions options = TestOptions();
  options.stop_grace_s = 0;
  TestServer ts(options);
  ParkedResponders parked;
  ts.server.PostAsync("/never", parked.Handler());
  REQUIRE(ts.server.Start().ok());
  httplib::Result result(nullptr, httplib::Error::Unknown);
  std::thread client([&] { result = ts.Client().Post("/never", "x", "text/plain"); });
  REQUIRE(HttpServerEventually([&] { return parked.size() == 1; }));
  ts.server.Stop();
  client.join();
  REQUIRE(result);
  CheckJsonError(*result, 503, "unavailable");
  // The owner answering after Stop changes nothing and touches no freed state.
  CHECK_FALSE(parked.Take(0).Send(TextResponse(200, "too late")));
}

TEST_CASE("HttpServer runs ordinary handlers off the event loop", "[integration]") {
  // One event loop: if a blocking handler ran on it, /hello could not be answered until the
  // handler returned, and the handler waits for /hello's answer.
  ServerOptions options = TestOptions();
  options.event_threads = 1;
  options.threads = 2;
  TestServer ts(options);
  AddEchoRoutes(ts.server);
  std::mutex mu;
  std::condition_variable cv;
  bool hello_answered = false;
  std::atomic<bool> entered{false};
  ts.server.Get("/block", [&](const Request&, Response& res, const RequestContext&) {
    entered = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return hello_answered; });
    res.SetContent("unblocked", "text/plain");
  });
  REQUIRE(ts.server.Start().ok());
  httplib::Result blocked(nullptr, httplib::Error::Unknown);
  std::thread client([&] { blocked = ts.Client().Get("/block"); });
  REQUIRE(HttpServerEventually([&] { return entered.load(); }));
  CHECK(StatusOf(ts.Client().Get("/hello")) == 200);
  {
    std::lock_guard lock(mu);
    hello_answered = true;
  }
  cv.notify_all();
  client.join();
  REQUIRE(blocked);
  CHECK(blocked->body == "unblocked");
}

// ---------------------------------------------------------------------------------------------
// Connection handling

TEST_CASE("HttpServer closes a connection after keep_alive_max requests", "[integration]") {
  ServerOptions options = TestOptions();
  options.keep_alive_max = 2;
  TestServer ts(options);
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const std::string get = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  const RawReply reply = RawExchange(ts.server.port(), get + get + get);
  size_t answers = 0;
  for (size_t at = reply.data.find("HTTP/1.1 200"); at != std::string::npos;
       at = reply.data.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  CHECK(answers == 2);
  CHECK(reply.data.find("Connection: close\r\n") != std::string::npos);
  CHECK(reply.closed_by_server);
}

TEST_CASE("HttpServer serves HEAD from the GET route without a body", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply =
      RawExchange(ts.server.port(), "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(StatusOf(reply.data) == 200);
  CHECK(BodyOf(reply.data).empty());
  CHECK(reply.data.find("X-Request-Id: ") != std::string::npos);
}

TEST_CASE("HttpServer rejects a GET with a body with 400 and closes", "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply = RawExchange(
      ts.server.port(), "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(StatusOf(reply.data) == 400);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "bad_request");
  CHECK(reply.closed_by_server);
}

TEST_CASE("HttpServer answers 405 with Allow and closes when an unserved method sends a body",
          "[integration]") {
  TestServer ts;
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());
  const RawReply reply = RawExchange(
      ts.server.port(), "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(StatusOf(reply.data) == 405);
  CHECK(reply.data.find("Allow: POST\r\n") != std::string::npos);
  CHECK(ParseJson(BodyOf(reply.data))["error"]["code"] == "method_not_allowed");
  CHECK(reply.closed_by_server);
}

TEST_CASE("HttpServer answers 413 to an async route's oversized body without calling it",
          "[integration]") {
  TestServer ts;
  std::atomic<int> calls{0};
  ts.server.PostAsync("/async", [&](const Request&, const RequestContext&, Responder responder) {
    ++calls;
    responder.Send(TextResponse(200, "ok"));
  });
  REQUIRE(ts.server.Start().ok());
  auto client = ts.Client();
  client.set_keep_alive(true);
  auto large = client.Post("/async", std::string(kMaxBody + 1, 'x'), "text/plain");
  REQUIRE(large);
  CheckJsonError(*large, 413, "payload_too_large");
  auto chunked = client.Post("/async", ChunkedBody(kMaxBody + 1), "text/plain");
  REQUIRE(chunked);
  CheckJsonError(*chunked, 413, "payload_too_large");
  auto ok = client.Post("/async", "small", "text/plain");
  REQUIRE(ok);
  CHECK(ok->body == "ok");
  CHECK(calls == 1);
}

// ---------------------------------------------------------------------------------------------
// Starvation

TEST_CASE("HttpServer serves 200 concurrent keep-alive clients with 8 warm workers",
          "[integration]") {
  // httplib's fixed pool gives each worker one keep-alive connection for its life. Every client
  // here keeps its connection open until all clients are done, so with a fixed pool of 8 the
  // other 192 clients would never be served and would fail on their read timeout.
  ServerOptions options = TestOptions();
  options.threads = 8;
  options.max_connections = 1024;
  options.keep_alive_timeout_s = 5;
  TestServer ts(options);
  AddEchoRoutes(ts.server);
  REQUIRE(ts.server.Start().ok());

  constexpr int kClients = 200;
  constexpr int kRequestsPerClient = 20;
  std::atomic<int> answered{0};
  std::latch start(kClients);
  std::latch done(kClients);
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", ts.server.port());
      client.set_keep_alive(true);
      client.set_connection_timeout(30);
      client.set_read_timeout(30);
      client.set_write_timeout(30);
      start.arrive_and_wait();
      for (int r = 0; r < kRequestsPerClient; ++r) {
        auto res = client.Get("/hello");
        if (!res || res->status != 200) break;  // a starved client fails after its timeout
        ++answered;
      }
      done.arrive_and_wait();  // hold the connection open until every client is through
    });
  }
  for (auto& client : clients) client.join();
  CHECK(answered == kClients * kRequestsPerClient);
  ts.server.Stop();
  CHECK(ts.Requests("/hello", "GET", 200) == static_cast<uint64_t>(kClients * kRequestsPerClient));
}

}  // namespace
}  // namespace scrm::server
