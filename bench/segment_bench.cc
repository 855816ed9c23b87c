// segment_bench: the segment index (campaigns/segments) against SQLite on the same file.
//
// C customers (default 1,000,000), each with 20 distinct scored tags of 500 (10 groups of 50,
// half-life 30 days, threshold 1; scores 0.5..10.5 set up to 60 days ago, so some have faded),
// a random stage, owner (200 members), channel (50, or none for 30 %), creation up to a year ago,
// last activity (none for 10 %), one identity and one relation (WeCom member or OA subscription,
// 15 % ended), and for 30 % one to three message.text timeline entries in the last 14 days — are
// written into a real SQLite file through the storage layer (reused when it already holds C
// customers). Then:
//   1. build time of the index from the file (target <= 15 s) and its memory (target <= 300 MiB:
//      SegmentIndex::MemoryBytes, and the process RSS growth for comparison);
//   2. five query shapes, each counted and first-page listed (50 ids) 200 times: p50 and p99
//      (target p50 <= 5 ms), checked equal to SQLite's answer;
//   3. the same queries on SQLite (the SQL in src/storage/segment_bench_store.cc), 5 runs each:
//      median, and the ratio to the index's p50 (target >= 100x);
//   4. the cost of one incremental update: a batch as one interaction leaves it (interaction,
//      tag row, stage) applied to the 1M index.
// Prints markdown table rows (lines starting with "|") and exits 1 when a target is missed.
// Usage: segment_bench [customers] [database path]   (a release build: cmake --preset release)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "campaigns/segments/segment_index_sink.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/storage/database.h"
#include "src/storage/profile_store.h"
#include "src/storage/segment_bench_store.h"
#include "src/storage/tag_repository.h"

namespace {

using scrm::core::Status;
using scrm::segments::Field;
using scrm::segments::Node;
using scrm::segments::Op;
using scrm::segments::Query;
using scrm::storage::BenchShape;

constexpr int64_t kDayMs = int64_t{86400} * 1000;
constexpr int64_t kNowMs = 1796083200000;  // 2026-12-01T00:00:00Z: the data is relative to it
constexpr int kGroups = 10;
constexpr int kTagsPerGroup = 50;
constexpr size_t kTagsPerCustomer = 20;
constexpr int kMembers = 200;
constexpr int kChannels = 50;
constexpr size_t kPage = 50;
// The tags the queries name.
constexpr char kTagA[] = "组0/标签0";
constexpr char kTagB[] = "组1/标签7";
constexpr char kTagC[] = "组2/标签3";
constexpr char kTagD[] = "组3/标签9";
constexpr char kTagE[] = "组4/标签11";

// splitmix64: a deterministic stream, so every run stores the same data.
class Stream {
 public:
  explicit Stream(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  int64_t Seconds(int64_t max_ms) {
    return static_cast<int64_t>(Below(static_cast<uint64_t>(max_ms / 1000))) * 1000;
  }

 private:
  uint64_t state_;
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "segment_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 2;
}

int64_t ProcStatusKib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

double Mib(double bytes) { return bytes / (1024.0 * 1024.0); }

const char* const kStages[] = {"new", "engaged", "customer", "repeat", "at_risk", "lost"};

// Writes the synthetic store: tag definitions, then customers in transactions of 5,000.
Status Generate(scrm::storage::Database& db, uint64_t customers) {
  scrm::storage::ProfileStore store(db);
  scrm::storage::SegmentBenchStore bench(db);
  SCRM_RETURN_IF_ERROR(bench.DropTagIndex());
  scrm::model::TagGroup defaults;
  defaults.half_life_days = 30;
  defaults.threshold = 1.0;
  std::vector<int64_t> tag_ids;
  const Status defined = db.InTransaction([&](scrm::storage::WriteTxn& txn) -> Status {
    for (int g = 0; g < kGroups; ++g) {
      for (int t = 0; t < kTagsPerGroup; ++t) {
        SCRM_ASSIGN_OR_RETURN(const scrm::model::TagDetail tag,
                              store.tags.GetOrCreate(txn, "组" + std::to_string(g),
                                                     "标签" + std::to_string(t), defaults));
        tag_ids.push_back(tag.tag.id);
      }
    }
    return scrm::core::OkStatus();
  });
  if (!defined.ok()) return defined;
  Stream stream(7);
  int64_t interaction_id = kNowMs << 16;
  constexpr uint64_t kBatch = 5000;
  for (uint64_t first = 0; first < customers; first += kBatch) {
    const uint64_t end = std::min(customers, first + kBatch);
    const Status written = db.InTransaction([&](scrm::storage::WriteTxn& txn) -> Status {
      for (uint64_t n = first; n < end; ++n) {
        scrm::model::Customer c;
        c.stage = *scrm::model::ParseLifecycleStage(kStages[stream.Below(6)]);
        // Appended, not "u" + to_string(...): GCC 12 warns (-Wrestrict) on that form in a lambda.
        c.owner_userid = "u";
        c.owner_userid += std::to_string(stream.Below(kMembers));
        if (stream.Below(10) >= 3) {
          c.channel = "ch";
          c.channel += std::to_string(stream.Below(kChannels));
        }
        c.created_at_ms = kNowMs - stream.Seconds(365 * kDayMs);
        if (stream.Below(10) != 0) {
          c.last_interaction_at_ms = c.created_at_ms + stream.Seconds(kNowMs - c.created_at_ms);
          c.first_interaction_at_ms = c.created_at_ms;
        }
        c.updated_at_ms = kNowMs;
        SCRM_ASSIGN_OR_RETURN(const int64_t id, store.customers.Create(txn, c));
        const bool wecom = stream.Below(10) < 6;
        scrm::model::Identity identity;
        identity.customer_id = id;
        identity.platform = wecom ? "wecom" : "oa";
        identity.account_id = wecom ? "acme" : "shop";
        identity.kind =
            wecom ? scrm::model::IdentityKind::kExternalUserid : scrm::model::IdentityKind::kOpenid;
        identity.value = std::string(wecom ? "wm" : "o");
        identity.value += std::to_string(n);
        identity.created_at_ms = c.created_at_ms;
        SCRM_RETURN_IF_ERROR(store.identities.Add(txn, identity).status());
        scrm::model::Follower follower;
        follower.customer_id = id;
        follower.account_id = identity.account_id;
        follower.userid = wecom ? c.owner_userid : "";
        const bool ended = stream.Below(100) < 15;
        follower.state = wecom ? (ended ? scrm::model::FollowerState::kDeletedByCustomer
                                        : scrm::model::FollowerState::kActive)
                               : (ended ? scrm::model::FollowerState::kUnsubscribed
                                        : scrm::model::FollowerState::kActive);
        follower.added_at_ms = c.created_at_ms;
        follower.is_owner = wecom;
        SCRM_RETURN_IF_ERROR(store.followers.Put(txn, follower).status());
        std::vector<int64_t> chosen;
        while (chosen.size() < kTagsPerCustomer) {
          const int64_t tag = tag_ids[stream.Below(tag_ids.size())];
          if (std::find(chosen.begin(), chosen.end(), tag) == chosen.end()) chosen.push_back(tag);
        }
        for (int64_t tag : chosen) {
          scrm::model::CustomerTag row;
          row.customer_id = id;
          row.tag_id = tag;
          row.score = 0.5 + static_cast<double>(stream.Below(1000)) / 100.0;
          row.updated_at_ms = kNowMs - stream.Seconds(60 * kDayMs);
          SCRM_RETURN_IF_ERROR(store.customer_tags.Put(txn, row));
        }
        if (stream.Below(10) < 3) {
          const uint64_t entries = 1 + stream.Below(3);
          for (uint64_t e = 0; e < entries; ++e) {
            scrm::model::TimelineEntry entry;
            entry.customer_id = id;
            entry.interaction_id = ++interaction_id;
            entry.kind = "message.text";
            entry.at_ms = kNowMs - stream.Seconds(14 * kDayMs);
            SCRM_RETURN_IF_ERROR(store.timeline.Add(txn, entry).status());
          }
        }
      }
      return scrm::core::OkStatus();
    });
    if (!written.ok()) return written;
  }
  return bench.CreateTagIndex();
}

Node Leaf(Field field, std::string value, Op op = Op::kEq, double number = 0,
          int64_t window_ms = 0) {
  Node node;
  node.predicate.field = field;
  node.predicate.op = op;
  if (field == Field::kTag || field == Field::kCount) {
    node.predicate.name = std::move(value);
  } else {
    node.predicate.value = std::move(value);
  }
  node.predicate.number = number;
  node.predicate.window_ms = window_ms;
  return node;
}

Node Combine(Node::Kind kind, std::vector<Node> children) {
  Node node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}

struct Shape {
  BenchShape sql;
  std::string text;  // the segment language form
  Query query;
};

std::vector<Shape> Shapes() {
  const std::string a = kTagA, b = kTagB, c = kTagC, d = kTagD, e = kTagE;
  const auto q = [](Node root) {
    Query query;
    query.root = std::move(root);
    return query;  // relation_filter kConnected: the default audience
  };
  std::vector<Shape> shapes;
  shapes.push_back(
      {BenchShape::kTagsAndNotActive,
       "(tag:\"" + a + "\" and tag:\"" + b + "\") and not tag:\"" + c + "\" and last_active < 30d",
       q(Combine(Node::Kind::kAnd,
                 {Combine(Node::Kind::kAnd, {Leaf(Field::kTag, a), Leaf(Field::kTag, b)}),
                  Combine(Node::Kind::kNot, {Leaf(Field::kTag, c)}),
                  Leaf(Field::kLastActive, "", Op::kLt, 0, 30 * kDayMs)}))});
  shapes.push_back(
      {BenchShape::kStageOwnerChannel, "stage:customer and owner:u7 and channel:ch3",
       q(Combine(Node::Kind::kAnd, {Leaf(Field::kStage, "customer"), Leaf(Field::kOwner, "u7"),
                                    Leaf(Field::kChannel, "ch3")}))});
  shapes.push_back(
      {BenchShape::kAnyTagNotLost,
       "(tag:\"" + a + "\" or tag:\"" + d + "\" or tag:\"" + e + "\") and not stage:lost",
       q(Combine(Node::Kind::kAnd,
                 {Combine(Node::Kind::kOr,
                          {Leaf(Field::kTag, a), Leaf(Field::kTag, d), Leaf(Field::kTag, e)}),
                  Combine(Node::Kind::kNot, {Leaf(Field::kStage, "lost")})}))});
  shapes.push_back(
      {BenchShape::kCountAndTag, "count(message.text, 7d) >= 1 and tag:\"" + b + "\"",
       q(Combine(Node::Kind::kAnd, {Leaf(Field::kCount, "message.text", Op::kGe, 1, 7 * kDayMs),
                                    Leaf(Field::kTag, b)}))});
  shapes.push_back({BenchShape::kNotTagNewOnPlatform,
                    "not tag:\"" + a + "\" and created < 60d and platform:wecom",
                    q(Combine(Node::Kind::kAnd, {Combine(Node::Kind::kNot, {Leaf(Field::kTag, a)}),
                                                 Leaf(Field::kCreated, "", Op::kLt, 0, 60 * kDayMs),
                                                 Leaf(Field::kPlatform, "wecom")}))});
  return shapes;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t customers = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::string path = argc > 2 ? argv[2] : "segment_bench.db";
  scrm::storage::DatabaseOptions options;
  options.path = path;
  auto opened = scrm::storage::Database::Open(options);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<scrm::storage::Database> db = std::move(opened).value();
  if (auto migrated = db->Migrate(kNowMs); !migrated.ok()) {
    return Fail("migrate", migrated.status());
  }
  scrm::storage::SegmentBenchStore bench(*db);
  auto stored = bench.CountCustomers();
  if (!stored.ok()) return Fail("count", stored.status());
  if (*stored != static_cast<int64_t>(customers)) {
    if (*stored != 0) {
      std::fprintf(stderr, "segment_bench: %s holds %lld customers, not %llu: remove it first\n",
                   path.c_str(), static_cast<long long>(*stored),
                   static_cast<unsigned long long>(customers));
      return 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (Status s = Generate(*db, customers); !s.ok()) return Fail("generate", s);
    std::printf("| data: written through the storage layer | %.0f s | %llu customers x 20 tags |\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                static_cast<unsigned long long>(customers));
  }
  std::fflush(stdout);

  // 1. Build.
  scrm::core::FakeClock clock(kNowMs);
  scrm::core::SystemClock steady;  // timings (FakeClock's steady time does not move)
  auto log = scrm::core::MakeNullLogger();
  const int64_t rss_before = ProcStatusKib("VmRSS");
  const auto b0 = std::chrono::steady_clock::now();
  auto built = scrm::segments::BuildSegmentIndex(*db, clock, {}, {}, *log);
  if (!built.ok()) return Fail("build", built.status());
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
  const int64_t rss_after = ProcStatusKib("VmRSS");
  // Evaluations timed with the system clock's steady time.
  std::unique_ptr<scrm::segments::SegmentIndex> index = std::move(built).value();
  const double index_mib = Mib(static_cast<double>(index->MemoryBytes()));
  bool ok = true;
  const auto verdict = [&](bool met) {
    ok = ok && met;
    return met ? "met" : "MISSED";
  };
  std::printf("| index build from the database | %.2f s | target <= 15 s: %s | %llu customers |\n",
              build_s, verdict(build_s <= 15.0),
              static_cast<unsigned long long>(index->customers()));
  std::printf(
      "| index memory | %.1f MiB | target <= 300 MiB: %s | MemoryBytes; process RSS grew %.1f "
      "MiB during the build (allocator and SQLite page cache included) |\n",
      index_mib, verdict(index_mib <= 300.0), static_cast<double>(rss_after - rss_before) / 1024.0);
  std::fflush(stdout);

  // 2 and 3. Queries.
  scrm::storage::BenchParams params;
  params.now_ms = kNowMs;
  params.half_life_ms = 30 * kDayMs;
  params.threshold = 1.0;
  params.window_ms = 30 * kDayMs;
  params.count_window_ms = 7 * kDayMs;
  params.created_window_ms = 60 * kDayMs;
  params.stage = "customer";
  params.owner = "u7";
  params.channel = "ch3";
  params.platform = "wecom";
  scrm::storage::TagRepository tags(*db);
  const auto tag_of = [&](const std::string& full) -> scrm::model::TagDetail {
    const size_t slash = full.find('/');
    auto found = tags.Find(full.substr(0, slash), full.substr(slash + 1));
    if (!found.ok() || !found->has_value()) {
      std::fprintf(stderr, "segment_bench: no tag %s in the file\n", full.c_str());
      std::exit(2);
    }
    return **found;
  };
  params.tag_a = tag_of(kTagA).tag.id;
  params.tag_b = tag_of(kTagB).tag.id;
  params.tag_c = tag_of(kTagC).tag.id;
  params.tag_d = tag_of(kTagD).tag.id;
  params.tag_e = tag_of(kTagE).tag.id;
  for (const Shape& shape : Shapes()) {
    std::vector<double> index_ms;
    scrm::segments::Evaluation last;
    for (int run = 0; run < 200; ++run) {
      const auto t0 = steady.SteadyNow();
      auto evaluated = index->Evaluate(shape.query, kNowMs, 0, kPage);
      if (!evaluated.ok()) return Fail("evaluate " + shape.text, evaluated.status());
      index_ms.push_back(
          std::chrono::duration<double, std::milli>(steady.SteadyNow() - t0).count());
      last = std::move(evaluated).value();
    }
    std::vector<double> sql_ms;
    scrm::storage::BenchAnswer answer;
    for (int run = 0; run < 5; ++run) {
      const auto t0 = std::chrono::steady_clock::now();
      auto sql = bench.Run(shape.sql, params, kPage);
      if (!sql.ok()) return Fail("sqlite " + shape.text, sql.status());
      sql_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      answer = std::move(sql).value();
    }
    const bool same = answer.count == static_cast<int64_t>(last.count) && answer.page == last.page;
    ok = ok && same;
    const double p50 = Percentile(index_ms, 0.5);
    const double p99 = Percentile(index_ms, 0.99);
    const double sql_p50 = Percentile(sql_ms, 0.5);
    const double ratio = sql_p50 / p50;
    std::printf(
        "| `%s` | index p50 %.3f ms, p99 %.3f ms (target p50 <= 5 ms: %s); SQLite median %.1f ms, "
        "%.0fx (target >= 100x: %s) | %llu customers, first page of %zu; same answer as SQLite: "
        "%s |\n",
        shape.text.c_str(), p50, p99, verdict(p50 <= 5.0), sql_p50, ratio, verdict(ratio >= 100.0),
        static_cast<unsigned long long>(last.count), kPage, same ? "yes" : "NO");
    std::fflush(stdout);
  }

  // 4. Incremental updates: batches as one interaction leaves them.
  Stream stream(99);
  const scrm::model::TagDetail tag = tag_of(kTagB);
  constexpr int kUpdates = 20000;
  std::vector<std::vector<scrm::segments::IndexDelta>> batches;
  for (int i = 0; i < kUpdates; ++i) {
    const auto id = static_cast<int64_t>(1 + stream.Below(customers));
    const int64_t at = kNowMs + i * 1000;
    std::vector<scrm::segments::IndexDelta> batch;
    batch.push_back(scrm::segments::delta::Interaction{id, "message.text", at});
    scrm::segments::delta::TagRow row;
    row.customer_id = id;
    row.tag = tag;
    row.row = scrm::storage::IndexTagRow{id, tag.tag.id, 2.0, at, true};
    batch.push_back(std::move(row));
    // The stage it leaves is not known here: the slow path (out of every stage bitmap).
    batch.push_back(scrm::segments::delta::Stage{id, scrm::model::LifecycleStage::kLost,
                                                 scrm::model::LifecycleStage::kEngaged});
    batches.push_back(std::move(batch));
  }
  const auto u0 = std::chrono::steady_clock::now();
  for (const auto& batch : batches) {
    if (Status s = index->Apply(batch); !s.ok()) return Fail("apply", s);
  }
  const double update_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - u0).count() /
      kUpdates;
  std::printf(
      "| incremental update (one interaction: count entry, tag row, stage) | %.2f us | %d "
      "batches on the %llu-customer index, under the exclusive lock |\n",
      update_us, kUpdates, static_cast<unsigned long long>(index->customers()));
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);
  std::printf("| segment_bench | %s | |\n", ok ? "all targets met" : "A TARGET WAS MISSED");
  return ok ? 0 : 1;
}
