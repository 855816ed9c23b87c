#include "src/storage/segment_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kSelectLiveSegments[] =
    "SELECT id, name, description, query, version, created_at_ms, updated_at_ms, deleted_at_ms "
    "FROM segments WHERE deleted_at_ms = 0 ORDER BY id";
constexpr char kSelectLiveSegment[] =
    "SELECT id, name, description, query, version, created_at_ms, updated_at_ms, deleted_at_ms "
    "FROM segments WHERE id = ? AND deleted_at_ms = 0";
constexpr char kSelectLiveSegmentByName[] =
    "SELECT id, name, description, query, version, created_at_ms, updated_at_ms, deleted_at_ms "
    "FROM segments WHERE name = ? AND deleted_at_ms = 0";
// A version row read in the column order of the SELECTs above: created_at_ms is the segment's,
// deleted_at_ms 0.
constexpr char kSelectSegmentVersions[] =
    "SELECT v.segment_id, v.name, v.description, v.query, v.version, s.created_at_ms, "
    "v.saved_at_ms, 0 FROM segment_versions v JOIN segments s ON s.id = v.segment_id "
    "WHERE v.segment_id = ? ORDER BY v.version";
// Whether another live segment holds the name (checked in the writing transaction: a taken name
// is an expected outcome, not a constraint exception; segments_live_name is the backstop).
constexpr char kSelectNameTaken[] =
    "SELECT COUNT(*) FROM segments WHERE name = ? AND deleted_at_ms = 0 AND id != ?";
constexpr char kInsertSegment[] =
    "INSERT INTO segments (name, description, query, version, created_at_ms, updated_at_ms, "
    "deleted_at_ms) VALUES (?, ?, ?, 1, ?, ?, 0)";
// Compare-and-set on the version: a concurrent save in between changes no row.
constexpr char kUpdateSegment[] =
    "UPDATE segments SET name = ?, description = ?, query = ?, version = ?, updated_at_ms = ? "
    "WHERE id = ? AND version = ? AND deleted_at_ms = 0";
constexpr char kInsertSegmentVersion[] =
    "INSERT INTO segment_versions (segment_id, version, name, description, query, saved_at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr char kDeleteSegment[] =
    "UPDATE segments SET deleted_at_ms = ? WHERE id = ? AND deleted_at_ms = 0";

// Reads a row of any of the SELECTs above (same column order).
StoredSegment ReadSegment(const SQLite::Statement& row) {
  StoredSegment s;
  s.id = row.getColumn(0).getInt64();
  s.name = row.getColumn(1).getString();
  s.description = row.getColumn(2).getString();
  s.query = row.getColumn(3).getString();
  s.version = row.getColumn(4).getInt();
  s.created_at_ms = row.getColumn(5).getInt64();
  s.updated_at_ms = row.getColumn(6).getInt64();
  s.deleted_at_ms = row.getColumn(7).getInt64();
  return s;
}

Status CheckNameFree(SQLite::Database& db, const std::string& name, int64_t id) {
  SQLite::Statement taken(db, kSelectNameTaken);
  taken.bind(1, name);
  taken.bind(2, id);
  if (taken.executeStep() && taken.getColumn(0).getInt64() > 0) {
    return core::AlreadyExistsError("a segment named \"" + name + "\" exists");
  }
  return core::OkStatus();
}

void InsertVersion(SQLite::Database& db, const StoredSegment& s) {
  SQLite::Statement history(db, kInsertSegmentVersion);
  history.bind(1, s.id);
  history.bind(2, s.version);
  history.bind(3, s.name);
  history.bind(4, s.description);
  history.bind(5, s.query);
  history.bind(6, s.updated_at_ms);
  history.exec();
}

}  // namespace

StatusOr<std::vector<StoredSegment>> SegmentStore::List() {
  std::vector<StoredSegment> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectLiveSegments);
    while (query.executeStep()) out.push_back(ReadSegment(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredSegment> SegmentStore::Get(int64_t id) {
  std::optional<StoredSegment> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectLiveSegment);
    query.bind(1, id);
    if (query.executeStep()) found = ReadSegment(query);
    return core::OkStatus();
  }));
  if (!found) return core::NotFoundError("no segment with id " + std::to_string(id));
  return std::move(*found);
}

StatusOr<std::optional<StoredSegment>> SegmentStore::FindByName(const std::string& name) {
  std::optional<StoredSegment> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectLiveSegmentByName);
    query.bind(1, name);
    if (query.executeStep()) found = ReadSegment(query);
    return core::OkStatus();
  }));
  return found;
}

StatusOr<std::vector<StoredSegment>> SegmentStore::ListVersions(int64_t id) {
  std::vector<StoredSegment> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectSegmentVersions);
    query.bind(1, id);
    while (query.executeStep()) out.push_back(ReadSegment(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredSegment> SegmentStore::Insert(const StoredSegment& segment) {
  if (segment.name.empty()) return core::InvalidArgumentError("segment name is empty");
  StoredSegment saved = segment;
  saved.version = 1;
  saved.deleted_at_ms = 0;
  const Status written = db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SCRM_RETURN_IF_ERROR(CheckNameFree(db, saved.name, 0));
    SQLite::Statement insert(db, kInsertSegment);
    insert.bind(1, saved.name);
    insert.bind(2, saved.description);
    insert.bind(3, saved.query);
    insert.bind(4, saved.created_at_ms);
    insert.bind(5, saved.updated_at_ms);
    insert.exec();
    saved.id = db.getLastInsertRowid();
    InsertVersion(db, saved);
    txn.commit();
    return core::OkStatus();
  });
  if (!written.ok()) return written;
  return saved;
}

Status SegmentStore::Update(const StoredSegment& segment, int expected_version) {
  if (segment.name.empty()) return core::InvalidArgumentError("segment name is empty");
  if (segment.version <= expected_version) {
    return core::InvalidArgumentError("a saved segment version must grow");
  }
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement current(db, kSelectLiveSegment);
    current.bind(1, segment.id);
    if (!current.executeStep()) {
      return core::NotFoundError("no segment with id " + std::to_string(segment.id));
    }
    const int stored_version = current.getColumn(4).getInt();
    const int64_t created_at_ms = current.getColumn(5).getInt64();
    current.reset();
    if (stored_version != expected_version) {
      return core::FailedPreconditionError("segment " + std::to_string(segment.id) +
                                           " is at version " + std::to_string(stored_version) +
                                           ", not " + std::to_string(expected_version));
    }
    SCRM_RETURN_IF_ERROR(CheckNameFree(db, segment.name, segment.id));
    SQLite::Statement update(db, kUpdateSegment);
    update.bind(1, segment.name);
    update.bind(2, segment.description);
    update.bind(3, segment.query);
    update.bind(4, segment.version);
    update.bind(5, segment.updated_at_ms);
    update.bind(6, segment.id);
    update.bind(7, expected_version);
    if (update.exec() == 0) {
      // Cannot happen under the writer lock after the read above; kept as an outcome anyway.
      return core::FailedPreconditionError("segment " + std::to_string(segment.id) +
                                           " changed while saving");
    }
    StoredSegment saved = segment;
    saved.created_at_ms = created_at_ms;
    InsertVersion(db, saved);
    txn.commit();
    return core::OkStatus();
  });
}

Status SegmentStore::Delete(int64_t id, int64_t at_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement del(db, kDeleteSegment);
    del.bind(1, at_ms);
    del.bind(2, id);
    if (del.exec() == 0) return core::NotFoundError("no segment with id " + std::to_string(id));
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
