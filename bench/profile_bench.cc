// profile_bench: the ingest worker path inbox -> profile committed on SQLite, and the size of
// the profile store for many customers.
//
// 1. Throughput: N interactions (default 200,000) from ~50,000 customers — OA followers writing
//    Chinese messages, clicking menus and scanning channel QR codes, WeCom customers added,
//    edited and deleted by members, some people on both joined by unionid — are stored in the
//    inbox first (not timed), then the IngestWorker with the profile pipeline and the example
//    rules (config/tag_rules.example.json) drains them: read, identity, rules, tags, timeline,
//    counters, followers, stage, tasks, effects and cursor, one transaction per chunk. Timed from
//    Start until the cursor reaches the last id. WAL, synchronous=normal, a fresh file. The
//    segment index's change sink is registered, as scrmd serve has it (it applies each chunk's
//    changes after the commit); PROFILE_BENCH_NO_SEGMENTS=1 runs without any sink.
// 2. Capacity: C customers (default 1,000,000) with one openid and 20 scored tags each (500 tags
//    in 25 groups), written through a WriteTxn and the profile repositories in batches; reports the
//    file size, what each table and index takes (dbstat), the bytes per customer tag, and the
//    process RSS. With C < 1,000,000 the 1M figure is extrapolated linearly (and says so).
//
// Prints markdown table rows (lines starting with "|"). Usage:
//   profile_bench [interactions] [customers] [dir] [chunk_size]
// chunk_size defaults to scrmd's (2048). PROFILE_BENCH_KEEP=1 keeps the database files in dir for
// inspection; PROFILE_BENCH_CHECKPOINT_PAGES=N sets DatabaseOptions::checkpoint_pages (the WAL
// pages between background checkpoints; fewer checkpoints copy each hot page less often).
#include <sys/resource.h>

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
#include "src/core/metrics.h"
#include "src/ingest/ingest_worker.h"
#include "src/ingest/profile_chunk_processor.h"
#include "src/model/customer.h"
#include "src/model/interaction.h"
#include "src/profiles/identity_service.h"
#include "src/profiles/interaction_applier.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/rule_set.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "src/storage/profile_store.h"
#include "src/storage/space_usage.h"
#include "src/storage/sqlite_process.h"

namespace {

using scrm::core::Status;
using scrm::model::Interaction;
using scrm::model::InteractionKind;

constexpr int64_t kDayMs = int64_t{86400} * 1000;

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

 private:
  uint64_t state_;
};

// 28 characters of base64url, like "oV5CrjpxgaGXNHIQigzNlgLTnwic".
std::string PlatformId(char first, uint64_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  Stream stream(n * 7919 + static_cast<uint64_t>(first));
  std::string id(1, first);
  while (id.size() < 28) id.push_back(kAlphabet[stream.Below(64)]);
  return id;
}

// What customers write: most messages match no rule; some name a product, a budget, a complaint.
const char* const kMessages[] = {
    "你好，想了解一下会员价格和发货时间",
    "请问你们周末营业吗",
    "我对产品A很感兴趣，能发个介绍吗",
    "B款还有现货吗？",
    "预算5万-10万，有什么推荐",
    "预算3万到5万之间，想看看方案",
    "收到了，谢谢",
    "上次买的东西质量太差了，我要投诉",
    "可以开发票吗",
    "Product A 的保修期多久",
    "好的，我考虑一下",
    "有没有优惠活动",
};

// ~80% OA-only followers, ~14% WeCom-only customers, ~6% both (joined by unionid).
enum class PersonKind { kOa, kWecom, kBoth };

PersonKind KindOf(uint64_t person) {
  const uint64_t bucket = person % 50;
  if (bucket < 40) return PersonKind::kOa;
  if (bucket < 47) return PersonKind::kWecom;
  return PersonKind::kBoth;
}

Interaction Make(uint64_t n, uint64_t customers, int64_t at_ms, int64_t id, Stream& stream) {
  const uint64_t person = stream.Below(customers);
  const PersonKind kind = KindOf(person);
  const bool oa = kind == PersonKind::kOa || (kind == PersonKind::kBoth && stream.Below(2) == 0);
  Interaction it;
  it.id = id;
  it.occurred_at_ms = at_ms;
  it.received_at_ms = at_ms;
  if (kind == PersonKind::kBoth) it.unionid = PlatformId('u', person);
  if (oa) {
    it.platform = scrm::model::Platform::kOfficialAccount;
    it.account_id = "oa-main";
    it.openid = PlatformId('o', person);
    it.to_user = "gh_4d00ed8d6399";
    const uint64_t roll = stream.Below(100);
    if (roll < 75) {
      it.kind = InteractionKind::kMessageText;
      it.payload = scrm::model::TextPayload{kMessages[stream.Below(std::size(kMessages))]};
      it.msg_id = std::to_string(2345678901234567890ULL + n);
    } else if (roll < 85) {
      it.kind = InteractionKind::kMenuClick;
      it.payload = scrm::model::MenuPayload{roll < 80 ? "MENU_PRICE" : "MENU_ABOUT", "1"};
    } else if (roll < 90) {
      it.kind = InteractionKind::kMenuView;
      it.payload = scrm::model::MenuPayload{"https://shop.example.com/products/a?from=menu", "2"};
    } else if (roll < 95) {
      it.kind = InteractionKind::kSubscribe;
      it.payload = scrm::model::QrScenePayload{"channel_expo" + std::to_string(roll % 3), "t"};
    } else {
      it.kind = InteractionKind::kScan;
      it.payload = scrm::model::QrScenePayload{"channel_store", "t"};
    }
  } else {
    it.platform = scrm::model::Platform::kWecom;
    it.account_id = "corp-main";
    it.external_userid = PlatformId('w', person);
    it.userid = "staff" + std::to_string(person % 40);
    it.to_user = "ww0123456789abcdef";
    const uint64_t roll = stream.Below(100);
    scrm::model::ContactChangePayload change;
    if (roll < 50) {
      it.kind = InteractionKind::kContactAdd;
      change.change_type = "add_external_contact";
      change.state = roll < 25 ? "channel_douyin" : "";
    } else if (roll < 60) {
      it.kind = InteractionKind::kContactAddHalf;
      change.change_type = "add_half_external_contact";
    } else if (roll < 94) {
      it.kind = InteractionKind::kContactEdit;
      change.change_type = "edit_external_contact";
    } else if (roll < 97) {
      it.kind = InteractionKind::kContactDelete;
      change.change_type = "del_external_contact";
    } else {
      it.kind = InteractionKind::kFollowUserDelete;
      change.change_type = "del_follow_user";
    }
    it.payload = change;
  }
  it.dedupe_key = "bench\x1f" + std::to_string(n);
  it.raw_body = "<xml/>";
  return it;
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "profile_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

std::unique_ptr<scrm::storage::Database> OpenFresh(
    const std::string& path, Status* status,
    scrm::storage::Schema schema = scrm::storage::Schema::kMain) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
  scrm::storage::DatabaseOptions options;
  options.path = path;
  options.schema = schema;
  if (const char* pages = std::getenv("PROFILE_BENCH_CHECKPOINT_PAGES")) {
    options.checkpoint_pages = std::atoi(pages);
    options.wal_restart_pages = std::max(options.wal_restart_pages, 4 * options.checkpoint_pages);
  }
  auto db = scrm::storage::Database::Open(options);
  if (!db.ok()) {
    *status = db.status();
    return nullptr;
  }
  auto migrated = (*db)->Migrate(0);
  if (!migrated.ok()) {
    *status = migrated.status();
    return nullptr;
  }
  return std::move(db).value();
}

// VmRSS / VmHWM of this process in KiB.
int64_t ProcStatusKib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

double Mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    const auto size = std::filesystem::file_size(path + suffix, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

int RunThroughput(const std::string& dir, uint64_t interactions, size_t chunk_size) {
  const std::string path = dir + "/profile_bench_throughput.db";
  Status status;
  auto db = OpenFresh(path, &status);
  if (db == nullptr) return Fail("open", status);
  // The inbox in its own file, as scrmd serve has it (docs/architecture.md "Storage").
  auto inbox_db =
      OpenFresh(dir + "/profile_bench_throughput-inbox.db", &status, scrm::storage::Schema::kInbox);
  if (inbox_db == nullptr) return Fail("open inbox", status);
  scrm::storage::InteractionStore inbox(*inbox_db);
  scrm::storage::CursorStore cursors(*db);

  const uint64_t customers = std::max<uint64_t>(1, interactions / 4);
  scrm::core::SystemClock clock;
  const int64_t now_ms = clock.NowUnixMillis();
  const int64_t start_ms = now_ms - 30 * kDayMs;
  const int64_t step_ms = std::max<int64_t>(1, 30 * kDayMs / static_cast<int64_t>(interactions));
  Stream stream(42);
  std::vector<Interaction> batch;
  int64_t last_id = 0;
  for (uint64_t n = 0; n < interactions; ++n) {
    const int64_t at_ms = start_ms + static_cast<int64_t>(n) * step_ms;
    last_id = (at_ms << 16) + static_cast<int64_t>(n % 65536);
    batch.push_back(Make(n, customers, at_ms, last_id, stream));
    if (batch.size() == 2000 || n + 1 == interactions) {
      auto stored = inbox.InsertBatch(batch);
      if (!stored.ok()) return Fail("inbox insert", stored.status());
      batch.clear();
    }
  }

  auto rules = scrm::profiles::RuleSetHolder::FromFile(std::string(SCRM_SOURCE_DIR) +
                                                       "/config/tag_rules.example.json");
  if (!rules.ok()) return Fail("rules", rules.status());
  scrm::storage::ProfileStore store(*db);
  // As scrmd serve without API accounts: the segment index's sink alone (it makes the ingest path
  // build every change). PROFILE_BENCH_NO_SEGMENTS=1 leaves it out (no sink: no change built).
  scrm::profiles::ChangeSinks sinks;
  auto segment_index =
      scrm::segments::BuildSegmentIndex(*db, clock, {}, {}, *scrm::core::MakeNullLogger());
  if (!segment_index.ok()) return Fail("segment index", segment_index.status());
  scrm::segments::SegmentIndexSink segment_sink(**segment_index, {}, {},
                                                scrm::core::MakeNullLogger());
  const bool with_segments = std::getenv("PROFILE_BENCH_NO_SEGMENTS") == nullptr;
  if (with_segments) sinks.Add(segment_sink);
  const scrm::profiles::IdentityService identities(store, clock, sinks);
  scrm::profiles::InteractionApplier applier(store, **rules, clock, sinks, identities);
  scrm::ingest::ProfileChunkProcessor pipeline(applier);
  scrm::core::MetricsRegistry metrics;
  scrm::ingest::IngestWorkerOptions options;
  options.chunk_size = chunk_size;
  scrm::ingest::IngestWorker worker(inbox, cursors, pipeline, clock, metrics,
                                    scrm::core::MakeNullLogger(), options);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = worker.Start(); !s.ok()) return Fail("start", s);
  if (!worker.WaitForCursor(last_id, std::chrono::hours(2))) {
    return Fail("drain", scrm::core::DeadlineExceededError("the worker did not catch up"));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  worker.Stop();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  const auto cpu = [](const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  const uint64_t errors =
      metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({"profiles"});
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);

  std::printf(
      "| profile pipeline: inbox -> profile committed | %.0f interactions/s | %llu interactions, "
      "~%llu customers, example rules (12), chunk %zu, WAL synchronous=normal, %.1f s wall, "
      "%.1f s CPU, %llu errors, db %.1f MiB, segment index sink: %s |\n",
      static_cast<double>(interactions) / seconds, static_cast<unsigned long long>(interactions),
      static_cast<unsigned long long>(customers), chunk_size, seconds, cpu(after) - cpu(before),
      static_cast<unsigned long long>(errors), Mib(FileBytes(path)),
      with_segments ? "registered" : "none");
  std::fflush(stdout);
  if (std::getenv("PROFILE_BENCH_KEEP") == nullptr) std::filesystem::remove(path);
  return errors == 0 ? 0 : 1;
}

int RunCapacity(const std::string& dir, uint64_t customers) {
  constexpr int kTagsPerCustomer = 20;
  constexpr int kGroups = 25;
  constexpr int kTagsPerGroup = 20;
  constexpr uint64_t kBatch = 5000;
  const std::string path = dir + "/profile_bench_capacity.db";
  Status status;
  auto db = OpenFresh(path, &status);
  if (db == nullptr) return Fail("open", status);
  scrm::storage::ProfileStore store(*db);
  const int64_t now_ms = scrm::core::SystemClock().NowUnixMillis();
  Stream stream(7);
  const auto t0 = std::chrono::steady_clock::now();
  scrm::model::TagGroup defaults;
  for (uint64_t first = 0; first < customers; first += kBatch) {
    const uint64_t end = std::min(customers, first + kBatch);
    const Status s = db->InTransaction([&](scrm::storage::WriteTxn& txn) -> Status {
      std::vector<int64_t> tag_ids;
      for (int g = 0; g < kGroups; ++g) {
        for (int t = 0; t < kTagsPerGroup; ++t) {
          SCRM_ASSIGN_OR_RETURN(const scrm::model::TagDetail tag,
                                store.tags.GetOrCreate(txn, "分组" + std::to_string(g),
                                                       "标签" + std::to_string(t), defaults));
          tag_ids.push_back(tag.tag.id);
        }
      }
      for (uint64_t n = first; n < end; ++n) {
        scrm::model::Customer customer;
        customer.stage = scrm::model::LifecycleStage::kEngaged;
        customer.stage_reason = "engagement";
        customer.owner_userid = "staff" + std::to_string(n % 40);
        customer.counters = {12, 9, 3, 0, 0};
        customer.first_interaction_at_ms = now_ms - 90 * kDayMs;
        customer.last_interaction_at_ms = now_ms - static_cast<int64_t>(n % 30) * kDayMs;
        customer.created_at_ms = customer.first_interaction_at_ms;
        customer.updated_at_ms = customer.last_interaction_at_ms;
        SCRM_ASSIGN_OR_RETURN(const int64_t id, store.customers.Create(txn, customer));
        scrm::model::Identity openid{0,
                                     id,
                                     "oa",
                                     "oa-main",
                                     scrm::model::IdentityKind::kOpenid,
                                     PlatformId('o', n),
                                     customer.created_at_ms};
        SCRM_RETURN_IF_ERROR(store.identities.Add(txn, openid));
        // 20 distinct tags of the 500, scores and evidence as rules leave them.
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
          row.updated_at_ms = now_ms - static_cast<int64_t>(stream.Below(60 * 86400)) * 1000;
          row.source = scrm::model::TagSource::kRule;
          row.evidence_rule_id = static_cast<int64_t>(1 + stream.Below(1000));
          row.evidence_rule_version = 1;
          row.evidence_interaction_id = (row.updated_at_ms << 16) + static_cast<int64_t>(n % 65536);
          SCRM_RETURN_IF_ERROR(store.customer_tags.Put(txn, row));
        }
      }
      return scrm::core::OkStatus();
    });
    if (!s.ok()) return Fail("populate", s);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto space = scrm::storage::MeasureSpace(*db);
  const int64_t rss_kib = ProcStatusKib("VmRSS");
  const int64_t hwm_kib = ProcStatusKib("VmHWM");
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);  // checkpoints the WAL
  const int64_t file_bytes = FileBytes(path);
  const double scale = 1000000.0 / static_cast<double>(customers);
  const char* extrapolated = customers == 1000000 ? "measured" : "extrapolated linearly";

  std::printf(
      "| profile store, 1,000,000 customers x 20 tags | %.0f MiB on disk (%s) | measured %llu "
      "customers x %d tags = %llu customer tags in %.1f s; db file %.1f MiB incl. indexes |\n",
      Mib(file_bytes) * scale, extrapolated, static_cast<unsigned long long>(customers),
      kTagsPerCustomer, static_cast<unsigned long long>(customers * kTagsPerCustomer), seconds,
      Mib(file_bytes));
  if (space.ok()) {
    int64_t tag_bytes = 0;
    for (const scrm::storage::ObjectSpace& object : *space) {
      if (object.bytes < (int64_t{1} << 20)) continue;
      std::printf("| space: %s | %.1f MiB | %.1f MiB at 1M customers (%s) |\n", object.name.c_str(),
                  Mib(object.bytes), Mib(object.bytes) * scale, extrapolated);
      if (object.name == "customer_tags" || object.name == "customer_tags_tag") {
        tag_bytes += object.bytes;
      }
    }
    std::printf("| bytes per customer tag (row + (tag, customer) index) | %.1f B | |\n",
                static_cast<double>(tag_bytes) / static_cast<double>(customers * kTagsPerCustomer));
  } else {
    std::printf("| space per table | n/a | %s |\n", space.status().ToString().c_str());
  }
  std::printf(
      "| process memory while writing | RSS %.1f MiB, peak %.1f MiB | SQLite keeps the store on "
      "disk; its page cache is bounded (cache_size), so RSS does not grow with customers. Reads "
      "are served from the OS page cache: %.0f MiB of RAM keeps the 1M store hot |\n",
      static_cast<double>(rss_kib) / 1024.0, static_cast<double>(hwm_kib) / 1024.0,
      Mib(file_bytes) * scale);
  std::fflush(stdout);
  if (std::getenv("PROFILE_BENCH_KEEP") == nullptr) std::filesystem::remove(path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As scrmd does (src/app/main.cc), before any connection exists.
  if (Status s = scrm::storage::ConfigureSqliteForProcess(); !s.ok()) return Fail("sqlite", s);
  const uint64_t interactions = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  const uint64_t customers = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const std::string dir = argc > 3 ? argv[3] : std::filesystem::temp_directory_path().string();
  const size_t chunk_size = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 2048;
  std::filesystem::create_directories(dir);
  if (interactions > 0) {
    if (int rc = RunThroughput(dir, interactions, chunk_size); rc != 0) return rc;
  }
  if (customers > 0) return RunCapacity(dir, customers);
  return 0;
}
