// CurlHttpClient: the production HttpClient over libcurl, with connection reuse across threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/net/http_client.h"

namespace scrm::net {

struct CurlHttpClientOptions {
  // Easy handles kept idle for reuse; each keeps its own open connections, so a request that
  // picks up an idle handle reuses its keep-alive connection. More concurrent requests than
  // this still run (a new handle each); the surplus handles are closed when they come back.
  size_t max_idle_handles = 32;
  int64_t max_response_bytes = 8 << 20;  // a larger reply is dropped: outcome kUnknown
  std::string ca_file;                   // PEM bundle; "" = the system's default store
  std::string user_agent = "scrmd";
};

// Thread-safe. TLS peer and host verification are always on (there is no switch to turn them
// off; loopback tests use http://). Redirects are not followed; only http and https are allowed.
//
// curl_global_init must have run before the first Send (CurlGlobal below, once in main before
// any thread starts).
//
// Outcome rules: a curl error before any request byte was written (DNS, connect refused, connect
// or TLS handshake failure or timeout) is kNotSent; after that (timeout waiting for the reply,
// reset, truncated or oversized reply) kUnknown. libcurl itself re-sends a request once when a
// reused keep-alive connection turns out to have been closed by the server before any reply
// byte. That is right when the server closed it idle and never read the request, but the same
// signs follow a server that read the request, acted on it and then dropped the connection; so
// a request that is not idempotent always goes on a fresh connection (CURLOPT_FRESH_CONNECT),
// where libcurl never re-sends, and comes back kUnknown instead.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResult Send(const HttpRequest& request) override;

  // New TCP connections opened so far (libcurl's CURLINFO_NUM_CONNECTS summed): a measure of
  // connection reuse.
  uint64_t connections_opened() const { return connections_opened_.load(); }
  // Easy handles created so far.
  uint64_t handles_created() const { return handles_created_.load(); }

 private:
  struct Shared;  // the CURLSH (DNS cache and TLS sessions shared by every handle) and its locks
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const CurlHttpClientOptions options_;
  std::unique_ptr<Shared> shared_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*, guarded by mu_
  std::atomic<uint64_t> connections_opened_{0};
  std::atomic<uint64_t> handles_created_{0};
};

// curl_global_init on construction, curl_global_cleanup on destruction. Construct one in main
// (and in a test binary) before any thread starts.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

}  // namespace scrm::net
