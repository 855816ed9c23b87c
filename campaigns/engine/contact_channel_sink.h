// ContactChannelSink: the ChangeSink that attributes arrivals to contact channels (渠道活码) in
// the ingest worker's transaction (docs/campaigns.md "Channels and welcome messages"): a follow
// relation that began through an interaction carrying a channel's state (WeCom
// add_external_contact State, OA subscribe EventKey "qrscene_<state>") is recorded as an
// arrival; a channel that is not retired gives the customer its default tags (ProfileEditor, in
// the same transaction) and, for a WeCom add with a WelcomeCode and a welcome template, queues a
// "welcome" outbox job (model::kWelcomeJobKind) that the outbox runner sends off this path.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "src/core/status.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_editor.h"
#include "src/storage/contact_channel_store.h"
#include "src/storage/outbox_store.h"

namespace scrm::campaigns {

// The welcome job's dedupe key: "welcome:<account>:<WelcomeCode>". A code is single-shot, so a
// second delivery of the same callback (deduplicated by the inbox anyway) can never queue a
// second send.
std::string WelcomeDedupeKey(std::string_view account_id, std::string_view welcome_code);

// The channel state an interaction carries, "" when none: the State of a WeCom
// add_external_contact / add_half_external_contact, the QR scene of an OA subscribe / SCAN
// (EventKey without "qrscene_").
std::string_view ChannelStateOf(const model::Interaction& interaction);

// Thread-safety: any thread (it writes only through the caller's transaction). Does not own the
// stores or the editor, which must outlive it. `welcome_accounts`: the accounts that can call
// their platform (an API secret is configured); others get no welcome job. `on_welcome_queued`
// (src/app: the outbox runner's Notify) is called when a welcome job was queued, inside the
// transaction: the runner's claim waits for the writer lock, so it sees the job once committed.
class ContactChannelSink final : public profiles::ChangeSink {
 public:
  ContactChannelSink(storage::ContactChannelStore& channels, storage::OutboxStore& outbox,
                     profiles::ProfileEditor& editor,
                     std::set<std::string, std::less<>> welcome_accounts,
                     std::function<void()> on_welcome_queued = {})
      : channels_(channels),
        outbox_(outbox),
        editor_(editor),
        welcome_accounts_(std::move(welcome_accounts)),
        on_welcome_queued_(std::move(on_welcome_queued)) {}

  // FollowerAdded through a channel: the arrival, default tags, the welcome job. FollowerRemoved:
  // the arrival's end. CustomersMerged: the merged customer's arrivals move to the survivor.
  core::Status OnChange(storage::WriteTxn& txn, const profiles::ProfileChange& change) override;

 private:
  core::Status OnArrival(storage::WriteTxn& txn, const profiles::ProfileChange& change,
                         const profiles::FollowerAdded& added);

  storage::ContactChannelStore& channels_;
  storage::OutboxStore& outbox_;
  profiles::ProfileEditor& editor_;
  const std::set<std::string, std::less<>> welcome_accounts_;
  const std::function<void()> on_welcome_queued_;
};

}  // namespace scrm::campaigns
