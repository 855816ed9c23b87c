// ContactChannelService: the contact channels (渠道活码) as /api/v1/channels manages them —
// checked, created on the platform through the outbound seam (WeCom 联系我 add_contact_way with a
// state, members and skip-verify; OA qrcode/create with a scene_str, temporary or permanent),
// stored, listed, retired (WeCom: the contact way is deleted on the platform; an OA QR code
// cannot be deleted and is retired here only), and counted (adds, deletes, net). Arrivals
// are attributed by the ContactChannelSink (docs/campaigns.md "Channels and welcome messages").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "channels/common/outbound.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/contact_channel.h"
#include "src/storage/contact_channel_store.h"
#include "src/storage/template_store.h"

namespace scrm::campaigns {

// What POST /api/v1/channels asks for.
struct ContactChannelRequest {
  std::string name;        // 1..128 bytes
  std::string account_id;  // a configured account with an API secret
  // WeCom 1..30 characters, OA 1..64 bytes; letters, digits and "_-.:" only (it travels in a
  // callback's State / EventKey and in the segment language's channel:"...").
  std::string state;
  int64_t welcome_template_id = 0;          // 0 = none; WeCom only, a wecom_message template
  std::vector<model::TagRef> default_tags;  // at most 20
  model::OwnerRule owner_rule = model::OwnerRule::kAdder;
  std::vector<std::string> members;  // WeCom: 1..100 userids; OA: none
  bool skip_verify = true;
  bool temporary = false;
  int64_t expires_in_s = 0;  // temporary only: 60..2 592 000, 0 = the platform's default
};

// Thread-safety: any thread (the store serialises writes; the outbound channels are thread-safe).
// Does not own the store, templates, directory or clock, which must outlive it.
class ContactChannelService {
 public:
  static constexpr size_t kMaxTags = 20;
  static constexpr size_t kMaxMembers = 100;

  ContactChannelService(storage::ContactChannelStore& store, storage::TemplateStore& templates,
                        const channels::OutboundDirectory& directory, const core::Clock& clock)
      : store_(store), templates_(templates), directory_(directory), clock_(clock) {}

  // Checks the request, creates the contact way / QR code on the platform, stores the channel.
  // InvalidArgument naming the field; NotFound "welcome_template_id: ..." for an unknown
  // template; FailedPrecondition when the account cannot call its platform; AlreadyExists
  // "state: ..." when the account has a channel with that state; a platform failure as
  // ApiError::ToStatus (nothing stored).
  core::StatusOr<model::ContactChannel> Create(const ContactChannelRequest& request);
  core::StatusOr<model::ContactChannel> Get(int64_t id);
  core::StatusOr<std::vector<model::ContactChannel>> List(int64_t after_id, size_t limit,
                                                          bool include_retired);
  // WeCom: del_contact_way first (a failure is returned and nothing is retired; a contact way
  // the platform no longer knows, 41044, counts as deleted). OA: retired here only. Retiring a
  // retired channel changes nothing. NotFound.
  core::StatusOr<model::ContactChannel> Retire(int64_t id);
  core::StatusOr<model::ContactChannelStats> Stats(int64_t id);

 private:
  core::Status CheckWelcomeTemplate(int64_t template_id);

  storage::ContactChannelStore& store_;
  storage::TemplateStore& templates_;
  const channels::OutboundDirectory& directory_;
  const core::Clock& clock_;
};

}  // namespace scrm::campaigns
