// The `outbound` section of the service configuration: calls to the WeCom / OA APIs. Parsed and
// validated by outbound_config.cc (see config.h for sources and error messages).
#pragma once

#include <cstdint>

namespace scrm::config {

// `outbound`: calls to the WeCom / OA APIs (docs/outbound.md). Limits are calls per account and
// API; per-API overrides beyond these come with the code that needs them.
struct OutboundConfig {
  int request_timeout_ms = 10000;        // one HTTP exchange; 100..120000
  int connect_timeout_ms = 3000;         // TCP + TLS handshake; 100..60000
  int max_retries = 3;                   // transient retries per call (PROTOCOL §4.3: <= 3); 0..10
  int base_backoff_ms = 200;             // first retry waits 1/2..1 of this, doubling; 1..60000
  int max_backoff_ms = 5000;             // cap of one backoff; 1..600000
  int token_refresh_margin_s = 300;      // refresh tokens this long before expiry; 0..3600
  int max_idle_connections = 32;         // pooled libcurl handles kept for reuse; 1..1024
  int64_t wecom_per_minute = 10000;      // per corp per API (PROTOCOL §4.1); 1..10000000
  int64_t wecom_per_hour = 150000;       // per corp per API; 1..100000000
  int64_t oa_per_minute = 10000;         // per OA per API; 1..10000000
  int64_t oa_mass_send_per_minute = 60;  // message/mass/sendall; 1..10000
  int64_t oa_template_per_day = 100000;  // message/template/send daily quota; 1..100000000
};

}  // namespace scrm::config
