#include "src/storage/tag_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

#include "src/storage/profile_rows.h"
#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

#define SCRM_TAG_GROUP_COLUMNS "id, name, half_life_days, threshold, wecom_group_id"

constexpr char kSelectTagByNames[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE g.name = ? AND t.name = ?";
constexpr char kSelectTagById[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.id = ?";
constexpr char kSelectTagByWecomId[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.wecom_tag_id = ?";
constexpr char kSelectAllTags[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id ORDER BY g.id, t.id";
constexpr char kSelectTagsPage[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE (?1 IS NULL OR g.name = ?1) AND "
    "t.id > ?2 ORDER BY t.id LIMIT ?3";
constexpr char kSelectAllTagGroups[] =
    "SELECT " SCRM_TAG_GROUP_COLUMNS " FROM tag_groups ORDER BY id";
constexpr char kSelectTagGroupByName[] =
    "SELECT " SCRM_TAG_GROUP_COLUMNS " FROM tag_groups WHERE name = ?";
// Rare statements: RETURNING reads better here (see customer_repository.cc on the hot ones).
constexpr char kInsertTagGroup[] =
    "INSERT INTO tag_groups (name, half_life_days, threshold, wecom_group_id) VALUES (?, ?, ?, ?) "
    "RETURNING id";
constexpr char kInsertTag[] =
    "INSERT INTO tags (group_id, name, threshold, wecom_tag_id, oa_tag_id) VALUES (?, ?, ?, ?, ?) "
    "RETURNING id";
constexpr char kUpdateTag[] =
    "UPDATE tags SET name = ?, threshold = ?, wecom_tag_id = ?, oa_tag_id = ? WHERE id = ?";
constexpr char kUpdateTagGroup[] =
    "UPDATE tag_groups SET name = ?, half_life_days = ?, threshold = ?, wecom_group_id = ? "
    "WHERE id = ?";
constexpr char kClearWecomTag[] = "UPDATE tags SET wecom_tag_id = '' WHERE wecom_tag_id = ?";
constexpr char kClearWecomTagsOfGroup[] =
    "UPDATE tags SET wecom_tag_id = '' WHERE wecom_tag_id <> '' AND group_id IN "
    "(SELECT id FROM tag_groups WHERE wecom_group_id = ?)";
constexpr char kClearWecomGroup[] =
    "UPDATE tag_groups SET wecom_group_id = '' WHERE wecom_group_id = ?";

#undef SCRM_TAG_GROUP_COLUMNS

model::TagGroup ReadTagGroup(const SQLite::Statement& row) {
  model::TagGroup group;
  group.id = row.getColumn(0).getInt64();
  group.name = row.getColumn(1).getString();
  group.half_life_days = row.getColumn(2).getInt();
  group.threshold = row.getColumn(3).getDouble();
  group.wecom_group_id = row.getColumn(4).getString();
  return group;
}

// One tag by a statement over SCRM_TAG_DETAIL_COLUMNS whose parameters are bound by `bind`.
template <typename Bind>
std::optional<model::TagDetail> QueryTag(StatementCache& s, const char* sql, Bind&& bind) {
  SQLite::Statement& q = s.Prepared(sql);
  Done done(q);
  bind(q);
  if (!q.executeStep()) return std::nullopt;
  return ReadTagDetail(q, 0);
}

std::optional<model::TagDetail> QueryTagByNames(StatementCache& s, std::string_view group,
                                                std::string_view name) {
  return QueryTag(s, kSelectTagByNames, [&](SQLite::Statement& q) {
    BindText(q, 1, group);
    BindText(q, 2, name);
  });
}

std::optional<model::TagDetail> QueryTagById(StatementCache& s, int64_t tag_id) {
  return QueryTag(s, kSelectTagById, [&](SQLite::Statement& q) { q.bind(1, tag_id); });
}

}  // namespace

std::unordered_map<std::string, model::TagDetail>& TagRepository::Memo(const WriteTxn& txn) {
  // A WriteTxn of another Database is not guarded by this one's writer lock.
  SCRM_CHECK(&txn.database() == &db_);
  if (memo_serial_ != txn.serial()) {
    memo_.clear();
    memo_serial_ = txn.serial();
  }
  return memo_;
}

StatusOr<model::TagDetail> TagRepository::GetOrCreate(WriteTxn& txn, std::string_view group_name,
                                                      std::string_view name,
                                                      const model::TagGroup& defaults) {
  std::unordered_map<std::string, model::TagDetail>& memo = Memo(txn);
  std::string key;
  key.reserve(group_name.size() + name.size() + 1);
  key.append(group_name).push_back('\x1f');
  key.append(name);
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  return Guarded([&]() -> StatusOr<model::TagDetail> {
    StatementCache& s = txn.statements();
    std::optional<model::TagDetail> found = QueryTagByNames(s, group_name, name);
    if (!found.has_value()) {
      model::TagDetail created;
      SCRM_ASSIGN_OR_RETURN(created.group, GetOrCreateGroup(txn, group_name, defaults));
      created.tag.group_id = created.group.id;
      created.tag.name = std::string(name);
      SQLite::Statement& insert = s.Prepared(kInsertTag);
      Done done(insert);
      insert.bind(1, created.tag.group_id);
      insert.bind(2, created.tag.name);
      insert.bind(3);
      insert.bind(4, created.tag.wecom_tag_id);
      insert.bind(5, created.tag.oa_tag_id);
      if (!insert.executeStep()) return core::InternalError("tag insert returned no id");
      created.tag.id = insert.getColumn(0).getInt64();
      found = std::move(created);
    }
    memo.emplace(key, *found);
    return *found;
  });
}

StatusOr<std::optional<model::TagDetail>> TagRepository::Find(Session& session,
                                                              std::string_view group_name,
                                                              std::string_view name) {
  return Guarded([&]() -> StatusOr<std::optional<model::TagDetail>> {
    return QueryTagByNames(session.statements(), group_name, name);
  });
}

StatusOr<std::optional<model::TagDetail>> TagRepository::Find(std::string_view group_name,
                                                              std::string_view name) {
  StatusOr<std::optional<model::TagDetail>> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    result = Find(session, group_name, name);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<model::TagDetail> TagRepository::Get(Session& session, int64_t tag_id) {
  return Guarded([&]() -> StatusOr<model::TagDetail> {
    std::optional<model::TagDetail> tag = QueryTagById(session.statements(), tag_id);
    if (!tag.has_value())
      return core::NotFoundError("tag " + std::to_string(tag_id) + " not found");
    return std::move(*tag);
  });
}

StatusOr<std::optional<model::TagDetail>> TagRepository::FindById(int64_t tag_id) {
  std::optional<model::TagDetail> result;
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    result = QueryTagById(session.statements(), tag_id);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::optional<model::TagDetail>> TagRepository::FindByWecomId(
    Session& session, std::string_view wecom_tag_id) {
  if (wecom_tag_id.empty()) return std::optional<model::TagDetail>();
  return Guarded([&]() -> StatusOr<std::optional<model::TagDetail>> {
    return QueryTag(session.statements(), kSelectTagByWecomId,
                    [&](SQLite::Statement& q) { BindText(q, 1, wecom_tag_id); });
  });
}

StatusOr<std::optional<model::TagGroup>> TagRepository::FindGroup(Session& session,
                                                                  std::string_view name) {
  return Guarded([&]() -> StatusOr<std::optional<model::TagGroup>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectTagGroupByName);
    Done done(q);
    BindText(q, 1, name);
    if (!q.executeStep()) return std::optional<model::TagGroup>();
    return std::optional<model::TagGroup>(ReadTagGroup(q));
  });
}

StatusOr<model::TagGroup> TagRepository::GetOrCreateGroup(WriteTxn& txn, std::string_view name,
                                                          const model::TagGroup& defaults) {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::TagGroup> found, FindGroup(txn, name));
  if (found.has_value()) return std::move(*found);
  return Guarded([&]() -> StatusOr<model::TagGroup> {
    model::TagGroup group = defaults;
    group.name = std::string(name);
    SQLite::Statement& insert = txn.statements().Prepared(kInsertTagGroup);
    Done done(insert);
    insert.bind(1, group.name);
    insert.bind(2, group.half_life_days);
    insert.bind(3, group.threshold);
    insert.bind(4, group.wecom_group_id);
    if (!insert.executeStep()) return core::InternalError("tag group insert returned no id");
    group.id = insert.getColumn(0).getInt64();
    return group;
  });
}

Status TagRepository::Update(WriteTxn& txn, const model::Tag& tag) {
  Memo(txn).clear();  // a renamed or re-mapped tag must not be served from the memo
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kUpdateTag);
    Done done(update);
    update.bind(1, tag.name);
    BindOptionalDouble(update, 2, tag.threshold);
    update.bind(3, tag.wecom_tag_id);
    update.bind(4, tag.oa_tag_id);
    update.bind(5, tag.id);
    if (update.exec() == 0)
      return core::NotFoundError("tag " + std::to_string(tag.id) + " not found");
    return core::OkStatus();
  });
}

Status TagRepository::UpdateGroup(WriteTxn& txn, const model::TagGroup& group) {
  Memo(txn).clear();
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kUpdateTagGroup);
    Done done(update);
    update.bind(1, group.name);
    update.bind(2, group.half_life_days);
    update.bind(3, group.threshold);
    update.bind(4, group.wecom_group_id);
    update.bind(5, group.id);
    if (update.exec() == 0) {
      return core::NotFoundError("tag group " + std::to_string(group.id) + " not found");
    }
    return core::OkStatus();
  });
}

StatusOr<int64_t> TagRepository::ClearWecomTagMapping(WriteTxn& txn,
                                                      std::string_view wecom_tag_id) {
  if (wecom_tag_id.empty()) return int64_t{0};
  Memo(txn).clear();
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& update = txn.statements().Prepared(kClearWecomTag);
    Done done(update);
    BindText(update, 1, wecom_tag_id);
    return int64_t{update.exec()};
  });
}

StatusOr<int64_t> TagRepository::ClearWecomGroupMapping(WriteTxn& txn,
                                                        std::string_view wecom_group_id) {
  if (wecom_group_id.empty()) return int64_t{0};
  Memo(txn).clear();
  return Guarded([&]() -> StatusOr<int64_t> {
    int64_t changed = 0;
    {
      SQLite::Statement& update = txn.statements().Prepared(kClearWecomTagsOfGroup);
      Done done(update);
      BindText(update, 1, wecom_group_id);
      changed += update.exec();
    }
    SQLite::Statement& update = txn.statements().Prepared(kClearWecomGroup);
    Done done(update);
    BindText(update, 1, wecom_group_id);
    changed += update.exec();
    return changed;
  });
}

StatusOr<std::vector<model::TagDetail>> TagRepository::List() {
  std::vector<model::TagDetail> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectAllTags);
    while (q.executeStep()) out.push_back(ReadTagDetail(q, 0));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::TagDetail>> TagRepository::List(const TagFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(filter.limit));
  std::vector<model::TagDetail> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectTagsPage);
    BindOptionalText(q, 1, filter.group);
    q.bind(2, filter.after_id);
    q.bind(3, static_cast<int64_t>(filter.limit));
    while (q.executeStep()) out.push_back(ReadTagDetail(q, 0));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::TagGroup>> TagRepository::ListGroups() {
  std::vector<model::TagGroup> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectAllTagGroups);
    while (q.executeStep()) out.push_back(ReadTagGroup(q));
    return core::OkStatus();
  }));
  return out;
}

}  // namespace scrm::storage
