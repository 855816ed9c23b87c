// inbox_bench: durable-ingest throughput of the inbox writer's group commit. 16 threads (the
// HTTP pool) Submit realistic OA text messages, each waiting for its commit, into a fresh WAL
// file with synchronous=normal; about 2% are platform re-deliveries of an earlier message.
// Prints one markdown table row. Usage: inbox_bench [rows] [submitters] [dir]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/ingest/inbox_writer.h"
#include "src/model/interaction.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"

namespace {

using scrm::model::Interaction;

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

 private:
  uint64_t state_;
};

// OA openids look like "oV5CrjpxgaGXNHIQigzNlgLTnwic": 28 characters of base64url.
std::string OpenId(uint64_t user) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  Stream stream(user * 7919 + 1);
  std::string id = "o";
  while (id.size() < 28) id.push_back(kAlphabet[stream.Next() % 64]);
  return id;
}

// An OA text message (PROTOCOL §3.1) from one of 200k followers, as the adapter produces it.
Interaction MakeMessage(uint64_t n, Stream& stream, int64_t now_ms) {
  const std::string openid = OpenId(stream.Next() % 200000);
  // 19-digit MsgIds, unique per message.
  const std::string msg_id = std::to_string(2345678901234567890ULL + n * 1009);
  const std::string content = "想了解一下会员价格和发货时间 #" + std::to_string(n % 977);
  const int64_t create_time = now_ms / 1000;
  Interaction it;
  it.platform = scrm::model::Platform::kOfficialAccount;
  it.account_id = "oa-main";
  it.kind = scrm::model::InteractionKind::kMessageText;
  it.msg_id = msg_id;
  it.dedupe_key = "msg\x1f" + openid + "\x1f" + msg_id;
  it.openid = openid;
  it.to_user = "gh_4d00ed8d6399";
  it.occurred_at_ms = create_time * 1000;
  it.payload = scrm::model::TextPayload{content};
  it.raw_body = "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[" +
                openid + "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
                "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
                "]]></Content><MsgId>" + msg_id + "</MsgId></xml>";
  return it;
}

int Fail(const std::string& what, const scrm::core::Status& status) {
  std::fprintf(stderr, "inbox_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500000;
  const int submitters = argc > 2 ? std::atoi(argv[2]) : 16;
  const std::filesystem::path dir =
      argc > 3 ? std::filesystem::path(argv[3])
               : std::filesystem::temp_directory_path() / "scrmd-inbox-bench";
  if (rows == 0 || submitters <= 0) {
    std::fprintf(stderr, "usage: inbox_bench [rows] [submitters] [dir]\n");
    return 2;
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  scrm::storage::DatabaseOptions options;
  options.path = (dir / "inbox.db").string();
  options.schema = scrm::storage::Schema::kInbox;
  options.synchronous = "normal";
  auto db = scrm::storage::Database::Open(options);
  if (!db.ok()) return Fail("open", db.status());
  scrm::core::SystemClock clock;
  if (auto migrated = (*db)->Migrate(clock.NowUnixMillis()); !migrated.ok()) {
    return Fail("migrate", migrated.status());
  }
  scrm::storage::InteractionStore store(**db);
  scrm::core::MetricsRegistry metrics;
  scrm::ingest::InboxWriter writer(store, clock, metrics, scrm::core::MakeNullLogger());
  if (auto started = writer.Start(); !started.ok()) return Fail("start", started);

  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> duplicates{0};
  std::vector<std::vector<double>> latencies_ms(static_cast<size_t>(submitters));
  const auto begin = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&, t] {
      Stream stream(static_cast<uint64_t>(t) + 1);
      std::vector<double>& latencies = latencies_ms[static_cast<size_t>(t)];
      Interaction last;
      for (uint64_t n = next++; n < rows; n = next++) {
        Interaction it = MakeMessage(n, stream, clock.NowUnixMillis());
        // Every 50th callback is preceded by a re-delivery of this thread's previous message.
        const bool redeliver = n % 50 == 0 && !last.dedupe_key.empty();
        for (int copy = redeliver ? 0 : 1; copy < 2; ++copy) {
          Interaction submitted = copy == 0 ? last : it;
          submitted.received_at_ms = 0;
          const auto started = std::chrono::steady_clock::now();
          auto result = writer.Submit(std::move(submitted));
          latencies.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                  .count());
          if (!result.ok()) {
            ++failures;
          } else if (result->duplicate) {
            ++duplicates;
          }
        }
        last = std::move(it);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  writer.Stop();

  std::vector<double> all;
  for (const auto& per_thread : latencies_ms)
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  std::sort(all.begin(), all.end());
  const double p99 = all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  const uint64_t batches = metrics.Histogram("scrmd_inbox_batch_size", "", {}, {1}).Count({});
  const double batch_avg =
      batches == 0 ? 0 : static_cast<double>(all.size()) / static_cast<double>(batches);
  const auto stored = store.Count();

  std::printf(
      "| inbox group commit, %d submitters | %.0f msg/s | batch avg %.1f, p99 submit %.2f ms | "
      "synchronous=normal, dedupe=%s, rows=%lld |\n",
      submitters, static_cast<double>(all.size()) / seconds, batch_avg, p99,
      std::string(scrm::storage::kDedupeScheme).c_str(),
      static_cast<long long>(stored.ok() ? *stored : -1));
  std::fflush(stdout);
  std::fprintf(stderr,
               "submits=%zu duplicates=%llu failures=%llu seconds=%.2f batches=%llu "
               "p50 submit %.2f ms\n",
               all.size(), static_cast<unsigned long long>(duplicates.load()),
               static_cast<unsigned long long>(failures.load()), seconds,
               static_cast<unsigned long long>(batches), all.empty() ? 0 : all[all.size() / 2]);
  // The commit-duration histogram's sum and count, for the time spent inside transactions.
  const std::string rendered = metrics.Render();
  for (size_t pos = rendered.find("scrmd_inbox_commit_seconds_"); pos != std::string::npos;
       pos = rendered.find("scrmd_inbox_commit_seconds_", pos + 1)) {
    const std::string line = rendered.substr(pos, rendered.find('\n', pos) - pos);
    if (line.find("_bucket") == std::string::npos) std::fprintf(stderr, "%s\n", line.c_str());
  }
  (*db)->Close().IgnoreError();
  std::filesystem::remove_all(dir);
  return failures.load() == 0 ? 0 : 1;
}
