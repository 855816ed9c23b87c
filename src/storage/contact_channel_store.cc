#include "src/storage/contact_channel_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kInsertChannel[] =
    "INSERT INTO contact_channels (name, account_id, platform, state, welcome_template_id, "
    "default_tags, owner_rule, members, skip_verify, temporary, expires_in_s, platform_id, "
    "qr_image, qr_content, retired, retired_at_ms, created_at_ms, updated_at_ms) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?) RETURNING id";
constexpr char kSelectChannel[] =
    "SELECT id, name, account_id, platform, state, welcome_template_id, default_tags, owner_rule, "
    "members, skip_verify, temporary, expires_in_s, platform_id, qr_image, qr_content, retired, "
    "retired_at_ms, created_at_ms, updated_at_ms FROM contact_channels WHERE id = ?";
constexpr char kSelectChannels[] =
    "SELECT id, name, account_id, platform, state, welcome_template_id, default_tags, owner_rule, "
    "members, skip_verify, temporary, expires_in_s, platform_id, qr_image, qr_content, retired, "
    "retired_at_ms, created_at_ms, updated_at_ms FROM contact_channels WHERE id > ? AND "
    "(? = 1 OR retired = 0) ORDER BY id LIMIT ?";
constexpr char kSelectChannelByState[] =
    "SELECT id, name, account_id, platform, state, welcome_template_id, default_tags, owner_rule, "
    "members, skip_verify, temporary, expires_in_s, platform_id, qr_image, qr_content, retired, "
    "retired_at_ms, created_at_ms, updated_at_ms FROM contact_channels "
    "WHERE account_id = ? AND state = ?";
constexpr char kRetireChannel[] =
    "UPDATE contact_channels SET retired = 1, retired_at_ms = ?, updated_at_ms = ? "
    "WHERE id = ? AND retired = 0";
constexpr char kInsertArrival[] =
    "INSERT INTO contact_channel_arrivals (channel_id, customer_id, userid, interaction_id, "
    "added_at_ms, removed_at_ms, welcome_job) VALUES (?, ?, ?, ?, ?, 0, ?) "
    "ON CONFLICT (channel_id, interaction_id) DO NOTHING";
constexpr char kEndArrivals[] =
    "UPDATE contact_channel_arrivals SET removed_at_ms = ? WHERE customer_id = ? AND "
    "removed_at_ms = 0 AND userid = ? AND channel_id IN "
    "(SELECT id FROM contact_channels WHERE account_id = ?)";
constexpr char kMoveArrivals[] =
    "UPDATE contact_channel_arrivals SET customer_id = ? WHERE customer_id = ?";
constexpr char kChannelStats[] =
    "SELECT COUNT(*), COALESCE(SUM(a.removed_at_ms > 0), 0), COUNT(DISTINCT a.customer_id), "
    "COALESCE(SUM(o.last_outcome = 'sent'), 0), "
    "COALESCE(SUM(o.state = 'failed' OR o.state = 'unknown' OR o.last_outcome = 'refused'), 0) "
    "FROM contact_channel_arrivals a LEFT JOIN outbox o ON a.welcome_job <> '' AND "
    "o.dedupe_key = a.welcome_job WHERE a.channel_id = ?";
constexpr char kSelectChannelExists[] = "SELECT 1 FROM contact_channels WHERE id = ?";

std::string JoinLines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += '\n';
    out += item;
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> TagLines(const std::vector<model::TagRef>& tags) {
  std::vector<std::string> out;
  out.reserve(tags.size());
  for (const model::TagRef& tag : tags) out.push_back(tag.group + "/" + tag.name);
  return out;
}

StatusOr<model::ContactChannel> ReadChannel(const SQLite::Statement& row) {
  model::ContactChannel c;
  c.id = row.getColumn(0).getInt64();
  c.name = row.getColumn(1).getString();
  c.account_id = row.getColumn(2).getString();
  const auto platform = model::ParsePlatform(row.getColumn(3).getString());
  const auto rule = model::ParseOwnerRule(row.getColumn(7).getString());
  if (!platform.has_value() || !rule.has_value()) {
    return core::InternalError("contact channel " + std::to_string(c.id) +
                               " has an unknown platform or owner rule");
  }
  c.platform = *platform;
  c.state = row.getColumn(4).getString();
  c.welcome_template_id = row.getColumn(5).getInt64();
  for (const std::string& line : SplitLines(row.getColumn(6).getString())) {
    const size_t slash = line.find('/');
    model::TagRef tag;
    tag.group = slash == std::string::npos ? "" : line.substr(0, slash);
    tag.name = slash == std::string::npos ? line : line.substr(slash + 1);
    c.default_tags.push_back(std::move(tag));
  }
  c.owner_rule = *rule;
  c.members = SplitLines(row.getColumn(8).getString());
  c.skip_verify = row.getColumn(9).getInt() != 0;
  c.temporary = row.getColumn(10).getInt() != 0;
  c.expires_in_s = row.getColumn(11).getInt64();
  c.platform_id = row.getColumn(12).getString();
  c.qr_image = row.getColumn(13).getString();
  c.qr_content = row.getColumn(14).getString();
  c.retired = row.getColumn(15).getInt() != 0;
  c.retired_at_ms = row.getColumn(16).getInt64();
  c.created_at_ms = row.getColumn(17).getInt64();
  c.updated_at_ms = row.getColumn(18).getInt64();
  return c;
}

Status CheckChannel(const model::ContactChannel& c) {
  if (c.name.empty() || c.account_id.empty() || c.state.empty()) {
    return core::InvalidArgumentError("a contact channel needs a name, an account and a state");
  }
  for (const std::string& line : TagLines(c.default_tags)) {
    if (line.find('\n') != std::string::npos) {
      return core::InvalidArgumentError("a default tag may not contain a newline");
    }
  }
  for (const std::string& member : c.members) {
    if (member.empty() || member.find('\n') != std::string::npos) {
      return core::InvalidArgumentError("a member must be non-empty and without a newline");
    }
  }
  return core::OkStatus();
}

}  // namespace

StatusOr<model::ContactChannel> ContactChannelStore::Create(const model::ContactChannel& channel,
                                                            int64_t now_ms) {
  SCRM_RETURN_IF_ERROR(CheckChannel(channel));
  model::ContactChannel stored = channel;
  stored.retired = false;
  stored.retired_at_ms = 0;
  stored.created_at_ms = now_ms;
  stored.updated_at_ms = now_ms;
  const Status status = db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement insert(db, kInsertChannel);
    insert.bind(1, stored.name);
    insert.bind(2, stored.account_id);
    BindText(insert, 3, model::PlatformName(stored.platform));
    insert.bind(4, stored.state);
    insert.bind(5, stored.welcome_template_id);
    insert.bind(6, JoinLines(TagLines(stored.default_tags)));
    BindText(insert, 7, model::OwnerRuleName(stored.owner_rule));
    insert.bind(8, JoinLines(stored.members));
    insert.bind(9, stored.skip_verify ? 1 : 0);
    insert.bind(10, stored.temporary ? 1 : 0);
    insert.bind(11, stored.expires_in_s);
    insert.bind(12, stored.platform_id);
    insert.bind(13, stored.qr_image);
    insert.bind(14, stored.qr_content);
    insert.bind(15, now_ms);
    insert.bind(16, now_ms);
    if (!insert.executeStep()) return core::InternalError("channel insert returned no id");
    stored.id = insert.getColumn(0).getInt64();
    return core::OkStatus();
  });
  if (status.code() == core::StatusCode::kAlreadyExists) {
    return core::AlreadyExistsError("state: account " + channel.account_id +
                                    " has a channel with state \"" + channel.state + "\"");
  }
  SCRM_RETURN_IF_ERROR(status);
  return stored;
}

StatusOr<model::ContactChannel> ContactChannelStore::Get(int64_t id) {
  std::optional<model::ContactChannel> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectChannel);
    query.bind(1, id);
    if (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(found, ReadChannel(query));
    }
    return core::OkStatus();
  }));
  if (!found) return core::NotFoundError("no channel with id " + std::to_string(id));
  return std::move(*found);
}

StatusOr<std::vector<model::ContactChannel>> ContactChannelStore::List(int64_t after_id,
                                                                       size_t limit,
                                                                       bool include_retired) {
  if (limit < 1 || limit > kMaxList) {
    return core::InvalidArgumentError("limit must be within 1..1000");
  }
  std::vector<model::ContactChannel> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectChannels);
    query.bind(1, after_id);
    query.bind(2, include_retired ? 1 : 0);
    query.bind(3, static_cast<int64_t>(limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::ContactChannel channel, ReadChannel(query));
      out.push_back(std::move(channel));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::optional<model::ContactChannel>> ContactChannelStore::FindByState(
    Session& session, std::string_view account_id, std::string_view state) {
  return Guarded([&]() -> StatusOr<std::optional<model::ContactChannel>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectChannelByState);
    Done done(q);
    BindText(q, 1, account_id);
    BindText(q, 2, state);
    if (!q.executeStep()) return std::optional<model::ContactChannel>();
    SCRM_ASSIGN_OR_RETURN(model::ContactChannel channel, ReadChannel(q));
    return std::optional<model::ContactChannel>(std::move(channel));
  });
}

StatusOr<std::optional<model::ContactChannel>> ContactChannelStore::FindByState(
    std::string_view account_id, std::string_view state) {
  std::optional<model::ContactChannel> found;
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    SCRM_ASSIGN_OR_RETURN(found, FindByState(session, account_id, state));
    return core::OkStatus();
  }));
  return found;
}

StatusOr<model::ContactChannel> ContactChannelStore::Retire(int64_t id, int64_t now_ms) {
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRetireChannel);
    update.bind(1, now_ms);
    update.bind(2, now_ms);
    update.bind(3, id);
    update.exec();
    return core::OkStatus();
  }));
  return Get(id);
}

StatusOr<bool> ContactChannelStore::RecordArrival(WriteTxn& txn, const ChannelArrival& arrival) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertArrival);
    Done done(insert);
    insert.bind(1, arrival.channel_id);
    insert.bind(2, arrival.customer_id);
    insert.bind(3, arrival.userid);
    insert.bind(4, arrival.interaction_id);
    insert.bind(5, arrival.added_at_ms);
    insert.bind(6, arrival.welcome_job);
    return insert.exec() > 0;
  });
}

StatusOr<int> ContactChannelStore::RecordDeparture(WriteTxn& txn, int64_t customer_id,
                                                   std::string_view account_id,
                                                   std::string_view userid, int64_t at_ms) {
  return Guarded([&]() -> StatusOr<int> {
    SQLite::Statement& update = txn.statements().Prepared(kEndArrivals);
    Done done(update);
    update.bind(1, at_ms);
    update.bind(2, customer_id);
    BindText(update, 3, userid);
    BindText(update, 4, account_id);
    return update.exec();
  });
}

Status ContactChannelStore::MoveArrivals(WriteTxn& txn, int64_t from_customer_id,
                                         int64_t to_customer_id) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kMoveArrivals);
    Done done(update);
    update.bind(1, to_customer_id);
    update.bind(2, from_customer_id);
    update.exec();
    return core::OkStatus();
  });
}

StatusOr<model::ContactChannelStats> ContactChannelStore::Stats(int64_t channel_id) {
  model::ContactChannelStats stats;
  stats.channel_id = channel_id;
  bool exists = false;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement check(db, kSelectChannelExists);
    check.bind(1, channel_id);
    exists = check.executeStep();
    if (!exists) return core::OkStatus();
    SQLite::Statement query(db, kChannelStats);
    query.bind(1, channel_id);
    if (query.executeStep()) {
      stats.adds = query.getColumn(0).getInt64();
      stats.deletes = query.getColumn(1).getInt64();
      stats.customers = query.getColumn(2).getInt64();
      stats.welcomes_sent = query.getColumn(3).getInt64();
      stats.welcomes_failed = query.getColumn(4).getInt64();
    }
    return core::OkStatus();
  }));
  if (!exists) return core::NotFoundError("no channel with id " + std::to_string(channel_id));
  stats.net = stats.adds - stats.deletes;
  return stats;
}

}  // namespace scrm::storage
