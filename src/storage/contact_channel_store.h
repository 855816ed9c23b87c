// ContactChannelStore: the contact channels (渠道活码) and the arrivals attributed to them (main
// migration 15; docs/campaigns.md "Channels and welcome messages"). Channels are written by the
// API's channel service; arrivals inside the ingest worker's transaction (the channel sink), with
// the follow relation that began.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/contact_channel.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// One follow relation that began through a channel (contact_channel_arrivals).
struct ChannelArrival {
  int64_t channel_id = 0;
  int64_t customer_id = 0;
  std::string userid;  // the WeCom member; "" for an OA subscription
  int64_t interaction_id = 0;
  int64_t added_at_ms = 0;
  std::string welcome_job;  // the welcome job's dedupe key, "" when none was queued
};

// Thread-safe (all access through the Database or the caller's WriteTxn). Does not own the
// Database. Calls may also fail with the codes of Database::WithWriter / WithReader /
// InTransaction.
class ContactChannelStore {
 public:
  static constexpr size_t kMaxList = 1000;

  explicit ContactChannelStore(Database& db) : db_(db) {}

  // Stores a new channel (id, created / updated at now_ms, not retired). AlreadyExists when the
  // account has a channel with that state (retired ones included); InvalidArgument for an empty
  // name, account or state, or a tag / member with a newline.
  core::StatusOr<model::ContactChannel> Create(const model::ContactChannel& channel,
                                               int64_t now_ms);
  // NotFound.
  core::StatusOr<model::ContactChannel> Get(int64_t id);
  // Channels by id after after_id, at most limit (1..kMaxList); retired ones only when asked.
  core::StatusOr<std::vector<model::ContactChannel>> List(int64_t after_id, size_t limit,
                                                          bool include_retired);
  // The account's channel with `state` (retired or not), nullopt when none. On the session's
  // connection (the ingest worker's transaction).
  core::StatusOr<std::optional<model::ContactChannel>> FindByState(Session& session,
                                                                   std::string_view account_id,
                                                                   std::string_view state);
  // The same on a read connection.
  core::StatusOr<std::optional<model::ContactChannel>> FindByState(std::string_view account_id,
                                                                   std::string_view state);
  // Marks the channel retired at now_ms; the channel as stored. NotFound; retiring a retired
  // channel changes nothing.
  core::StatusOr<model::ContactChannel> Retire(int64_t id, int64_t now_ms);

  // --- arrivals, in the caller's transaction
  // True when recorded, false when the interaction was recorded for the channel already.
  core::StatusOr<bool> RecordArrival(WriteTxn& txn, const ChannelArrival& arrival);
  // Ends the open arrivals of the customer's relation with `userid` on channels of the account:
  // how many ended.
  core::StatusOr<int> RecordDeparture(WriteTxn& txn, int64_t customer_id,
                                      std::string_view account_id, std::string_view userid,
                                      int64_t at_ms);
  // A merge: the merged customer's arrivals now belong to the survivor.
  core::Status MoveArrivals(WriteTxn& txn, int64_t from_customer_id, int64_t to_customer_id);
  // Adds, deletes, net, distinct customers, and the welcome outcomes read from the arrivals'
  // outbox jobs (sent: last outcome "sent"; failed: failed or unknown jobs and 41051 "refused").
  // NotFound for an unknown channel.
  core::StatusOr<model::ContactChannelStats> Stats(int64_t channel_id);

 private:
  Database& db_;
};

}  // namespace scrm::storage
