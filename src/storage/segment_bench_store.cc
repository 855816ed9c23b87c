#include "src/storage/segment_bench_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;

constexpr char kDropTagIndex[] = "DROP INDEX IF EXISTS customer_tags_tag";
// As migration 3 creates it.
constexpr char kCreateTagIndex[] =
    "CREATE INDEX IF NOT EXISTS customer_tags_tag ON customer_tags (tag_id, customer_id)";
constexpr char kCountCustomers[] = "SELECT COUNT(*) FROM customers";

// A tag row `t` held now: tagger::DecayedScore (no decay before its time or for a row that does
// not decay) against the threshold.
#define SCRM_HELD(t)                                                                    \
  "(CASE WHEN " t ".decays = 0 OR :now <= " t ".updated_at_ms THEN " t ".score ELSE " t \
  ".score * pow(2.0, (" t ".updated_at_ms - :now) * 1.0 / :hl) END) >= :thr"
#define SCRM_HOLDS(tag)                                                                  \
  "EXISTS (SELECT 1 FROM customer_tags x WHERE x.customer_id = c.id AND x.tag_id = " tag \
  " AND " SCRM_HELD("x") ")"
// The default audience: a connected relation (query.h).
#define SCRM_CONNECTED                                                     \
  " AND EXISTS (SELECT 1 FROM followers f WHERE f.customer_id = c.id AND " \
  "(f.state = 'active' OR f.state = 'half'))"
#define SCRM_LAST_ACTIVE                                                                        \
  "(CASE WHEN c.last_interaction_at_ms > 0 THEN c.last_interaction_at_ms ELSE c.created_at_ms " \
  "END)"

#define SCRM_SHAPE_1                                                                               \
  " FROM customer_tags a JOIN customers c ON c.id = a.customer_id WHERE a.tag_id = :a "            \
  "AND " SCRM_HELD("a") " AND c.merged_into IS NULL AND " SCRM_HOLDS(":b") " AND NOT " SCRM_HOLDS( \
      ":c") " AND :now - " SCRM_LAST_ACTIVE " < :window" SCRM_CONNECTED
#define SCRM_SHAPE_2                                                        \
  " FROM customers c WHERE c.merged_into IS NULL AND c.stage = :stage AND " \
  "c.owner_userid = :owner AND c.channel = :channel" SCRM_CONNECTED
#define SCRM_SHAPE_3                                                                        \
  " FROM customers c WHERE c.merged_into IS NULL AND (" SCRM_HOLDS(":a") " OR " SCRM_HOLDS( \
      ":d") " OR " SCRM_HOLDS(":e") ") AND c.stage <> 'lost'" SCRM_CONNECTED
#define SCRM_MESSAGED_LATELY                                         \
  "EXISTS (SELECT 1 FROM timeline t WHERE t.customer_id = c.id AND " \
  "t.kind = 'message.text' AND t.at_ms >= :now - :cwindow AND t.at_ms <= :now)"
#define SCRM_ON_PLATFORM \
  "EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id AND i.platform = :platform)"
#define SCRM_SHAPE_4                                                                    \
  " FROM customer_tags a JOIN customers c ON c.id = a.customer_id WHERE a.tag_id = :b " \
  "AND " SCRM_HELD("a") " AND c.merged_into IS NULL AND " SCRM_MESSAGED_LATELY SCRM_CONNECTED
#define SCRM_SHAPE_5                                                                      \
  " FROM customers c WHERE c.merged_into IS NULL AND :now - c.created_at_ms < :cwin AND " \
  "NOT " SCRM_HOLDS(":a") " AND " SCRM_ON_PLATFORM SCRM_CONNECTED
#define SCRM_PAGE " ORDER BY c.id LIMIT :limit"

constexpr const char* kCountSql[] = {"SELECT COUNT(*)" SCRM_SHAPE_1, "SELECT COUNT(*)" SCRM_SHAPE_2,
                                     "SELECT COUNT(*)" SCRM_SHAPE_3, "SELECT COUNT(*)" SCRM_SHAPE_4,
                                     "SELECT COUNT(*)" SCRM_SHAPE_5};
constexpr const char* kPageSql[] = {
    "SELECT c.id" SCRM_SHAPE_1 SCRM_PAGE, "SELECT c.id" SCRM_SHAPE_2 SCRM_PAGE,
    "SELECT c.id" SCRM_SHAPE_3 SCRM_PAGE, "SELECT c.id" SCRM_SHAPE_4 SCRM_PAGE,
    "SELECT c.id" SCRM_SHAPE_5 SCRM_PAGE};

template <typename T>
void BindIfUsed(SQLite::Statement& st, const char* name, const T& value) {
  const int index = st.getIndex(name);
  if (index > 0) st.bind(index, value);
}

void BindParams(SQLite::Statement& st, const BenchParams& p) {
  BindIfUsed(st, ":now", p.now_ms);
  BindIfUsed(st, ":a", p.tag_a);
  BindIfUsed(st, ":b", p.tag_b);
  BindIfUsed(st, ":c", p.tag_c);
  BindIfUsed(st, ":d", p.tag_d);
  BindIfUsed(st, ":e", p.tag_e);
  BindIfUsed(st, ":hl", p.half_life_ms);
  BindIfUsed(st, ":thr", p.threshold);
  BindIfUsed(st, ":window", p.window_ms);
  BindIfUsed(st, ":cwindow", p.count_window_ms);
  BindIfUsed(st, ":cwin", p.created_window_ms);
  BindIfUsed(st, ":stage", p.stage);
  BindIfUsed(st, ":owner", p.owner);
  BindIfUsed(st, ":channel", p.channel);
  BindIfUsed(st, ":platform", p.platform);
}

}  // namespace

Status SegmentBenchStore::DropTagIndex() {
  return db_.WithWriter([](SQLite::Database& db) -> Status {
    db.exec(kDropTagIndex);
    return core::OkStatus();
  });
}

Status SegmentBenchStore::CreateTagIndex() {
  return db_.WithWriter([](SQLite::Database& db) -> Status {
    db.exec(kCreateTagIndex);
    return core::OkStatus();
  });
}

core::StatusOr<int64_t> SegmentBenchStore::CountCustomers() {
  int64_t count = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    count = db.execAndGet(kCountCustomers).getInt64();
    return core::OkStatus();
  }));
  return count;
}

core::StatusOr<BenchAnswer> SegmentBenchStore::Run(BenchShape shape, const BenchParams& params,
                                                   size_t limit) {
  const auto index = static_cast<size_t>(shape);
  BenchAnswer answer;
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    SQLite::Statement& count = session.statements().Prepared(kCountSql[index]);
    Done count_done(count);
    BindParams(count, params);
    if (count.executeStep()) answer.count = count.getColumn(0).getInt64();
    SQLite::Statement& page = session.statements().Prepared(kPageSql[index]);
    Done page_done(page);
    BindParams(page, params);
    page.bind(page.getIndex(":limit"), static_cast<int64_t>(limit));
    while (page.executeStep()) answer.page.push_back(page.getColumn(0).getInt64());
    return core::OkStatus();
  }));
  return answer;
}

}  // namespace scrm::storage
