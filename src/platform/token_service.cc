#include "src/platform/token_service.h"

#include <algorithm>
#include <utility>

#include "src/platform/json_fields.h"
#include "src/platform/reply.h"

namespace scrm::platform {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxTokenBytes = 2048;  // WeCom documents <= 512; OA a few hundred

}  // namespace

TokenService::TokenService(net::HttpClient& http, const core::Clock& clock,
                           core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
                           TokenServiceOptions options)
    : http_(http),
      clock_(clock),
      metrics_(metrics),
      log_(std::move(log)),
      options_(std::move(options)) {}

std::string TokenService::KeyOf(const Credential& credential) {
  // The secret is part of the identity: a rotated secret gets its own token.
  std::string key = credential.account_id;
  key += '\0';
  key += credential.app_id;
  key += '\0';
  key += credential.secret;
  key += '\0';
  key += credential.api_base;
  return key;
}

uint64_t TokenService::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

ApiResult<std::string> TokenService::Get(const Credential& credential) {
  std::unique_lock lock(mu_);
  auto& slot = entries_[KeyOf(credential)];
  if (!slot) slot = std::make_unique<Entry>();
  Entry& entry = *slot;  // entries are never erased, so the reference stays valid unlocked
  while (true) {
    const SteadyTime now = clock_.SteadyNow();
    const bool usable = !entry.token.empty() && now < entry.expires_at;
    if (usable && now < entry.refresh_at) return entry.token;
    if (entry.fetching) {
      if (usable) return entry.token;  // someone is refreshing; the old token still works
      const uint64_t generation = entry.generation;
      entry.fetched.wait(lock, [&] { return entry.generation != generation; });
      // The fetch finished: its token, or its error (cached until error_until), is now in the
      // entry; the loop reads it.
      continue;
    }
    if (entry.last_error && now < entry.error_until) {
      if (usable) return entry.token;
      return *entry.last_error;
    }

    // This caller fetches; everyone else waits (or keeps using the old token).
    entry.fetching = true;
    ++fetches_;
    const bool same_as_rejected_possible = !entry.rejected_token.empty();
    const std::string rejected = entry.rejected_token;
    const bool may_force = !entry.last_force_refresh ||
                           now - *entry.last_force_refresh >= options_.force_refresh_interval;
    lock.unlock();
    ApiResult<Fetched> fetched = Fetch(credential, /*force_refresh=*/false);
    bool forced = false;
    if (fetched.ok() && credential.platform == model::Platform::kOfficialAccount &&
        same_as_rejected_possible && fetched.value().token == rejected && may_force) {
      // stable_token in normal mode returns the current token while it is valid; when the
      // platform just rejected that very token, only force_refresh replaces it (§4.2).
      forced = true;
      fetched = Fetch(credential, /*force_refresh=*/true);
    }
    lock.lock();

    const SteadyTime done = clock_.SteadyNow();
    entry.fetching = false;
    ++entry.generation;
    if (forced) entry.last_force_refresh = done;
    if (fetched.ok()) {
      const seconds expires_in = fetched.value().expires_in;
      const seconds margin = std::min(options_.refresh_margin, expires_in / 2);
      // Expiry counts from when the fetch started: the platform's clock started no earlier.
      entry.token = std::move(fetched.value().token);
      entry.expires_at = now + expires_in;
      entry.refresh_at = now + expires_in - margin;
      entry.last_error.reset();
      entry.fetched.notify_all();
      metrics_.token_fetches.Inc({credential.account_id, "ok"});
      return entry.token;
    }
    entry.last_error = fetched.error();
    entry.error_until =
        done + (fetched.error().outcome == Outcome::kConfigError ? options_.config_failure_backoff
                                                                 : options_.failure_backoff);
    if (fetched.error().outcome == Outcome::kRetryAfter) {
      // gettoken itself is blocked (45009): asking again before the block ends only extends it.
      const auto blocked = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          fetched.error().retry_after - clock_.Now());
      entry.error_until = std::max(entry.error_until, done + blocked);
    }
    entry.fetched.notify_all();
    metrics_.token_fetches.Inc({credential.account_id, "error"});
    if (!entry.token.empty() && done < entry.expires_at) return entry.token;
    return fetched.error();
  }
}

void TokenService::Invalidate(const Credential& credential, const std::string& token) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(KeyOf(credential));
  if (it == entries_.end()) return;
  Entry& entry = *it->second;
  if (entry.token != token || token.empty()) return;  // already replaced
  entry.rejected_token = entry.token;
  entry.token.clear();
  entry.last_error.reset();  // fetch now, not after a cached failure
}

ApiError TokenService::FetchError(const Credential& credential, Outcome outcome, int64_t errcode,
                                  int http_status, std::string message) {
  ApiError error;
  error.outcome = outcome;
  error.errcode = errcode;
  error.http_status = http_status;
  error.message = "access token: " + message;
  if (outcome == Outcome::kConfigError) {
    metrics_.config_errors.Inc({credential.account_id, std::to_string(errcode)});
    // Never the secret or the URL (it carries corpsecret): account, app id, code, errmsg.
    log_->error("platform config error: account={} api=token app_id={} errcode={} errmsg={}",
                credential.account_id, credential.app_id, errcode, message);
  } else {
    log_->warn("access token fetch failed: account={} outcome={} errcode={} detail={}",
               credential.account_id, OutcomeName(outcome), errcode, message);
  }
  return error;
}

ApiResult<TokenService::Fetched> TokenService::Fetch(const Credential& credential,
                                                     bool force_refresh) {
  net::HttpRequest request;
  request.timeout = options_.fetch_timeout;
  if (credential.platform == model::Platform::kWecom) {
    // PROTOCOL §4.1 gettoken: one token per secret.
    request.method = net::HttpMethod::kGet;
    request.url = credential.api_base + "/cgi-bin/gettoken?corpid=" + UrlEncode(credential.app_id) +
                  "&corpsecret=" + UrlEncode(credential.secret);
  } else {
    // PROTOCOL §4.2 stable_token (never /cgi-bin/token).
    nlohmann::json body = {{"grant_type", "client_credential"},
                           {"appid", credential.app_id},
                           {"secret", credential.secret},
                           {"force_refresh", force_refresh}};
    auto text = DumpJson(body);
    if (!text.ok()) {
      return FetchError(credential, Outcome::kConfigError, 0, 0, "credential is not UTF-8");
    }
    request.method = net::HttpMethod::kPost;
    request.url = credential.api_base + "/cgi-bin/stable_token";
    request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    request.body = std::move(text).value();
  }

  const PlatformReply reply = ReadReply(http_.Send(request));
  switch (reply.kind) {
    case PlatformReply::Kind::kNotSent:
    case PlatformReply::Kind::kUnknown:  // a token fetch is harmless to repeat
      return FetchError(credential, Outcome::kUnavailable, 0, 0, reply.detail);
    case PlatformReply::Kind::kHttpStatus:
      return FetchError(credential,
                        reply.http_status >= 500 ? Outcome::kUnavailable : Outcome::kRejected, 0,
                        reply.http_status, reply.detail);
    case PlatformReply::Kind::kMalformed:
      return FetchError(credential, Outcome::kBadReply, 0, 200, reply.detail);
    case PlatformReply::Kind::kJson: break;
  }
  if (reply.errcode != 0) {
    Outcome outcome = Outcome::kRejected;
    switch (ClassifyErrcode(credential.platform, reply.errcode)) {
      case ErrorClass::kConfig: outcome = Outcome::kConfigError; break;
      case ErrorClass::kTransient: outcome = Outcome::kUnavailable; break;
      case ErrorClass::kQuota: outcome = Outcome::kRetryAfter; break;
      default: outcome = Outcome::kRejected; break;
    }
    if (credential.platform == model::Platform::kOfficialAccount && reply.errcode == 40001) {
      // On the token endpoint itself OA 40001 can only mean the secret is wrong.
      outcome = Outcome::kConfigError;
    }
    ApiError error = FetchError(credential, outcome, reply.errcode, 200, reply.errmsg);
    if (outcome == Outcome::kRetryAfter) {
      error.retry_after =
          QuotaResetTime(credential.platform, clock_.Now(), options_.wecom_quota_block);
    }
    return error;
  }
  JsonFields fields(reply.json, "token reply");
  Fetched fetched;
  fetched.token = fields.String("access_token", /*required=*/true);
  const int64_t expires_in = fields.Int("expires_in", /*required=*/true);
  if (fields.ok() && (fetched.token.empty() || fetched.token.size() > kMaxTokenBytes)) {
    fields.Fail("token reply.access_token: empty or longer than 2048 bytes");
  }
  if (fields.ok() && (expires_in <= 0 || expires_in > 30 * 86400)) {
    fields.Fail("token reply.expires_in: out of range");
  }
  if (!fields.ok()) return FetchError(credential, Outcome::kBadReply, 0, 200, fields.error());
  fetched.expires_in = seconds(expires_in);
  return fetched;
}

}  // namespace scrm::platform
