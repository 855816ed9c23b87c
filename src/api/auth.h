// API authentication and authorization: bearer keys (stored hashed) mapped to roles.
#pragma once

#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/model/api_key.h"
#include "src/server/http_server.h"
#include "src/storage/api_key_store.h"

namespace scrm::api {

// A key as handed to its owner: the record plus the secret, shown exactly once.
struct IssuedKey {
  model::ApiKey key;
  std::string secret;  // "scrm_" + 40 hex characters
};

// Creates a key with a fresh secret from `random` and stores only its SHA-256.
core::StatusOr<IssuedKey> IssueApiKey(storage::ApiKeyStore& store, core::Random& random,
                                      const core::Clock& clock, const std::string& name,
                                      model::Role role);

// Checks "Authorization: Bearer <key>" against the store. Thread-safe; does not own the store.
class Authenticator {
 public:
  Authenticator(storage::ApiKeyStore& store, const core::Clock& clock)
      : store_(store), clock_(clock) {}

  // Unauthenticated when the header is missing, malformed or names no active key.
  core::StatusOr<model::ApiKey> Authenticate(const server::Request& req);

 private:
  void NoteUse(int64_t key_id);

  storage::ApiKeyStore& store_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::map<int64_t, int64_t> last_touch_ms_;  // throttles last_used_at writes to one a minute
};

// What an authenticated API handler gets.
struct ApiContext {
  std::string request_id;
  model::ApiKey caller;
  server::PathParams params;  // the route pattern's captures ("id" -> "42")
};

using ApiHandler =
    std::function<void(const server::Request&, server::Response&, const ApiContext&)>;

// Registers /api/v1 routes with the roles allowed on each: no key or an unknown key → 401,
// a role not in the list → 403. Every API route goes through Guard, so no route lacks a check.
// `pattern` is a server::Router pattern, also the route's metrics label.
class ApiRouter {
 public:
  ApiRouter(server::HttpServer& server, Authenticator& auth) : server_(server), auth_(auth) {}

  void Get(const std::string& pattern, std::initializer_list<model::Role> roles,
           ApiHandler handler);
  void Post(const std::string& pattern, std::initializer_list<model::Role> roles,
            ApiHandler handler);
  void Put(const std::string& pattern, std::initializer_list<model::Role> roles,
           ApiHandler handler);
  void Patch(const std::string& pattern, std::initializer_list<model::Role> roles,
             ApiHandler handler);
  void Delete(const std::string& pattern, std::initializer_list<model::Role> roles,
              ApiHandler handler);

 private:
  server::Handler Guard(std::vector<model::Role> roles, ApiHandler handler);

  server::HttpServer& server_;
  Authenticator& auth_;
};

// Every role, for routes any valid key may read.
inline constexpr std::initializer_list<model::Role> kAnyRole = {
    model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales, model::Role::kReadonly};

}  // namespace scrm::api
