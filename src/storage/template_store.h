// TemplateStore: the message templates managed through /api/v1/templates and seeded from the
// templates folder (migration 11): the latest version of each template in message_templates,
// every version ever saved in message_template_versions. The content is JSON text
// (campaigns/render/template_json.h) that storage does not interpret; id, name, channel, version,
// enabled and source are columns, and the columns are what the store compares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One version of a template as stored.
struct StoredTemplate {
  int64_t id = 0;
  std::string name;
  std::string channel;  // model::TemplateChannelName
  std::string content_json;
  int version = 1;
  bool enabled = true;
  std::string source = "api";  // "file" | "api"
  int64_t created_at_ms = 0;   // when version 1 was saved (the same in every version)
  int64_t saved_at_ms = 0;     // when this version was saved

  friend bool operator==(const StoredTemplate&, const StoredTemplate&) = default;
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail
// with the codes of Database::WithWriter / WithReader.
class TemplateStore {
 public:
  explicit TemplateStore(Database& db) : db_(db) {}

  // The latest version of every template, by id.
  core::StatusOr<std::vector<StoredTemplate>> List();
  // The latest version of one template. NotFound.
  core::StatusOr<StoredTemplate> Get(int64_t id);
  // The latest version of the template with this name; nullopt when there is none.
  core::StatusOr<std::optional<StoredTemplate>> FindByName(const std::string& name);
  // One saved version. NotFound.
  core::StatusOr<StoredTemplate> GetVersion(int64_t id, int version);
  // Every saved version of one template, ascending (empty for an unknown id).
  core::StatusOr<std::vector<StoredTemplate>> ListVersions(int64_t id);

  // Stores a new template as version 1 with a fresh id (row.id and row.version are ignored) and
  // returns it as stored. AlreadyExists when the name is taken. InvalidArgument for an empty name,
  // channel or content, or a source other than "file" / "api".
  core::StatusOr<StoredTemplate> Insert(const StoredTemplate& row);
  // Saves row as version expected_version + 1 of template row.id, in one transaction with its
  // history, and returns it as stored (created_at_ms kept). FailedPrecondition when the stored
  // version is not expected_version (another save came first); NotFound when the template is
  // missing; AlreadyExists when the new name belongs to another template.
  core::StatusOr<StoredTemplate> Update(const StoredTemplate& row, int expected_version);

 private:
  Database& db_;
};

}  // namespace scrm::storage
