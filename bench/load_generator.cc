#include "bench/load_generator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string_view>
#include <utility>

#include "sim/callback_builder.h"

namespace scrm::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What members write to a shop's WeCom / OA account; one per message, numbered so that no two
// bodies are the same.
constexpr std::array<std::string_view, 8> kChineseTexts = {
    "你好，请问会员卡怎么办理？",
    "我想了解一下这款面霜的价格和发货时间",
    "订单号能帮我查一下物流吗？已经三天没更新了",
    "周末门店几点开门？可以预约吗",
    "优惠券为什么用不了，提示不满足条件",
    "谢谢，收到了，质量很好！下次还来买",
    "可以开发票吗？公司抬头稍后发你",
    "请问有没有适合敏感肌的护肤品推荐，预算三百左右",
};

// splitmix64 (https://prng.di.unimi.it/splitmix64.c): the content mix follows the seed.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// `prefix` followed by `index` zero-padded so that the id has exactly `length` characters.
std::string PaddedId(std::string_view prefix, uint64_t index, size_t length) {
  std::string digits = std::to_string(index);
  std::string id(prefix);
  if (id.size() + digits.size() < length) id.append(length - id.size() - digits.size(), '0');
  id += digits;
  return id;
}

std::string HostHeader(const Target& target) {
  const bool v6 = target.host.find(':') != std::string::npos;
  return (v6 ? "[" + target.host + "]" : target.host) + ":" + std::to_string(target.port);
}

std::string Serialize(const sim::SimRequest& request, const std::string& host_header) {
  std::string wire;
  wire.reserve(request.path_and_query.size() + request.body.size() + 160);
  wire += "POST ";
  wire += request.path_and_query;
  wire += " HTTP/1.1\r\nHost: ";
  wire += host_header;
  wire += "\r\nUser-Agent: scrm-loadgen\r\nContent-Type: text/xml\r\nContent-Length: ";
  wire += std::to_string(request.body.size());
  wire += "\r\n\r\n";
  wire += request.body;
  return wire;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses decimal or hexadecimal digits; false on anything else or on overflow past 2^40.
bool ParseNumber(std::string_view text, int base, size_t& out) {
  if (text.empty() || text.size() > 10) return false;
  size_t value = 0;
  for (char c : text) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return false;
    value = value * static_cast<size_t>(base) + static_cast<size_t>(digit);
  }
  out = value;
  return true;
}

enum class Parse { kIncomplete, kComplete, kBad };

struct ParsedResponse {
  int status = 0;
  bool close = false;  // the server closes the connection after this response
};

// End of a chunked body starting at `pos` (RFC 9112 section 7.1), or npos while incomplete;
// `bad` on a malformed chunk size.
size_t ChunkedEnd(std::string_view in, size_t pos, bool& bad) {
  for (;;) {
    const size_t line_end = in.find("\r\n", pos);
    if (line_end == std::string_view::npos) return std::string_view::npos;
    std::string_view size_text = in.substr(pos, line_end - pos);
    size_text = Trim(size_text.substr(0, size_text.find(';')));
    size_t size = 0;
    if (!ParseNumber(size_text, 16, size)) {
      bad = true;
      return std::string_view::npos;
    }
    if (size == 0) {
      // Optional trailer fields, then an empty line.
      const size_t trailer_end = in.find("\r\n\r\n", line_end);
      if (in.substr(line_end, 4) == "\r\n\r\n") return line_end + 4;
      return trailer_end == std::string_view::npos ? trailer_end : trailer_end + 4;
    }
    pos = line_end + 2 + size + 2;
    if (pos > in.size()) return std::string_view::npos;
  }
}

// The minimal HTTP/1.1 response reader the generator needs: the status line, Content-Length,
// chunked framing and Connection: close. `eof` says the peer has closed.
Parse ParseResponse(std::string_view in, bool eof, ParsedResponse& out) {
  const size_t header_end = in.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    return in.size() > 65536 ? Parse::kBad : Parse::kIncomplete;
  }
  // "HTTP/1.1 200 OK"
  if (in.size() < 12 || in.substr(0, 7) != "HTTP/1." || in[8] != ' ') return Parse::kBad;
  size_t status = 0;
  if (!ParseNumber(in.substr(9, 3), 10, status) || status < 100) return Parse::kBad;
  out.status = static_cast<int>(status);
  out.close = in[7] == '0';  // HTTP/1.0 closes unless it says keep-alive

  bool has_length = false;
  bool chunked = false;
  size_t length = 0;
  size_t pos = in.find("\r\n") + 2;
  while (pos < header_end) {
    const size_t line_end = in.find("\r\n", pos);
    const std::string_view line = in.substr(pos, line_end - pos);
    pos = line_end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (!ParseNumber(value, 10, length)) return Parse::kBad;
      has_length = true;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      chunked = EqualsIgnoreCase(value, "chunked");
    } else if (EqualsIgnoreCase(name, "Connection")) {
      if (EqualsIgnoreCase(value, "close")) out.close = true;
      if (EqualsIgnoreCase(value, "keep-alive")) out.close = false;
    }
  }
  const size_t body_start = header_end + 4;
  if (status < 200 || status == 204 || status == 304) return Parse::kComplete;
  if (chunked) {
    bool bad = false;
    const size_t end = ChunkedEnd(in, body_start, bad);
    if (bad) return Parse::kBad;
    return end == std::string_view::npos ? Parse::kIncomplete : Parse::kComplete;
  }
  if (has_length) return in.size() >= body_start + length ? Parse::kComplete : Parse::kIncomplete;
  if (out.close) return eof ? Parse::kComplete : Parse::kIncomplete;  // body runs to the close
  return Parse::kComplete;  // neither length nor close: no body
}

// True when an idle keep-alive connection has been closed by the server (or is broken).
bool PeerClosed(int fd) {
  char byte = 0;
  const ssize_t r = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r == 0) return true;
  if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return true;  // unsolicited bytes: the connection is out of sync
}

}  // namespace

core::StatusOr<std::string> LoopbackAddress(const std::string& host) {
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (EqualsIgnoreCase(bare, "localhost")) return std::string("127.0.0.1");
  in_addr v4{};
  if (::inet_pton(AF_INET, bare.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) == 127) return bare;
    return core::InvalidArgumentError("refusing non-loopback host " + host +
                                      " (only 127.0.0.0/8, ::1 and localhost)");
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, bare.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return bare;
    return core::InvalidArgumentError("refusing non-loopback host " + host +
                                      " (only 127.0.0.0/8, ::1 and localhost)");
  }
  // Names other than localhost are never resolved: they could point anywhere.
  return core::InvalidArgumentError("refusing host " + host +
                                    ": give a loopback address or localhost");
}

core::StatusOr<Target> ParseLoopbackUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    return core::InvalidArgumentError("URL must start with http:// (got " + url + ")");
  }
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Target target;
  target.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (target.path.find_first_of("?#") != std::string::npos) {
    return core::InvalidArgumentError(
        "URL must not carry a query or fragment: the generator "
        "appends the signed query itself");
  }
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
    return core::InvalidArgumentError("URL needs an explicit port: " + url);
  }
  size_t port = 0;
  if (!ParseNumber(authority.substr(colon + 1), 10, port) || port == 0 || port > 65535) {
    return core::InvalidArgumentError("URL port must be 1..65535: " + url);
  }
  target.port = static_cast<int>(port);
  SCRM_ASSIGN_OR_RETURN(target.host, LoopbackAddress(authority.substr(0, colon)));
  return target;
}

core::StatusOr<PreparedRequests> BuildCallbackRequests(const CallbackSpec& spec,
                                                       const Target& target, size_t count,
                                                       uint64_t first_index, int64_t timestamp_s) {
  auto builder =
      sim::CallbackBuilder::Create(spec.token, spec.encoding_aes_key, spec.receive_id, spec.seed);
  if (!builder.ok()) return builder.status();
  const std::string host_header = HostHeader(target);
  PreparedRequests out;
  out.wire.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t index = first_index + i;
    const uint64_t mix = Mix(spec.seed ^ (index * 0x100000001b3ULL));
    // 19-digit MsgIds as both platforms send them; unique per index.
    const uint64_t msg_id = 7'000'000'000'000'000'000ULL + index;
    const std::string content =
        std::string(kChineseTexts[mix % kChineseTexts.size()]) + " #" + std::to_string(index);
    sim::SimRequest request;
    if (spec.platform == CallbackPlatform::kWecom) {
      const std::string userid = "zhangwei" + std::to_string(mix % 64);  // member UserID
      const std::string plaintext =
          index % 10 == 9
              // ExternalUserID: 32 characters like "wmAJ2GCAAAXtWyujaWJHDDGi0mACHAAA".
              ? sim::CallbackBuilder::WecomContactAddXml(
                    spec.receive_id, userid, PaddedId("wmBench", index, 32),
                    "qrcode_store_" + std::to_string(mix % 12), timestamp_s)
              : sim::CallbackBuilder::WecomTextXml(spec.receive_id, userid, content, msg_id,
                                                   timestamp_s);
      request = builder->WecomPost(target.path, plaintext, timestamp_s);
    } else {
      const std::string openid = PaddedId("oBench", index, 28);  // 28-character openid
      const std::string plaintext =
          sim::CallbackBuilder::OaTextXml("gh_4d00ed8d6399", openid, content, msg_id, timestamp_s);
      request = builder->OaSafePost(target.path, plaintext, openid, timestamp_s);
    }
    out.body_bytes += request.body.size();
    out.wire.push_back(Serialize(request, host_header));
  }
  return out;
}

size_t LoadResult::Count(int status) const {
  const auto it = by_status.find(status);
  return it == by_status.end() ? 0 : it->second;
}

double LoadResult::PerSecond(int status) const {
  return seconds > 0 ? static_cast<double>(Count(status)) / seconds : 0;
}

double LoadResult::PercentileMs(double p) const {
  if (latencies_ms.empty()) return 0;
  std::vector<double> sorted = latencies_ms;
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(std::max(rank, 1.0)) - 1);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index),
                   sorted.end());
  return sorted[index];
}

struct LoadGenerator::Connection {
  enum class State { kIdle, kConnecting, kSending, kReceiving };
  int fd = -1;
  State state = State::kIdle;
  const std::string* request = nullptr;
  size_t written = 0;
  bool readable_pending = false;  // EPOLLIN seen before the request was fully written
  std::string in;
  Clock::time_point started;
};

// One Run's event loop: epoll, edge-triggered, non-blocking sockets, one request in flight
// per connection. Connections that finish (or fail) a request go to `ready_` and start their
// next request from the main loop, so an immediate failure never recurses.
class LoadGenerator::Loop {
 public:
  Loop(const Target& target, const LoadOptions& options, std::vector<Connection>& connections,
       std::span<const std::string> requests, std::chrono::milliseconds duration_cap)
      : target_(target),
        options_(options),
        connections_(connections),
        requests_(requests),
        duration_cap_(duration_cap) {}
  ~Loop() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  core::StatusOr<LoadResult> Run() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return core::InternalError(std::string("epoll: ") + std::strerror(errno));
    result_.latencies_ms.reserve(requests_.size());
    for (Connection& c : connections_) {
      if (c.fd >= 0 && PeerClosed(c.fd)) CloseFd(c);
      if (c.fd >= 0) Watch(c);
      ready_.push_back(&c);
    }
    const Clock::time_point begin = Clock::now();
    const Clock::time_point stop_at =
        duration_cap_.count() > 0 ? begin + duration_cap_ : Clock::time_point::max();
    Clock::time_point last_sweep = begin;
    std::array<epoll_event, 256> events{};
    for (;;) {
      while (!ready_.empty()) {
        Connection* c = ready_.front();
        ready_.pop_front();
        StartNext(*c);
      }
      if (in_flight_ == 0) break;
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 50);
      if (n < 0 && errno != EINTR) {
        return core::InternalError(std::string("epoll_wait: ") + std::strerror(errno));
      }
      for (int i = 0; i < n; ++i) {
        HandleEvent(*static_cast<Connection*>(events[static_cast<size_t>(i)].data.ptr),
                    events[static_cast<size_t>(i)].events);
      }
      const Clock::time_point now = Clock::now();
      if (now >= stop_at) stopping_ = true;
      if (now - last_sweep >= std::chrono::milliseconds(50)) {
        last_sweep = now;
        SweepTimeouts(now);
      }
    }
    result_.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    // The next Run makes its own epoll set; these registrations die with this one.
    return std::move(result_);
  }

 private:
  using State = Connection::State;

  void StartNext(Connection& c) {
    if (stopping_ || next_ >= requests_.size()) {
      c.state = State::kIdle;
      return;
    }
    c.request = &requests_[next_++];
    c.written = 0;
    c.readable_pending = false;
    c.in.clear();
    c.started = Clock::now();
    ++result_.sent;
    ++in_flight_;
    if (c.fd < 0 && !Connect(c)) {
      Fail(c, result_.connect_errors);
      return;
    }
    if (c.state == State::kConnecting) return;
    c.state = State::kSending;
    Send(c);
  }

  bool Connect(Connection& c) {
    const bool v6 = target_.host.find(':') != std::string::npos;
    sockaddr_storage address{};
    socklen_t length = 0;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&address);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(target_.port));
      if (::inet_pton(AF_INET6, target_.host.c_str(), &a->sin6_addr) != 1) return false;
      length = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&address);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(target_.port));
      if (::inet_pton(AF_INET, target_.host.c_str(), &a->sin_addr) != 1) return false;
      length = sizeof(sockaddr_in);
    }
    c.fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return false;
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
      c.state = State::kSending;
      ++result_.connections_opened;
    } else if (errno == EINPROGRESS) {
      c.state = State::kConnecting;
    } else {
      CloseFd(c);
      return false;
    }
    Watch(c);
    return true;
  }

  void Watch(Connection& c) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void CloseFd(Connection& c) {
    if (c.fd >= 0) ::close(c.fd);  // close() also drops the fd from the epoll set
    c.fd = -1;
    c.state = State::kIdle;
  }

  void HandleEvent(Connection& c, uint32_t events) {
    if (c.fd < 0) return;
    const bool broken = (events & (EPOLLERR | EPOLLHUP)) != 0;
    const bool readable = (events & (EPOLLIN | EPOLLRDHUP)) != 0 || broken;
    if (c.state == State::kConnecting) {
      if ((events & EPOLLOUT) == 0 && !broken) return;
      int error = 0;
      socklen_t size = sizeof error;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0 || broken) {
        Fail(c, result_.connect_errors);
        return;
      }
      ++result_.connections_opened;
      c.state = State::kSending;
      Send(c);
      if (c.state == State::kSending && readable) c.readable_pending = true;
      return;
    }
    if (c.state == State::kSending) {
      if ((events & EPOLLOUT) != 0 || broken) Send(c);
      if (c.state == State::kSending && readable) c.readable_pending = true;
      if (c.state != State::kReceiving || !readable) return;
    }
    if (!readable) return;
    if (c.state == State::kReceiving) {
      Receive(c);
    } else if (c.state == State::kIdle) {
      // An idle keep-alive connection the server closed: forget it quietly.
      char buffer[512];
      const ssize_t r = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || r > 0) CloseFd(c);
    }
  }

  void Send(Connection& c) {
    const std::string& request = *c.request;
    while (c.written < request.size()) {
      const ssize_t r =
          ::send(c.fd, request.data() + c.written, request.size() - c.written, MSG_NOSIGNAL);
      if (r > 0) {
        c.written += static_cast<size_t>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;  // EPOLLOUT resumes
      } else {
        Fail(c, result_.reset_errors);
        return;
      }
    }
    c.state = State::kReceiving;
    if (c.readable_pending) Receive(c);
  }

  void Receive(Connection& c) {
    char buffer[16384];
    for (;;) {
      const ssize_t r = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) Fail(c, result_.reset_errors);
        return;  // EAGAIN: edge-triggered, the next arrival wakes us
      }
      const bool eof = r == 0;
      c.in.append(buffer, static_cast<size_t>(r));
      ParsedResponse response;
      switch (ParseResponse(c.in, eof, response)) {
        case Parse::kComplete: Complete(c, response); return;
        case Parse::kBad: Fail(c, result_.protocol_errors); return;
        case Parse::kIncomplete:
          if (eof) {
            Fail(c, result_.reset_errors);
            return;
          }
          break;
      }
    }
  }

  void Complete(Connection& c, const ParsedResponse& response) {
    result_.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - c.started).count());
    ++result_.answered;
    ++result_.by_status[response.status];
    --in_flight_;
    if (response.close) {
      CloseFd(c);
    } else {
      c.state = State::kIdle;
    }
    ready_.push_back(&c);
  }

  void Fail(Connection& c, size_t& counter) {
    ++counter;
    --in_flight_;
    CloseFd(c);
    ready_.push_back(&c);
  }

  void SweepTimeouts(Clock::time_point now) {
    for (Connection& c : connections_) {
      if (c.state != State::kIdle && now - c.started > options_.request_timeout) {
        Fail(c, result_.timeout_errors);
      }
    }
  }

  const Target& target_;
  const LoadOptions& options_;
  std::vector<Connection>& connections_;
  std::span<const std::string> requests_;
  const std::chrono::milliseconds duration_cap_;
  int epoll_fd_ = -1;
  size_t next_ = 0;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::deque<Connection*> ready_;
  LoadResult result_;
};

LoadGenerator::LoadGenerator(Target target, LoadOptions options)
    : target_(std::move(target)),
      options_(options),
      connections_(static_cast<size_t>(std::max(options.connections, 1))) {}

LoadGenerator::~LoadGenerator() {
  for (Connection& c : connections_) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

core::StatusOr<LoadResult> LoadGenerator::Run(std::span<const std::string> requests,
                                              std::chrono::milliseconds duration_cap) {
  Loop loop(target_, options_, connections_, requests, duration_cap);
  return loop.Run();
}

std::string FormatRow(const std::string& label, const LoadResult& result, int connections,
                      size_t average_body_bytes, const std::string& extra) {
  std::string other;
  for (const auto& [status, count] : result.by_status) {
    if (status == 200) continue;
    if (!other.empty()) other += ", ";
    other += std::to_string(status) + ": " + std::to_string(count);
  }
  std::string errors = std::to_string(result.errors());
  if (result.errors() > 0) {
    errors += " [connect " + std::to_string(result.connect_errors) + ", reset " +
              std::to_string(result.reset_errors) + ", timeout " +
              std::to_string(result.timeout_errors) + ", protocol " +
              std::to_string(result.protocol_errors) + "]";
  }
  char head[256];
  std::snprintf(head, sizeof head, "| %s | %.0f msg/s | p50 %.2f ms, p99 %.2f ms | ", label.c_str(),
                result.PerSecond(200), result.PercentileMs(0.50), result.PercentileMs(0.99));
  return std::string(head) + "answered " + std::to_string(result.answered) + " of " +
         std::to_string(result.sent) + " (200: " + std::to_string(result.Count(200)) +
         ", other: {" + other + "}, errors: " + errors + "), " + std::to_string(connections) +
         " conns, " + std::to_string(average_body_bytes) + "-byte bodies" + extra + " |";
}

}  // namespace scrm::bench
