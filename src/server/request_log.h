// The HTTP edge's record of answered requests: one access log line and the request metrics per
// answer, and the text-escaping every log line of the edge uses for untrusted input.
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "src/core/metrics.h"

namespace scrm::server::internal {

// The route label of a request no route took.
inline constexpr char kUnmatchedRoute[] = "unmatched";

// `text` as it goes into a log line: bytes that could break the line or its key=value shape
// (control characters, space, quote, backslash, percent, non-ASCII) become %XX, and the length
// is capped at max_len (then "..." follows). "-" for an empty text.
std::string LogSafe(std::string_view text, size_t max_len = 256);

// Metrics label for a method: the request line is untrusted, so anything unexpected is "other"
// (bounded label cardinality).
std::string_view MethodLabel(std::string_view method);

// One answered request, as logged and counted.
struct RequestRecord {
  std::string_view method;
  std::string_view path;  // decoded, never the query string (it can carry signatures)
  std::string_view route;
  std::string_view request_id;
  std::string_view remote;
  int status = 0;
  size_t bytes = 0;
  double seconds = 0;
};

// Thread-safe (spdlog loggers and metric families are). Does not own the metrics registry, which
// must outlive it.
class RequestLog {
 public:
  RequestLog(std::shared_ptr<spdlog::logger> log, core::MetricsRegistry& metrics);

  // scrmd_http_requests_total{route,method,status}, scrmd_http_request_duration_seconds{route},
  // and at info level the access log line.
  void Record(const RequestRecord& record);
  // scrmd_http_connections_cut_total{reason}: connections the edge closed because of a limit.
  void CountCut(std::string_view reason);

  spdlog::logger& log() const { return *log_; }
  const std::shared_ptr<spdlog::logger>& shared_log() const { return log_; }

 private:
  std::shared_ptr<spdlog::logger> log_;
  core::CounterFamily& requests_total_;
  core::HistogramFamily& request_duration_;
  core::CounterFamily& cut_total_;
};

}  // namespace scrm::server::internal
