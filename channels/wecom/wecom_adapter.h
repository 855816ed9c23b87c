// WeCom (企业微信) callback adapter: URL verification, encrypted POST decoding and the passive
// (encrypted) reply / empty acknowledgement of one configured corp (PROTOCOL.md §1.2, §2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "channels/common/channel.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/model/interaction.h"

namespace scrm::channels::wecom {

// The ChannelAdapter of one WeCom corp (self-built app / 客户联系 callback; receiveid =
// CorpID). WeCom callbacks are always signed and AES-encrypted, so every request goes through
// wxcrypto. Immutable after Create() and thread-safe: called concurrently from the HTTP
// workers. `clock` and `random` are borrowed and must outlive the adapter.
class WecomAdapter final : public ChannelAdapter {
 public:
  // InvalidArgument (naming the account id, never a secret) when `account` is not a WeCom
  // account, has no corp_id, or its token / EncodingAESKey are unusable.
  static core::StatusOr<std::unique_ptr<WecomAdapter>> Create(const config::AccountConfig& account,
                                                              const core::Clock& clock,
                                                              core::Random& random);

  const std::string& account_id() const override { return account_id_; }
  model::Platform platform() const override { return model::Platform::kWecom; }

  // GET ?msg_signature&timestamp&nonce&echostr: signature, timestamp window, then decrypt;
  // the body is the decrypted echostr exactly (§1.2).
  Decoded<std::string> VerifyUrl(const CallbackRequest& request) const override;
  // POST ?msg_signature&timestamp&nonce with the <xml><Encrypt/></xml> envelope (§1.2).
  Decoded<model::Interaction> Decode(const CallbackRequest& request) const override;
  // "" without a reply; with one, the encrypted passive text reply envelope.
  std::string AckBody(const CallbackRequest& request, const model::Interaction& interaction,
                      const ReplyMessage* reply) const override;

 private:
  WecomAdapter(std::string account_id, std::string corp_id, int64_t timestamp_window_s,
               wxcrypto::MsgCrypt crypt, const core::Clock& clock, core::Random& random);

  // Signature over `encrypt`, timestamp window, then the frame (§1.1 steps 2-7).
  Decoded<std::string> VerifyAndDecrypt(const std::string& msg_signature,
                                        const std::string& timestamp, const std::string& nonce,
                                        const std::string& encrypt) const;

  std::string account_id_;
  std::string corp_id_;  // CorpID: receiveid and the FromUserName of passive replies
  int64_t timestamp_window_s_ = 0;
  wxcrypto::MsgCrypt crypt_;
  const core::Clock& clock_;
  core::Random& random_;  // reply frame prefixes; thread-safe per the Random contract
};

}  // namespace scrm::channels::wecom
