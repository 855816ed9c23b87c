#include "src/storage/tag_rule_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
#include <string>
#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kSelectTagRules[] =
    "SELECT id, version, enabled, rule_json, updated_at_ms FROM tag_rules ORDER BY id";
constexpr char kSelectTagRule[] =
    "SELECT id, version, enabled, rule_json, updated_at_ms FROM tag_rules WHERE id = ?";
constexpr char kSelectTagRuleVersion[] =
    "SELECT rule_id, version, enabled, rule_json, saved_at_ms FROM tag_rule_versions "
    "WHERE rule_id = ? AND version = ?";
constexpr char kSelectTagRuleVersions[] =
    "SELECT rule_id, version, enabled, rule_json, saved_at_ms FROM tag_rule_versions "
    "WHERE rule_id = ? ORDER BY version";
constexpr char kSelectMaxTagRuleId[] = "SELECT COALESCE(MAX(id), 0) FROM tag_rules";
// A taken id is an expected outcome (two creators), reported from "no row changed".
constexpr char kInsertTagRule[] =
    "INSERT INTO tag_rules (id, version, enabled, rule_json, updated_at_ms) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
// Compare-and-set on the version: a concurrent save in between changes no row.
constexpr char kUpdateTagRule[] =
    "UPDATE tag_rules SET version = ?, enabled = ?, rule_json = ?, updated_at_ms = ? "
    "WHERE id = ? AND version = ?";
constexpr char kInsertTagRuleVersion[] =
    "INSERT INTO tag_rule_versions (rule_id, version, enabled, rule_json, saved_at_ms) "
    "VALUES (?, ?, ?, ?, ?)";

// Reads a row of any of the SELECTs above (same column order).
StoredTagRule ReadRule(const SQLite::Statement& row) {
  StoredTagRule rule;
  rule.id = row.getColumn(0).getInt64();
  rule.version = row.getColumn(1).getInt();
  rule.enabled = row.getColumn(2).getInt() != 0;
  rule.rule_json = row.getColumn(3).getString();
  rule.saved_at_ms = row.getColumn(4).getInt64();
  return rule;
}

}  // namespace

StatusOr<std::vector<StoredTagRule>> TagRuleStore::List() {
  std::vector<StoredTagRule> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTagRules);
    while (query.executeStep()) out.push_back(ReadRule(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredTagRule> TagRuleStore::Get(int64_t id) {
  std::optional<StoredTagRule> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTagRule);
    query.bind(1, id);
    if (query.executeStep()) found = ReadRule(query);
    return core::OkStatus();
  }));
  if (!found) return core::NotFoundError("no tag rule with id " + std::to_string(id));
  return std::move(*found);
}

StatusOr<StoredTagRule> TagRuleStore::GetVersion(int64_t id, int version) {
  std::optional<StoredTagRule> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTagRuleVersion);
    query.bind(1, id);
    query.bind(2, version);
    if (query.executeStep()) found = ReadRule(query);
    return core::OkStatus();
  }));
  if (!found) {
    return core::NotFoundError("no version " + std::to_string(version) + " of tag rule " +
                               std::to_string(id));
  }
  return std::move(*found);
}

StatusOr<std::vector<StoredTagRule>> TagRuleStore::ListVersions(int64_t id) {
  std::vector<StoredTagRule> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTagRuleVersions);
    query.bind(1, id);
    while (query.executeStep()) out.push_back(ReadRule(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<int64_t> TagRuleStore::MaxId() {
  int64_t max_id = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectMaxTagRuleId);
    if (query.executeStep()) max_id = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return max_id;
}

Status TagRuleStore::Save(const StoredTagRule& rule, int expected_version) {
  if (rule.id <= 0) return core::InvalidArgumentError("tag rule id must be positive");
  if (rule.version < 1) return core::InvalidArgumentError("tag rule version must be >= 1");
  if (rule.rule_json.empty()) return core::InvalidArgumentError("tag rule JSON is empty");
  if (expected_version != 0 && rule.version <= expected_version) {
    return core::InvalidArgumentError("a saved tag rule version must grow");
  }
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    if (expected_version == 0) {
      SQLite::Statement insert(db, kInsertTagRule);
      insert.bind(1, rule.id);
      insert.bind(2, rule.version);
      insert.bind(3, rule.enabled ? 1 : 0);
      insert.bind(4, rule.rule_json);
      insert.bind(5, rule.saved_at_ms);
      if (insert.exec() == 0) {
        return core::AlreadyExistsError("tag rule id " + std::to_string(rule.id) + " is taken");
      }
    } else {
      SQLite::Statement update(db, kUpdateTagRule);
      update.bind(1, rule.version);
      update.bind(2, rule.enabled ? 1 : 0);
      update.bind(3, rule.rule_json);
      update.bind(4, rule.saved_at_ms);
      update.bind(5, rule.id);
      update.bind(6, expected_version);
      if (update.exec() == 0) {
        SQLite::Statement exists(db, kSelectTagRule);
        exists.bind(1, rule.id);
        if (!exists.executeStep()) {
          return core::NotFoundError("no tag rule with id " + std::to_string(rule.id));
        }
        return core::FailedPreconditionError("tag rule " + std::to_string(rule.id) +
                                             " is at version " +
                                             std::to_string(exists.getColumn(1).getInt()) +
                                             ", not " + std::to_string(expected_version));
      }
    }
    SQLite::Statement history(db, kInsertTagRuleVersion);
    history.bind(1, rule.id);
    history.bind(2, rule.version);
    history.bind(3, rule.enabled ? 1 : 0);
    history.bind(4, rule.rule_json);
    history.bind(5, rule.saved_at_ms);
    history.exec();
    txn.commit();
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
