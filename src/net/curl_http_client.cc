#include "src/net/curl_http_client.h"

#include <curl/curl.h>

#include <array>
#include <string_view>

namespace scrm::net {
namespace {

struct BodySink {
  std::string* body = nullptr;
  int64_t limit = 0;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (static_cast<int64_t>(sink->body->size() + n) > sink->limit) {
    sink->overflow = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

// Errors that libcurl reports only before it writes the request: the server cannot have seen it.
bool FailsBeforeSending(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE: return true;
    default: return false;
  }
}

}  // namespace

struct CurlHttpClient::Shared {
  Shared() {
    share = curl_share_init();
    if (share == nullptr) return;
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Shared() {
    if (share != nullptr) curl_share_cleanup(share);
  }
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Shared*>(user)->locks[Index(data)].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Shared*>(user)->locks[Index(data)].unlock();
  }
  static size_t Index(curl_lock_data data) {
    const auto i = static_cast<size_t>(data);
    return i < kLocks ? i : 0;
  }

  static constexpr size_t kLocks = CURL_LOCK_DATA_LAST;
  CURLSH* share = nullptr;
  std::array<std::mutex, kLocks> locks;
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options)
    : options_(std::move(options)), shared_(std::make_unique<Shared>()) {}

CurlHttpClient::~CurlHttpClient() {
  // Handles go before the share they use.
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
  idle_.clear();
}

void* CurlHttpClient::TakeHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();  // most recently used: its connection is the freshest
      idle_.pop_back();
      return handle;
    }
  }
  CURL* handle = curl_easy_init();
  if (handle != nullptr) ++handles_created_;
  return handle;
}

void CurlHttpClient::ReturnHandle(void* handle) {
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < options_.max_idle_handles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

HttpResult CurlHttpClient::Send(const HttpRequest& request) {
  HttpResult result;
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) {
    result.outcome = HttpOutcome::kNotSent;
    result.error = "curl_easy_init failed";
    return result;
  }
  // reset keeps the handle's open connections, DNS entries and TLS sessions.
  curl_easy_reset(curl);

  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  BodySink sink{&result.body, options_.max_response_bytes, false};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip before a POST body.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // required with threads (timeouts, resolver)
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer.data());
  if (shared_->share != nullptr) curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
  // libcurl silently re-sends a request whose reused connection closed before any reply byte;
  // on a fresh connection it does not (see the header). The new connection stays in the
  // handle's cache for later requests.
  curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, request.idempotent ? 0L : 1L);
  if (request.method == HttpMethod::kPost) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }

  const CURLcode code = curl_easy_perform(curl);

  long connects = 0;
  if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
    connections_opened_ += static_cast<uint64_t>(connects);
  }
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.outcome = HttpOutcome::kResponse;
    result.status = static_cast<int>(status);
  } else {
    long request_bytes = 0;  // bytes of request headers written so far (this transfer)
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_bytes);
    const bool sent = request_bytes > 0;
    result.outcome =
        (FailsBeforeSending(code) || !sent) ? HttpOutcome::kNotSent : HttpOutcome::kUnknown;
    result.error = std::string(curl_easy_strerror(code));
    if (sink.overflow) result.error = "response larger than max_response_bytes";
    if (error_buffer[0] != '\0') result.error += std::string(": ") + error_buffer.data();
    result.body.clear();
  }
  // The handle must not keep pointers into this frame.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  ReturnHandle(curl);
  return result;
}

CurlGlobal::CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

}  // namespace scrm::net
