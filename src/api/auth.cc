#include "src/api/auth.h"

#include <algorithm>

#include "src/core/crypto_util.h"
#include "src/core/strings.h"

namespace scrm::api {
namespace {

constexpr std::string_view kKeyPrefix = "scrm_";
constexpr size_t kSecretRandomBytes = 20;
constexpr size_t kDisplayPrefixLength = 12;
constexpr int64_t kTouchIntervalMs = 60'000;

// Extracts the token of "Bearer <token>" (scheme case-insensitive, RFC 7235 §2.1).
std::optional<std::string> BearerToken(const server::Request& req) {
  if (!req.HasHeader("Authorization")) return std::nullopt;
  const std::string value = req.Header("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  if (!core::EqualsIgnoreCase(std::string_view(value).substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string token = value.substr(kScheme.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty() || token.size() > 256) return std::nullopt;
  return token;
}

}  // namespace

core::StatusOr<IssuedKey> IssueApiKey(storage::ApiKeyStore& store, core::Random& random,
                                      const core::Clock& clock, const std::string& name,
                                      model::Role role) {
  if (name.empty() || name.size() > 100) {
    return core::InvalidArgumentError("key name must be 1..100 characters");
  }
  IssuedKey issued;
  issued.secret = std::string(kKeyPrefix) + random.HexString(kSecretRandomBytes);
  issued.key.name = name;
  issued.key.role = role;
  issued.key.prefix = issued.secret.substr(0, kDisplayPrefixLength);
  issued.key.secret_sha256 = core::Sha256Hex(issued.secret);
  issued.key.created_at_ms = clock.NowUnixMillis();
  SCRM_ASSIGN_OR_RETURN(issued.key, store.Insert(issued.key));
  return issued;
}

core::StatusOr<model::ApiKey> Authenticator::Authenticate(const server::Request& req) {
  const auto token = BearerToken(req);
  if (!token) return core::UnauthenticatedError("missing or malformed bearer token");
  // The lookup is by hash of the presented secret: the secret never reaches SQL or the log.
  auto key = store_.FindActiveBySecretHash(core::Sha256Hex(*token));
  if (!key.ok()) {
    if (key.status().code() == core::StatusCode::kNotFound) {
      return core::UnauthenticatedError("unknown or revoked API key");
    }
    return key.status();
  }
  NoteUse(key->id);
  return key;
}

void Authenticator::NoteUse(int64_t key_id) {
  const int64_t now = clock_.NowUnixMillis();
  {
    std::lock_guard lock(mu_);
    auto& last = last_touch_ms_[key_id];
    if (now - last < kTouchIntervalMs) return;
    last = now;
  }
  // Bookkeeping only: a failure to record the last use must not fail the request.
  store_.TouchLastUsed(key_id, now).IgnoreError();
}

void ApiRouter::Get(const std::string& pattern, std::initializer_list<model::Role> roles,
                    ApiHandler handler) {
  server_.Get(pattern, Guard(roles, std::move(handler)));
}

void ApiRouter::Post(const std::string& pattern, std::initializer_list<model::Role> roles,
                     ApiHandler handler) {
  server_.Post(pattern, Guard(roles, std::move(handler)));
}

void ApiRouter::Put(const std::string& pattern, std::initializer_list<model::Role> roles,
                    ApiHandler handler) {
  server_.Put(pattern, Guard(roles, std::move(handler)));
}

void ApiRouter::Patch(const std::string& pattern, std::initializer_list<model::Role> roles,
                      ApiHandler handler) {
  server_.Patch(pattern, Guard(roles, std::move(handler)));
}

void ApiRouter::Delete(const std::string& pattern, std::initializer_list<model::Role> roles,
                       ApiHandler handler) {
  server_.Delete(pattern, Guard(roles, std::move(handler)));
}

server::Handler ApiRouter::Guard(std::vector<model::Role> roles, ApiHandler handler) {
  return [this, roles = std::move(roles), handler = std::move(handler)](
             const server::Request& req, server::Response& res, const server::RequestContext& ctx) {
    auto key = auth_.Authenticate(req);
    if (!key.ok()) {
      if (key.status().code() == core::StatusCode::kUnauthenticated) {
        res.SetHeader("WWW-Authenticate", "Bearer");
      }
      server::WriteStatusError(res, key.status(), ctx.request_id);
      return;
    }
    if (std::find(roles.begin(), roles.end(), key->role) == roles.end()) {
      server::WriteStatusError(
          res,
          core::PermissionDeniedError("role '" + std::string(model::RoleName(key->role)) +
                                      "' may not use this route"),
          ctx.request_id);
      return;
    }
    handler(req, res, ApiContext{ctx.request_id, std::move(key).value(), ctx.params});
  };
}

}  // namespace scrm::api
