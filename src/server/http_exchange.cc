// One request through HttpServer: request line, headers, routing, body, handler, answer, log.
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "src/core/hash_mix.h"
#include "src/core/strings.h"
#include "src/core/thread_name.h"
#include "src/server/http_errors.h"
#include "src/server/http_server_impl.h"

namespace scrm::server {
namespace {

using core::EqualsIgnoreCase;
using internal::DefaultMessageForStatus;
using internal::ErrorCodeForStatus;
using internal::ErrorJson;
using internal::kUnmatchedRoute;
using internal::LogSafe;

// The splitmix64 finaliser (http://xoshiro.di.unimi.it/splitmix64.c): a bijection on 64-bit
// values, so distinct inputs give distinct ids that still look random.
bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string DescribeException(const std::exception_ptr& ep) {
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "non-standard exception";
  }
  return "unknown exception";
}

bool IsAllDigits(std::string_view text) {
  return text.size() <= 18 && core::AllAsciiDigits(text);  // 18 digits cannot overflow int64
}

MHD_Result AddHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<Headers*>(cls)->emplace(key, value == nullptr ? "" : value);
  return MHD_YES;
}

MHD_Result AddParam(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<QueryParams*>(cls)->emplace(key, value == nullptr ? "" : value);
  return MHD_YES;
}

void FreeString(void* cls) { delete static_cast<std::string*>(cls); }

// Response headers libmicrohttpd writes itself (framing, connection management), and the
// error detail WriteStatusError leaves for the log.
bool IsManagedHeader(const std::string& name) {
  if (EqualsIgnoreCase(name, kErrorDetailHeader)) return true;
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Keep-Alive") ||
         EqualsIgnoreCase(name, "Date") || EqualsIgnoreCase(name, kRequestIdHeader);
}

}  // namespace

namespace internal {

std::string ClientAddress(MHD_Connection* connection, uint16_t* port) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return std::string();
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* addr = info->client_addr;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    if (port != nullptr) *port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    if (port != nullptr) *port = ntohs(in6->sin6_port);
  }
  return text;
}

}  // namespace internal

internal::Completion::~Completion() {
  if (exchange == nullptr) return;
  Response res;
  res.status = 500;
  HttpServer::Impl::Finish(*exchange, std::move(res),
                           "async handler dropped its responder without answering");
}

Responder::Responder(std::shared_ptr<internal::Completion> completion)
    : completion_(std::move(completion)) {}

bool Responder::Send(Response res) const {
  if (completion_ == nullptr) return false;
  return HttpServer::Impl::Finish(*completion_->exchange, std::move(res));
}

ConnectionState* HttpServer::Impl::StateOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info == nullptr ? nullptr : static_cast<ConnectionState*>(info->socket_context);
}

void HttpServer::Impl::ReleaseBody(Exchange& ex) {
  if (ex.reserved == 0) return;
  watch.Release(ex.reserved);
  ex.reserved = 0;
}

bool HttpServer::Impl::IsServedMethod(const std::string& method) const {
  if (method == "GET" || method == "HEAD" || method == "POST") return true;
  return std::find(extra_body_methods.begin(), extra_body_methods.end(), method) !=
         extra_body_methods.end();
}

std::string HttpServer::Impl::AllowHeader() const {
  std::string allow = "GET, HEAD, POST";
  for (const std::string& method : extra_body_methods) allow += ", " + method;
  return allow;
}

std::string HttpServer::Impl::NewRequestId(const Request& req) {
  // A well-formed client id lets a caller correlate its logs with ours; anything else could be
  // used to inject into our logs, so it is replaced.
  const auto client_id = req.headers.find(kRequestIdHeader);
  if (client_id != req.headers.end() && IsValidRequestId(client_id->second)) {
    return client_id->second;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  // The golden-ratio step of splitmix64: odd, so n -> n * step is a bijection too.
  constexpr uint64_t kStep = 0x9e3779b97f4a7c15ULL;
  const uint64_t n = request_id_counter.fetch_add(1, std::memory_order_relaxed);
  uint64_t value = core::Mix64(request_id_seed + n * kStep);
  std::string id(16, '0');
  for (size_t i = id.size(); i-- > 0; value >>= 4) id[i] = kHex[value & 0x0f];
  return id;
}

void HttpServer::Impl::SetTimeout(MHD_Connection* connection, int seconds) const {
  // libmicrohttpd's timeout is one inactivity limit per connection (0 would mean none); it is
  // switched here between the read, write and keep-alive phases.
  MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT,
                            static_cast<unsigned int>(std::max(seconds, 1)));
}

void* HttpServer::Impl::OnRequestLine(const char* uri, MHD_Connection* connection) {
  // Called once per request, when its request line has been read: the request's state starts
  // here and ends in OnCompleted.
  auto ex = std::make_shared<Exchange>();
  ex->impl = this;
  ex->start = clock.SteadyNow();
  ex->connection = connection;
  ex->req.target = uri == nullptr ? "" : uri;
  SetTimeout(connection, options.read_timeout_s);
  {
    std::lock_guard lock(active_mu);
    ++active;
  }
  return new std::shared_ptr<Exchange>(std::move(ex));
}

MHD_Result HttpServer::Impl::OnAccess(MHD_Connection* connection, const char* url,
                                      const char* method, const char* /*version*/,
                                      const char* upload_data, size_t* upload_data_size,
                                      void** request_context) {
  auto* holder = static_cast<std::shared_ptr<Exchange>*>(*request_context);
  // OnRequestLine runs for every request before this; refusing is the safe answer otherwise.
  if (holder == nullptr) return MHD_NO;
  Exchange& ex = **holder;
  switch (ex.phase) {
    case Exchange::Phase::kHeaders: return BeginRequest(ex, connection, url, method);
    case Exchange::Phase::kBody:
      if (*upload_data_size > 0) {
        const size_t size = *upload_data_size;
        *upload_data_size = 0;  // all of it is consumed (kept or discarded)
        return ReadBody(ex, connection, upload_data, size);
      }
      return Dispatch(*holder, connection);
    case Exchange::Phase::kHandling: {
      // Resumed: the answer is in ex.res.
      std::unique_lock lock(ex.mu);
      // Only Finish resumes a connection, after it stored the answer; nothing else calls here.
      if (!ex.answered) return MHD_YES;
      lock.unlock();
      return Queue(ex, connection);
    }
    case Exchange::Phase::kQueued:
      // Body bytes that arrive after an early answer are not read further.
      *upload_data_size = 0;
      return MHD_YES;
  }
  return MHD_NO;
}

MHD_Result HttpServer::Impl::BeginRequest(Exchange& ex, MHD_Connection* connection, const char* url,
                                          const char* method) {
  Request& req = ex.req;
  req.method = method;
  req.path = url;  // decoded, without the query string
  MHD_get_connection_values(connection, MHD_HEADER_KIND, &AddHeader, &req.headers);
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &AddParam, &req.query);
  req.remote_addr = internal::ClientAddress(connection);
  ex.request_id = NewRequestId(req);
  ex.phase = Exchange::Phase::kBody;

  if (ConnectionState* state = StateOf(connection); state != nullptr) {
    ex.watched = state->watched;
    if (++state->requests >= options.keep_alive_max) ex.close_after = true;
  }
  if (stopping.load(std::memory_order_relaxed)) ex.close_after = true;

  // Decide on the body before any of it is read. Each header is looked up once.
  const auto lengths = req.headers.equal_range("Content-Length");
  const auto encodings = req.headers.equal_range("Transfer-Encoding");
  const bool has_length = lengths.first != lengths.second;
  const bool has_encoding = encodings.first != encodings.second;
  const bool has_body = has_encoding || (has_length && lengths.first->second != "0");

  if (req.target.size() > kMaxTargetBytes) return AnswerNow(ex, connection, 414, true);
  // The route, or why there is none. The path is at most kMaxTargetBytes here.
  Router::Found found = router.Find(req.method, req.path);
  switch (found.kind) {
    case Router::Found::Kind::kRoute:
      ex.route = routes[found.value].get();
      ex.params = std::move(found.params);
      break;
    case Router::Found::Kind::kWrongMethod: {
      std::string allow;
      for (const std::string& name : found.allowed) allow += (allow.empty() ? "" : ", ") + name;
      ex.res.SetHeader("Allow", allow);
      ex.pending_status = 405;
      break;
    }
    case Router::Found::Kind::kNoRoute:
      if (IsServedMethod(req.method)) {
        ex.pending_status = 404;
      } else {
        ex.res.SetHeader("Allow", AllowHeader());
        ex.pending_status = 405;
      }
      break;
  }
  // A method no route uses: its body, if any, is not worth reading.
  if (!IsServedMethod(req.method) && has_body) {
    return AnswerNow(ex, connection, ex.pending_status, true);
  }
  if ((req.method == "GET" || req.method == "HEAD") && has_body) {
    return AnswerNow(ex, connection, 400, true, "a GET or HEAD request must not carry a body");
  }
  // RFC 9112 section 6: Transfer-Encoding together with Content-Length is a request-smuggling
  // signal, and only a lone "chunked" coding is understood. Several Content-Length headers, or a
  // non-numeric one, leave the message length unknown.
  int64_t expected = 0;
  if (has_encoding) {
    if (has_length || std::next(encodings.first) != encodings.second ||
        !EqualsIgnoreCase(encodings.first->second, "chunked")) {
      return AnswerNow(ex, connection, 400, true, "unsupported Transfer-Encoding");
    }
    expected = -1;
  } else if (has_length) {
    const std::string& length = lengths.first->second;
    if (std::next(lengths.first) != lengths.second || !IsAllDigits(length)) {
      return AnswerNow(ex, connection, 400, true, "invalid Content-Length");
    }
    expected = std::stoll(length);
    // Within the drain budget the body is read and discarded (ReadBody) so that the connection
    // stays usable; beyond it, reading would cost more than closing.
    if (expected > options.max_body_bytes + kMaxDrainBytes) {
      return AnswerNow(ex, connection, 413, true);
    }
    if (expected <= options.max_body_bytes) {
      // The body budget is taken for the whole announced body before any of it is read.
      if (expected > 0 && !watch.TryReserve(expected)) {
        ex.res.SetHeader("Retry-After", "1");
        return AnswerNow(ex, connection, 503, true, kBodyBudgetMessage);
      }
      ex.reserved = expected;
      req.body.reserve(static_cast<size_t>(expected));
    }
  }
  ex.body_expected = expected;
  watch.HeadersRead(ex.watched, ex.request_id, expected);
  return MHD_YES;
}

MHD_Result HttpServer::Impl::ReadBody(Exchange& ex, MHD_Connection* connection, const char* data,
                                      size_t size) {
  const int64_t limit = options.max_body_bytes;
  ex.body_bytes += static_cast<int64_t>(size);
  watch.BodyRead(ex.watched, ex.body_bytes);
  if (!ex.too_large && ex.body_bytes <= limit) {
    // A chunked body takes the budget as it arrives (a Content-Length one took it whole).
    if (ex.body_expected < 0) {
      if (!watch.TryReserve(static_cast<int64_t>(size))) {
        return AbortMidBody(ex, connection, 503);
      }
      ex.reserved += static_cast<int64_t>(size);
    }
    ex.req.body.append(data, size);
    return MHD_YES;
  }
  if (!ex.too_large) {
    ex.too_large = true;
    std::string().swap(ex.req.body);
    ReleaseBody(ex);
  }
  // Read and discard up to the drain budget (see kMaxDrainBytes), then give up on the body.
  if (ex.body_bytes > limit + kMaxDrainBytes) return AbortMidBody(ex, connection, 413);
  return MHD_YES;
}

MHD_Result HttpServer::Impl::AbortMidBody(Exchange& ex, MHD_Connection* connection, int status) {
  // libmicrohttpd 0.9.75 queues a response only before the body is read or after its end
  // (MHD_queue_response refuses in between). So the answer is written straight to the socket,
  // whose write side is idle while a body is read (a 100 Continue, if any, went out before), and
  // the connection is then aborted. A send that cannot take the ~200 bytes at once is not
  // retried: the close tells the client enough.
  const std::string message = status == 503
                                  ? std::string(kBodyBudgetMessage)
                                  : DefaultMessageForStatus(status, options.max_body_bytes);
  const std::string body = ErrorJson(ErrorCodeForStatus(status), message, ex.request_id);
  std::string wire = status == 503 ? "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                   : "HTTP/1.1 413 Payload Too Large\r\n";
  wire += "Content-Type: application/json\r\n";
  wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  wire += std::string(kRequestIdHeader) + ": " + ex.request_id + "\r\nConnection: close\r\n\r\n";
  wire += body;
  if (const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      info != nullptr) {
    const ssize_t sent =
        ::send(info->connect_fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    static_cast<void>(sent);
  }
  {
    std::lock_guard lock(ex.mu);
    ex.answered = true;
  }
  watch.Done(ex.watched);
  ReleaseBody(ex);
  ex.status = status;
  ex.bytes = body.size();
  ex.phase = Exchange::Phase::kQueued;  // logged and counted when libmicrohttpd closes it
  return MHD_NO;
}

MHD_Result HttpServer::Impl::Dispatch(const std::shared_ptr<Exchange>& shared,
                                      MHD_Connection* connection) {
  Exchange& ex = *shared;
  // The body has been read to its end: the connection stays in sync whatever the answer, and the
  // request's time is no longer the client's.
  watch.Done(ex.watched);
  ReleaseBody(ex);
  if (ex.too_large) return AnswerNow(ex, connection, 413, false);
  if (ex.pending_status != 0) return AnswerNow(ex, connection, ex.pending_status, false);

  ex.phase = Exchange::Phase::kHandling;
  {
    std::lock_guard lock(pending_mu);
    pending.emplace(&ex, shared);
  }
  const Route& route = *ex.route;
  if (route.async_handler) {
    // An answer given while the handler runs (on this thread or another) only lands in ex.res:
    // the connection is not suspended yet, so Finish does not resume it.
    try {
      route.async_handler(ex.req, RequestContext{ex.request_id, route.name, ex.params},
                          Responder(std::make_shared<internal::Completion>(shared)));
    } catch (...) {
      log->error("request_id={} method={} path={} handler threw: {}", ex.request_id,
                 LogSafe(ex.req.method, 16), LogSafe(ex.req.path),
                 DescribeException(std::current_exception()));
      Response res;
      res.status = 500;
      Finish(ex, std::move(res));
    }
    std::unique_lock lock(ex.mu);
    if (ex.answered) {
      lock.unlock();
      return Queue(ex, connection);
    }
    // Answered later from another thread: Finish resumes the connection.
    ex.suspended = true;
    MHD_suspend_connection(connection);
    return MHD_YES;
  }
  {
    std::lock_guard lock(ex.mu);
    ex.suspended = true;
    MHD_suspend_connection(connection);
  }
  // Ordinary handlers may block (SQLite): never on an event thread.
  pool->Enqueue([this, shared] { RunHandler(shared); });
  return MHD_YES;
}

void HttpServer::Impl::RunHandler(const std::shared_ptr<Exchange>& shared) {
  Exchange& ex = *shared;
  Response res;
  try {
    ex.route->handler(ex.req, res, RequestContext{ex.request_id, ex.route->name, ex.params});
  } catch (...) {
    log->error("request_id={} method={} path={} handler threw: {}", ex.request_id,
               LogSafe(ex.req.method, 16), LogSafe(ex.req.path),
               DescribeException(std::current_exception()));
    // Whatever the handler had put into the response is dropped: the client gets the generic
    // error only.
    res = Response();
    res.status = 500;
  }
  Finish(ex, std::move(res));
}

bool HttpServer::Impl::Finish(Exchange& ex, Response res, const char* why_logged) {
  std::lock_guard lock(ex.mu);
  if (ex.answered) return false;
  ex.answered = true;
  ex.res = std::move(res);
  Impl& impl = *ex.impl;
  if (why_logged != nullptr) {
    impl.log->error("request_id={} method={} path={}: {}", ex.request_id,
                    LogSafe(ex.req.method, 16), LogSafe(ex.req.path), why_logged);
  }
  {
    std::lock_guard pending_lock(impl.pending_mu);
    impl.pending.erase(&ex);
  }
  if (ex.suspended) {
    ex.suspended = false;
    // libmicrohttpd then calls OnAccess again on the connection's event thread, which queues
    // the answer. The connection cannot complete while suspended, so it is still valid here.
    if (ex.connection != nullptr) MHD_resume_connection(ex.connection);
  }
  return true;
}

MHD_Result HttpServer::Impl::AnswerNow(Exchange& ex, MHD_Connection* connection, int status,
                                       bool close, std::string_view message) {
  const std::string text = message.empty() ? DefaultMessageForStatus(status, options.max_body_bytes)
                                           : std::string(message);
  WriteJsonError(ex.res, status, ErrorCodeForStatus(status), text, ex.request_id);
  if (close) ex.close_after = true;
  {
    std::lock_guard lock(ex.mu);
    ex.answered = true;
  }
  return Queue(ex, connection);
}

MHD_Result HttpServer::Impl::Queue(Exchange& ex, MHD_Connection* connection) {
  Response& res = ex.res;
  if (res.status < 100 || res.status > 999) {
    log->error("request_id={} path={}: handler set status {}", ex.request_id, LogSafe(ex.req.path),
               res.status);
    res = Response();
    res.status = 500;
  }
  // A body (or a Content-Type) is the handler's own answer; an empty error gets the JSON one.
  if (res.status >= 400 && res.body.empty() && !res.HasHeader("Content-Type")) {
    WriteJsonError(res, res.status, ErrorCodeForStatus(res.status),
                   DefaultMessageForStatus(res.status, options.max_body_bytes), ex.request_id);
  }
  auto* body = new std::string(std::move(res.body));
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      body->size(), body->data(), &FreeString, body);
  if (response == nullptr) {
    delete body;
    return MHD_NO;
  }
  ex.bytes = body->size();
  if (const auto detail = res.headers.find(kErrorDetailHeader); detail != res.headers.end()) {
    log->warn("request_id={} path={} status={}: {}", ex.request_id, LogSafe(ex.req.path),
              res.status, LogSafe(detail->second));
  }
  for (const auto& [name, value] : res.headers) {
    if (IsManagedHeader(name)) continue;
    // Refused (MHD_NO) for names or values with control characters: such a header is dropped.
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  MHD_add_response_header(response, kRequestIdHeader, ex.request_id.c_str());
  if (ex.close_after || stopping.load(std::memory_order_relaxed)) {
    // libmicrohttpd closes the connection after a response that says so.
    MHD_add_response_header(response, "Connection", "close");
  }
  SetTimeout(connection, options.write_timeout_s);
  watch.Done(ex.watched);
  ReleaseBody(ex);
  ex.status = res.status;
  ex.phase = Exchange::Phase::kQueued;
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned int>(res.status), response);
  MHD_destroy_response(response);
  return queued;
}

void HttpServer::Impl::OnCompleted(MHD_Connection* connection, void** request_context,
                                   MHD_RequestTerminationCode code) {
  auto* holder = static_cast<std::shared_ptr<Exchange>*>(*request_context);
  if (holder == nullptr) return;
  *request_context = nullptr;
  Exchange& ex = **holder;
  {
    std::lock_guard lock(ex.mu);
    ex.connection = nullptr;
  }
  if (ex.phase == Exchange::Phase::kQueued) Record(ex);
  ReleaseBody(ex);
  if (code == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
    SetTimeout(connection, options.keep_alive_timeout_s);
    if (ConnectionState* state = StateOf(connection); state != nullptr) {
      watch.AwaitNext(state->watched);
    }
  }
  delete holder;
  {
    std::lock_guard lock(active_mu);
    --active;
  }
  active_cv.notify_all();
}

void HttpServer::Impl::Record(const Exchange& ex) {
  const auto now = clock.SteadyNow();
  internal::RequestRecord record;
  record.method = ex.req.method;
  record.path = ex.req.path;
  record.route =
      ex.route != nullptr && ex.pending_status == 0 ? ex.route->name.c_str() : kUnmatchedRoute;
  record.request_id = ex.request_id;
  record.remote = ex.req.remote_addr;
  record.status = ex.status;
  record.bytes = ex.bytes;
  record.seconds = std::chrono::duration<double>(now - ex.start).count();
  request_log.Record(record);
}

}  // namespace scrm::server
