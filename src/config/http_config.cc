// The `http` section: keys, ranges and the checks across them (and `listen`'s shape, which
// `http.admin_listen` shares).
#include "src/config/http_config.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include "src/config/sections.h"

namespace scrm::config {
namespace internal {
namespace {

const Field<HttpConfig> kHttpFields[] = {
    {"threads", &HttpConfig::threads, {1, 900}},
    // Open connections at once (libmicrohttpd refuses more at accept). The bound dates from
    // cpp-httplib's select() (descriptors below 1024) and is kept: it is far above what one
    // scrmd on 2 cores serves.
    {"max_connections", &HttpConfig::max_connections, {1, 900}},
    {"keep_alive_max", &HttpConfig::keep_alive_max, {1, 1000000}},
    {"keep_alive_timeout_s", &HttpConfig::keep_alive_timeout_s, {1, 3600}},
    {"read_timeout_s", &HttpConfig::read_timeout_s, {1, 3600}},
    {"write_timeout_s", &HttpConfig::write_timeout_s, {1, 3600}},
    {"max_body_bytes", &HttpConfig::max_body_bytes, {1, int64_t{64} << 20}},
    {"max_connections_per_ip", &HttpConfig::max_connections_per_ip, {0, 900}},
    {"request_timeout_s", &HttpConfig::request_timeout_s, {1, 3600}},
    {"min_body_bytes_per_s", &HttpConfig::min_body_bytes_per_s, {0, int64_t{1} << 30}},
    {"body_rate_grace_s", &HttpConfig::body_rate_grace_s, {0, 3600}},
    {"max_pending_body_bytes", &HttpConfig::max_pending_body_bytes, {1, int64_t{4} << 30}},
    {"admin_listen", &HttpConfig::admin_listen},
};

core::Status CheckHttp(const Checks& checks, const Config& config) {
  const HttpConfig& http = config.http;
  SCRM_RETURN_IF_ERROR(checks.CheckRanges<HttpConfig>(kHttpFields, "http", http));
  // Workers beyond max_connections would never get a connection to serve.
  if (http.max_connections < http.threads) {
    return checks.Fail("http.max_connections",
                       "must be >= http.threads (" + std::to_string(http.threads) + ")");
  }
  // The default cap (128) follows a smaller max_connections (FinalizeHttp); a cap set above it
  // is a mistake to name.
  if (http.max_connections_per_ip > http.max_connections &&
      checks.IsSet("http.max_connections_per_ip")) {
    return checks.Fail("http.max_connections_per_ip", "must be <= http.max_connections (" +
                                                          std::to_string(http.max_connections) +
                                                          "), or 0 for no cap");
  }
  // A keep-alive connection's idle time counts towards the request's deadline.
  if (http.request_timeout_s <= http.keep_alive_timeout_s) {
    return checks.Fail(
        "http.request_timeout_s",
        "must be > http.keep_alive_timeout_s (" + std::to_string(http.keep_alive_timeout_s) + ")");
  }
  if (http.max_pending_body_bytes < http.max_body_bytes) {
    return checks.Fail(
        "http.max_pending_body_bytes",
        "must be >= http.max_body_bytes (" + std::to_string(http.max_body_bytes) + ")");
  }
  if (!http.admin_listen.empty()) {
    auto admin = SplitListen(http.admin_listen);
    if (!admin.ok()) return checks.Fail("http.admin_listen", admin.status().message());
    auto main = SplitListen(config.listen);
    if (main.ok() && admin->port != 0 && admin->port == main->port && admin->host == main->host) {
      return checks.Fail("http.admin_listen", "must differ from listen");
    }
  }
  return core::OkStatus();
}

}  // namespace

const Section<HttpConfig>& HttpSection() {
  static const Section<HttpConfig> section = {"http", kHttpFields, &CheckHttp};
  return section;
}

void FinalizeHttp(HttpConfig& http) {
  http.max_connections_per_ip = std::min(http.max_connections_per_ip, http.max_connections);
}

}  // namespace internal

core::StatusOr<HostPort> SplitListen(std::string_view listen) {
  const std::string_view kShape = "must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080";
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return core::InvalidArgumentError(std::string(kShape));
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return core::InvalidArgumentError("an IPv6 host must be in brackets, e.g. [::1]:8080");
    }
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) {
      return core::InvalidArgumentError("brackets are only for IPv6 hosts, e.g. [::1]:8080");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return core::InvalidArgumentError("an IPv6 host must be in brackets, e.g. [::1]:8080");
  }
  if (host.empty()) return core::InvalidArgumentError("host must not be empty");
  for (char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || ch == '/' || ch == '[' || ch == ']') {
      return core::InvalidArgumentError("host contains a character not allowed in a host");
    }
  }
  int port = 0;
  const char* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  const bool digits_only = !port_text.empty() && port_text.size() <= 5 && port_text[0] != '-';
  if (!digits_only || ec != std::errc() || ptr != end || port > 65535) {
    return core::InvalidArgumentError("port must be in 0..65535");
  }
  return HostPort{std::string(host), port};
}

}  // namespace scrm::config
