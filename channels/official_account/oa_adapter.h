// Official Account (公众号) callback adapter: plaintext URL verification, plaintext /
// compatible / safe-mode POST decoding in XML or JSON, and the passive reply or "success"
// acknowledgement of one configured account (PROTOCOL.md §1.3, §2).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "channels/common/channel.h"
#include "channels/common/replay_guard.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/model/interaction.h"

namespace scrm::channels::oa {

// The ChannelAdapter of one Official Account (receiveid = AppID). The configured encrypt_mode
// is authoritative: a compat / safe account refuses unencrypted requests rather than
// downgrading. In plain mode the signature does not cover the body, so the adapter keeps a
// ReplayGuard: a (timestamp, nonce) already used with another body is refused. Configuration
// is immutable after Create(); the guard synchronises itself; thread-safe: called concurrently
// from the HTTP workers. `clock` and `random` are borrowed and must outlive the adapter.
class OaAdapter final : public ChannelAdapter {
 public:
  // InvalidArgument (naming the account id, never a secret) when `account` is not an OA
  // account, has no app_id or token, or lacks a usable EncodingAESKey in compat / safe mode
  // (the key is optional in plain mode, and checked when given).
  static core::StatusOr<std::unique_ptr<OaAdapter>> Create(const config::AccountConfig& account,
                                                           const core::Clock& clock,
                                                           core::Random& random);

  const std::string& account_id() const override { return account_id_; }
  model::Platform platform() const override { return model::Platform::kOfficialAccount; }

  // GET ?signature&timestamp&nonce&echostr: plain signature and timestamp window in every
  // mode; the body is echostr unchanged (§1.3).
  Decoded<std::string> VerifyUrl(const CallbackRequest& request) const override;
  // POST: plain mode checks `signature`, the window and the ReplayGuard, and reads the body as
  // the message; compat / safe require encrypt_type=aes and check msg_signature over Encrypt
  // (§1.3). An authentic payload of an unusual shape comes back as a kind "malformed"
  // interaction (NormalizeAuthenticated), not as a rejection.
  Decoded<model::Interaction> Decode(const CallbackRequest& request) const override;
  // "success" without a reply; with one, the text reply in the request's format (XML or JSON),
  // encrypted in compat / safe mode.
  std::string AckBody(const CallbackRequest& request, const model::Interaction& interaction,
                      const ReplyMessage* reply) const override;

 private:
  OaAdapter(std::string account_id, std::string token, config::EncryptMode mode,
            int64_t timestamp_window_s, std::optional<wxcrypto::MsgCrypt> crypt,
            const core::Clock& clock, core::Random& random);

  Decoded<model::Interaction> DecodePlain(const CallbackRequest& request) const;
  Decoded<model::Interaction> DecodeEncrypted(const CallbackRequest& request) const;

  std::string account_id_;
  std::string token_;  // secret; plain `signature` checks when there is no MsgCrypt
  config::EncryptMode mode_ = config::EncryptMode::kSafe;
  int64_t timestamp_window_s_ = 0;
  std::optional<wxcrypto::MsgCrypt> crypt_;  // always set in compat / safe mode
  const core::Clock& clock_;
  core::Random& random_;  // reply frame prefixes; thread-safe per the Random contract
  // Plain mode only (see DecodePlain); mutable: Decode is const and the guard is thread-safe.
  mutable ReplayGuard replay_;
};

}  // namespace scrm::channels::oa
