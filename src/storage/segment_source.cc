#include "src/storage/segment_source.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "src/storage/profile_rows.h"
#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;

// Each read comes as a pair (the whole-store reads of followers, identities and the timeline in
// no particular order: the index does not need it and a sort would cost the build): every customer
// (the build at start, one pass in id order) and one customer (a reload; the customer_id indexes
// serve it).
constexpr char kSelectAllCustomers[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS " FROM customers WHERE merged_into IS NULL ORDER BY id";
constexpr char kSelectOneCustomer[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS " FROM customers WHERE merged_into IS NULL AND id = ?";
constexpr char kSelectTagDetails[] = "SELECT " SCRM_TAG_DETAIL_COLUMNS
                                     " FROM tags t JOIN tag_groups g ON g.id = t.group_id"
                                     " ORDER BY t.id";
// customer_tags is keyed (customer_id, tag_id) without a rowid: the full scan is in that order.
constexpr char kSelectAllTagRows[] =
    "SELECT customer_id, tag_id, score, updated_at_ms, decays FROM customer_tags"
    " ORDER BY customer_id, tag_id";
constexpr char kSelectOneTagRows[] =
    "SELECT customer_id, tag_id, score, updated_at_ms, decays FROM customer_tags"
    " WHERE customer_id = ? ORDER BY tag_id";
constexpr char kSelectAllFollowers[] =
    "SELECT customer_id, account_id, userid, state FROM followers";
constexpr char kSelectOneFollowers[] =
    "SELECT customer_id, account_id, userid, state FROM followers WHERE customer_id = ?"
    " ORDER BY id";
constexpr char kSelectAllIdentities[] = "SELECT customer_id, platform, account_id FROM identities";
constexpr char kSelectOneIdentities[] =
    "SELECT customer_id, platform, account_id FROM identities WHERE customer_id = ? ORDER BY id";
// The system entries (a stage move) are not interactions: count(kind, window) never names them.
constexpr char kSelectAllTimeline[] =
    "SELECT customer_id, kind, at_ms FROM timeline WHERE at_ms >= ?1"
    " AND kind <> 'stage' AND kind <> 'stage.rule'";
constexpr char kSelectOneTimeline[] =
    "SELECT customer_id, kind, at_ms FROM timeline WHERE customer_id = ?2 AND at_ms >= ?1"
    " AND kind <> 'stage' AND kind <> 'stage.rule' ORDER BY at_ms";

// Prepares the statement of the pair that fits `only` and binds the customer at `index`.
SQLite::Statement& PrepareFor(Session& session, const char* all, const char* one,
                              std::optional<int64_t> only, int index) {
  SQLite::Statement& q = session.statements().Prepared(only.has_value() ? one : all);
  if (only.has_value()) q.bind(index, *only);
  return q;
}

// The whole-store scan of customer_tags (20 million rows at a million customers) through the C
// API: SQLiteCpp's Column copies a shared_ptr of the statement for every value read, a third of
// the scan's time. A statement of its own, finalized at the end.
Status AllTagRows(Session& session, const std::function<Status(const IndexTagRow&)>& fn) {
  return Guarded([&]() -> Status {
    sqlite3* db = session.connection().getHandle();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, kSelectAllTagRows, -1, &raw, nullptr) != SQLITE_OK) {
      return core::InternalError(std::string("customer_tags scan: ") + sqlite3_errmsg(db));
    }
    const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, &sqlite3_finalize);
    IndexTagRow row;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      row.customer_id = sqlite3_column_int64(raw, 0);
      row.tag_id = sqlite3_column_int64(raw, 1);
      row.score = sqlite3_column_double(raw, 2);
      row.updated_at_ms = sqlite3_column_int64(raw, 3);
      row.decays = sqlite3_column_int(raw, 4) != 0;
      SCRM_RETURN_IF_ERROR(fn(row));
    }
    if (rc != SQLITE_DONE) {
      const Status failed =
          rc == SQLITE_BUSY || rc == SQLITE_LOCKED
              ? core::UnavailableError("customer_tags scan: database busy")
              : core::InternalError(std::string("customer_tags scan: ") + sqlite3_errmsg(db));
      return failed;
    }
    return core::OkStatus();
  });
}

}  // namespace

Status SegmentSourceReader::Customers(Session& session, std::optional<int64_t> only,
                                      const std::function<Status(const model::Customer&)>& fn) {
  return Guarded([&]() -> Status {
    SQLite::Statement& q = PrepareFor(session, kSelectAllCustomers, kSelectOneCustomer, only, 1);
    Done done(q);
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(const model::Customer customer, ReadCustomer(q));
      SCRM_RETURN_IF_ERROR(fn(customer));
    }
    return core::OkStatus();
  });
}

Status SegmentSourceReader::TagDetails(Session& session,
                                       const std::function<Status(const model::TagDetail&)>& fn) {
  return Guarded([&]() -> Status {
    SQLite::Statement& q = session.statements().Prepared(kSelectTagDetails);
    Done done(q);
    while (q.executeStep()) SCRM_RETURN_IF_ERROR(fn(ReadTagDetail(q, 0)));
    return core::OkStatus();
  });
}

Status SegmentSourceReader::TagRows(Session& session, std::optional<int64_t> only,
                                    const std::function<Status(const IndexTagRow&)>& fn) {
  if (!only.has_value()) return AllTagRows(session, fn);
  return Guarded([&]() -> Status {
    SQLite::Statement& q = PrepareFor(session, kSelectAllTagRows, kSelectOneTagRows, only, 1);
    Done done(q);
    IndexTagRow row;
    while (q.executeStep()) {
      row.customer_id = q.getColumn(0).getInt64();
      row.tag_id = q.getColumn(1).getInt64();
      row.score = q.getColumn(2).getDouble();
      row.updated_at_ms = q.getColumn(3).getInt64();
      row.decays = q.getColumn(4).getInt() != 0;
      SCRM_RETURN_IF_ERROR(fn(row));
    }
    return core::OkStatus();
  });
}

Status SegmentSourceReader::Followers(Session& session, std::optional<int64_t> only,
                                      const std::function<Status(const IndexFollowerRow&)>& fn) {
  return Guarded([&]() -> Status {
    SQLite::Statement& q = PrepareFor(session, kSelectAllFollowers, kSelectOneFollowers, only, 1);
    Done done(q);
    IndexFollowerRow row;
    while (q.executeStep()) {
      row.customer_id = q.getColumn(0).getInt64();
      row.account_id = q.getColumn(1).getString();
      row.userid = q.getColumn(2).getString();
      const std::optional<model::FollowerState> state =
          model::ParseFollowerState(q.getColumn(3).getString());
      if (!state.has_value()) {
        return core::InternalError("a follower of customer " + std::to_string(row.customer_id) +
                                   " has an unknown state");
      }
      row.state = *state;
      SCRM_RETURN_IF_ERROR(fn(row));
    }
    return core::OkStatus();
  });
}

Status SegmentSourceReader::Identities(Session& session, std::optional<int64_t> only,
                                       const std::function<Status(const IndexIdentityRow&)>& fn) {
  return Guarded([&]() -> Status {
    SQLite::Statement& q = PrepareFor(session, kSelectAllIdentities, kSelectOneIdentities, only, 1);
    Done done(q);
    IndexIdentityRow row;
    while (q.executeStep()) {
      row.customer_id = q.getColumn(0).getInt64();
      row.platform = q.getColumn(1).getString();
      row.account_id = q.getColumn(2).getString();
      SCRM_RETURN_IF_ERROR(fn(row));
    }
    return core::OkStatus();
  });
}

Status SegmentSourceReader::Timeline(Session& session, std::optional<int64_t> only,
                                     int64_t since_ms,
                                     const std::function<Status(const IndexTimelineRow&)>& fn) {
  return Guarded([&]() -> Status {
    SQLite::Statement& q = PrepareFor(session, kSelectAllTimeline, kSelectOneTimeline, only, 2);
    Done done(q);
    q.bind(1, since_ms);
    IndexTimelineRow row;
    while (q.executeStep()) {
      row.customer_id = q.getColumn(0).getInt64();
      row.kind = q.getColumn(1).getString();
      row.at_ms = q.getColumn(2).getInt64();
      SCRM_RETURN_IF_ERROR(fn(row));
    }
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
