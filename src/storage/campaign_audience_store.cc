#include "src/storage/campaign_audience_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

#include "src/storage/delivery_store.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// The ids come as one JSON array (json_each): a batch is one statement, values never in the SQL.
constexpr char kSelectFollowers[] =
    "SELECT id, customer_id, account_id, userid, state, added_at_ms, removed_at_ms, is_owner "
    "FROM followers WHERE customer_id IN (SELECT value FROM json_each(?)) AND account_id = ? "
    "ORDER BY customer_id, id";
constexpr char kSelectIdentities[] =
    "SELECT customer_id, value FROM identities WHERE customer_id IN "
    "(SELECT value FROM json_each(?)) AND account_id = ? AND kind = ? ORDER BY customer_id, id";
// PROTOCOL §4.2: a message from the user, a subscribe, a scan or a menu click opens the 48 h
// customer-service window.
constexpr char kSelectLastWindow[] =
    "SELECT customer_id, MAX(at_ms) FROM timeline WHERE customer_id IN "
    "(SELECT value FROM json_each(?)) AND (kind LIKE 'message.%' OR kind = 'oa.subscribe' OR "
    "kind = 'oa.scan' OR kind = 'oa.menu_click') GROUP BY customer_id";

}  // namespace

StatusOr<std::map<int64_t, AudienceFacts>> CampaignAudienceStore::Read(
    std::span<const int64_t> customer_ids, const std::string& account_id, model::IdentityKind kind,
    bool with_window) {
  if (customer_ids.size() > kMaxFactBatch) {
    return core::InvalidArgumentError("at most " + std::to_string(kMaxFactBatch) +
                                      " customers per query");
  }
  const std::string ids = CustomerIdsJson(customer_ids);
  std::map<int64_t, AudienceFacts> out;
  for (int64_t id : customer_ids) out[id];
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement followers(db, kSelectFollowers);
    followers.bind(1, ids);
    followers.bind(2, account_id);
    while (followers.executeStep()) {
      model::Follower f;
      f.id = followers.getColumn(0).getInt64();
      f.customer_id = followers.getColumn(1).getInt64();
      f.account_id = followers.getColumn(2).getString();
      f.userid = followers.getColumn(3).getString();
      const std::string state = followers.getColumn(4).getString();
      const auto parsed = model::ParseFollowerState(state);
      if (!parsed) {
        return core::InternalError("follower " + std::to_string(f.id) + " has state \"" + state +
                                   "\"");
      }
      f.state = *parsed;
      f.added_at_ms = followers.getColumn(5).getInt64();
      f.removed_at_ms = followers.getColumn(6).getInt64();
      f.is_owner = followers.getColumn(7).getInt() != 0;
      out[f.customer_id].followers.push_back(std::move(f));
    }
    SQLite::Statement identities(db, kSelectIdentities);
    identities.bind(1, ids);
    identities.bind(2, account_id);
    identities.bind(3, std::string(model::IdentityKindName(kind)));
    while (identities.executeStep()) {
      AudienceFacts& facts = out[identities.getColumn(0).getInt64()];
      if (facts.address.empty()) facts.address = identities.getColumn(1).getString();
    }
    if (!with_window) return core::OkStatus();
    SQLite::Statement window(db, kSelectLastWindow);
    window.bind(1, ids);
    while (window.executeStep()) {
      out[window.getColumn(0).getInt64()].last_window_ms = window.getColumn(1).getInt64();
    }
    return core::OkStatus();
  }));
  return out;
}

}  // namespace scrm::storage
