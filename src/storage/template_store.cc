#include "src/storage/template_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kSelectTemplates[] =
    "SELECT id, name, channel, content_json, version, enabled, source, created_at_ms, "
    "updated_at_ms FROM message_templates ORDER BY id";
constexpr char kSelectTemplate[] =
    "SELECT id, name, channel, content_json, version, enabled, source, created_at_ms, "
    "updated_at_ms FROM message_templates WHERE id = ?";
constexpr char kSelectTemplateByName[] =
    "SELECT id, name, channel, content_json, version, enabled, source, created_at_ms, "
    "updated_at_ms FROM message_templates WHERE name = ?";
// created_at_ms of a version is its template's (the row's), joined in.
constexpr char kSelectTemplateVersion[] =
    "SELECT v.template_id, v.name, v.channel, v.content_json, v.version, v.enabled, v.source, "
    "t.created_at_ms, v.saved_at_ms FROM message_template_versions v "
    "JOIN message_templates t ON t.id = v.template_id WHERE v.template_id = ? AND v.version = ?";
constexpr char kSelectTemplateVersions[] =
    "SELECT v.template_id, v.name, v.channel, v.content_json, v.version, v.enabled, v.source, "
    "t.created_at_ms, v.saved_at_ms FROM message_template_versions v "
    "JOIN message_templates t ON t.id = v.template_id WHERE v.template_id = ? ORDER BY v.version";
constexpr char kSelectOtherWithName[] =
    "SELECT id FROM message_templates WHERE name = ? AND id <> ?";
constexpr char kInsertTemplate[] =
    "INSERT INTO message_templates (name, channel, content_json, version, enabled, source, "
    "created_at_ms, updated_at_ms) VALUES (?, ?, ?, 1, ?, ?, ?, ?) RETURNING id";
// Compare-and-set on the version: a concurrent save in between changes no row.
constexpr char kUpdateTemplate[] =
    "UPDATE message_templates SET name = ?, channel = ?, content_json = ?, version = ?, "
    "enabled = ?, source = ?, updated_at_ms = ? WHERE id = ? AND version = ?";
constexpr char kInsertTemplateVersion[] =
    "INSERT INTO message_template_versions (template_id, version, name, channel, content_json, "
    "enabled, source, saved_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

// Reads a row of any of the SELECTs above (same column order).
StoredTemplate ReadTemplate(const SQLite::Statement& row) {
  StoredTemplate out;
  out.id = row.getColumn(0).getInt64();
  out.name = row.getColumn(1).getString();
  out.channel = row.getColumn(2).getString();
  out.content_json = row.getColumn(3).getString();
  out.version = row.getColumn(4).getInt();
  out.enabled = row.getColumn(5).getInt() != 0;
  out.source = row.getColumn(6).getString();
  out.created_at_ms = row.getColumn(7).getInt64();
  out.saved_at_ms = row.getColumn(8).getInt64();
  return out;
}

Status CheckRow(const StoredTemplate& row) {
  if (row.name.empty()) return core::InvalidArgumentError("template name is empty");
  if (row.channel.empty()) return core::InvalidArgumentError("template channel is empty");
  if (row.content_json.empty()) return core::InvalidArgumentError("template content is empty");
  if (row.source != "file" && row.source != "api") {
    return core::InvalidArgumentError("template source must be \"file\" or \"api\"");
  }
  return core::OkStatus();
}

Status NameTaken(const std::string& name) {
  return core::AlreadyExistsError("a template named \"" + name + "\" exists already");
}

void InsertVersion(SQLite::Database& db, const StoredTemplate& row) {
  SQLite::Statement history(db, kInsertTemplateVersion);
  history.bind(1, row.id);
  history.bind(2, row.version);
  history.bind(3, row.name);
  history.bind(4, row.channel);
  history.bind(5, row.content_json);
  history.bind(6, row.enabled ? 1 : 0);
  history.bind(7, row.source);
  history.bind(8, row.saved_at_ms);
  history.exec();
}

}  // namespace

StatusOr<std::vector<StoredTemplate>> TemplateStore::List() {
  std::vector<StoredTemplate> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTemplates);
    while (query.executeStep()) out.push_back(ReadTemplate(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredTemplate> TemplateStore::Get(int64_t id) {
  std::optional<StoredTemplate> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTemplate);
    query.bind(1, id);
    if (query.executeStep()) found = ReadTemplate(query);
    return core::OkStatus();
  }));
  if (!found) return core::NotFoundError("no template with id " + std::to_string(id));
  return std::move(*found);
}

StatusOr<std::optional<StoredTemplate>> TemplateStore::FindByName(const std::string& name) {
  std::optional<StoredTemplate> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTemplateByName);
    query.bind(1, name);
    if (query.executeStep()) found = ReadTemplate(query);
    return core::OkStatus();
  }));
  return found;
}

StatusOr<StoredTemplate> TemplateStore::GetVersion(int64_t id, int version) {
  std::optional<StoredTemplate> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTemplateVersion);
    query.bind(1, id);
    query.bind(2, version);
    if (query.executeStep()) found = ReadTemplate(query);
    return core::OkStatus();
  }));
  if (!found) {
    return core::NotFoundError("no version " + std::to_string(version) + " of template " +
                               std::to_string(id));
  }
  return std::move(*found);
}

StatusOr<std::vector<StoredTemplate>> TemplateStore::ListVersions(int64_t id) {
  std::vector<StoredTemplate> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectTemplateVersions);
    query.bind(1, id);
    while (query.executeStep()) out.push_back(ReadTemplate(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredTemplate> TemplateStore::Insert(const StoredTemplate& row) {
  SCRM_RETURN_IF_ERROR(CheckRow(row));
  StoredTemplate stored = row;
  stored.version = 1;
  stored.created_at_ms = row.saved_at_ms;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement taken(db, kSelectOtherWithName);
    taken.bind(1, row.name);
    taken.bind(2, int64_t{0});
    if (taken.executeStep()) return NameTaken(row.name);
    SQLite::Statement insert(db, kInsertTemplate);
    insert.bind(1, row.name);
    insert.bind(2, row.channel);
    insert.bind(3, row.content_json);
    insert.bind(4, row.enabled ? 1 : 0);
    insert.bind(5, row.source);
    insert.bind(6, stored.created_at_ms);
    insert.bind(7, row.saved_at_ms);
    if (!insert.executeStep()) return core::InternalError("template insert returned no id");
    stored.id = insert.getColumn(0).getInt64();
    insert.reset();
    InsertVersion(db, stored);
    txn.commit();
    return core::OkStatus();
  }));
  return stored;
}

StatusOr<StoredTemplate> TemplateStore::Update(const StoredTemplate& row, int expected_version) {
  SCRM_RETURN_IF_ERROR(CheckRow(row));
  if (row.id <= 0) return core::InvalidArgumentError("template id must be positive");
  StoredTemplate stored = row;
  stored.version = expected_version + 1;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement current(db, kSelectTemplate);
    current.bind(1, row.id);
    if (!current.executeStep()) {
      return core::NotFoundError("no template with id " + std::to_string(row.id));
    }
    const StoredTemplate before = ReadTemplate(current);
    current.reset();
    if (before.version != expected_version) {
      return core::FailedPreconditionError("version: the template is at version " +
                                           std::to_string(before.version) + ", not " +
                                           std::to_string(expected_version));
    }
    SQLite::Statement taken(db, kSelectOtherWithName);
    taken.bind(1, row.name);
    taken.bind(2, row.id);
    if (taken.executeStep()) return NameTaken(row.name);
    stored.created_at_ms = before.created_at_ms;
    SQLite::Statement update(db, kUpdateTemplate);
    update.bind(1, stored.name);
    update.bind(2, stored.channel);
    update.bind(3, stored.content_json);
    update.bind(4, stored.version);
    update.bind(5, stored.enabled ? 1 : 0);
    update.bind(6, stored.source);
    update.bind(7, stored.saved_at_ms);
    update.bind(8, stored.id);
    update.bind(9, expected_version);
    if (update.exec() == 0) {
      return core::FailedPreconditionError("version: the template changed meanwhile");
    }
    InsertVersion(db, stored);
    txn.commit();
    return core::OkStatus();
  }));
  return stored;
}

}  // namespace scrm::storage
