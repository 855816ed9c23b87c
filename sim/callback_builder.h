// CallbackBuilder: builds the exact HTTP requests WeCom and Official Account servers send to a
// callback URL (signed, AES-encrypted per PROTOCOL.md §1), for tests, benchmarks and the load
// generator. Stands in for the platform; never used by the service itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/random.h"
#include "src/core/status.h"

namespace scrm::sim {

// A request as the platform sends it: path with the (percent-encoded) query, and the body.
struct SimRequest {
  std::string path_and_query;  // "/callbacks/wecom/acme?msg_signature=...&timestamp=...&nonce=..."
  std::string body;
};

// Not thread-safe (owns a Random stream); build one per thread.
class CallbackBuilder {
 public:
  // `receive_id` is the CorpID (WeCom) or AppID (OA safe mode).
  static core::StatusOr<CallbackBuilder> Create(std::string token,
                                                const std::string& encoding_aes_key,
                                                std::string receive_id, uint64_t seed);

  // WeCom POST: <xml><ToUserName/><Encrypt/><AgentID/></xml> envelope around `plaintext_xml`.
  SimRequest WecomPost(const std::string& path, const std::string& plaintext_xml,
                       int64_t timestamp_s);
  // WeCom GET URL verification with `echo` encrypted as echostr.
  SimRequest WecomVerify(const std::string& path, const std::string& echo, int64_t timestamp_s);
  // OA safe-mode POST (XML envelope), query with signature, msg_signature, encrypt_type=aes.
  SimRequest OaSafePost(const std::string& path, const std::string& plaintext_xml,
                        const std::string& openid, int64_t timestamp_s);
  // OA plaintext-mode POST.
  SimRequest OaPlainPost(const std::string& path, const std::string& plaintext_xml,
                         const std::string& openid, int64_t timestamp_s);

  // Payloads of common shapes (PROTOCOL.md §3), Chinese text welcome.
  static std::string WecomContactAddXml(const std::string& corp_id, const std::string& userid,
                                        const std::string& external_userid,
                                        const std::string& state, int64_t create_time);
  static std::string WecomTextXml(const std::string& corp_id, const std::string& userid,
                                  const std::string& content, uint64_t msg_id, int64_t create_time);
  static std::string OaTextXml(const std::string& gh_id, const std::string& openid,
                               const std::string& content, uint64_t msg_id, int64_t create_time);

 private:
  CallbackBuilder(std::string token, wxcrypto::MsgCrypt crypt, uint64_t seed);
  std::string Nonce();

  std::string token_;
  wxcrypto::MsgCrypt crypt_;
  std::unique_ptr<core::FakeRandom> random_;  // heap: FakeRandom holds a mutex, the builder moves
};

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string UrlEncode(const std::string& value);

}  // namespace scrm::sim
