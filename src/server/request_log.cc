#include "src/server/request_log.h"

#include <algorithm>
#include <vector>

namespace scrm::server::internal {
namespace {

// Latency buckets in seconds, 0.5 ms to 5 s.
const std::vector<double>& DurationBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5};
  return kBuckets;
}

}  // namespace

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST",    "PUT",   "PATCH",
                                                "DELETE", "OPTIONS", "CONNECT", "TRACE", "PRI"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

std::string LogSafe(std::string_view text, size_t max_len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (text.empty()) return "-";
  std::string out;
  out.reserve(std::min(text.size(), max_len) + 3);
  for (char ch : text.substr(0, max_len)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    } else {
      out.push_back(ch);
    }
  }
  if (text.size() > max_len) out += "...";
  return out;
}

RequestLog::RequestLog(std::shared_ptr<spdlog::logger> log, core::MetricsRegistry& metrics)
    : log_(std::move(log)),
      requests_total_(metrics.Counter("scrmd_http_requests_total",
                                      "HTTP requests answered, by route, method and status.",
                                      {"route", "method", "status"})),
      request_duration_(metrics.Histogram("scrmd_http_request_duration_seconds",
                                          "Time from request line read to response written.",
                                          {"route"}, DurationBuckets())),
      cut_total_(metrics.Counter(
          "scrmd_http_connections_cut_total",
          "Connections the HTTP edge closed on a limit: request_timeout, body_rate, stopping.",
          {"reason"})) {}

void RequestLog::Record(const RequestRecord& record) {
  requests_total_.Inc({std::string(record.route), std::string(MethodLabel(record.method)),
                       std::to_string(record.status)});
  request_duration_.Observe({std::string(record.route)}, record.seconds);
  // The arguments below cost allocations and copies: only when the line is written.
  if (!log_->should_log(spdlog::level::info)) return;
  log_->info("method={} path={} status={} bytes={} duration_ms={:.3f} request_id={} remote={}",
             LogSafe(record.method, 16), LogSafe(record.path), record.status, record.bytes,
             record.seconds * 1000.0, LogSafe(record.request_id, 64), LogSafe(record.remote, 64));
}

void RequestLog::CountCut(std::string_view reason) { cut_total_.Inc({std::string(reason)}); }

}  // namespace scrm::server::internal
