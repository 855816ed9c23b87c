// IngestWorker: the one thread that drains the inbox in id order through the processors
// (identity -> tagger -> profile -> segment index -> triggers), and re-runs them over a time
// range on request (replay).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/ingest/processor.h"
#include "src/ingest/quarantine.h"
#include "src/storage/cursor_store.h"
#include "src/storage/inbox_lag.h"
#include "src/storage/interaction_store.h"

namespace scrm::ingest {

struct IngestWorkerOptions {
  // Row of ingest_cursors holding the last interaction id every processor has finished.
  std::string cursor_name = "worker";
  // Interactions read per step (>= 1). The cursor is recorded after each chunk, so a crash
  // re-delivers at most one chunk. With no processors nothing is read: a pass moves the cursor
  // to the newest row and records it at most once per kIdleCursorFlushInterval, and at Stop.
  size_t chunk_size = 256;
  // Safety net: how often the worker looks for new rows when nobody notified it (> 0).
  std::chrono::milliseconds poll_interval{1000};
  // Pause before retrying after a processor or storage error (> 0), doubling on each
  // consecutive failure up to max_retry_interval (>= retry_interval). Measured on the Clock.
  std::chrono::milliseconds retry_interval{1000};
  std::chrono::milliseconds max_retry_interval{30000};
  // After a notification, wait this long (>= 0) for more commits before reading, so the chunk
  // holds what several inbox commits stored instead of one commit's handful. Under load the inbox
  // commits every millisecond or so; a pass per commit pays the chunk's fixed costs (a
  // transaction, the pages it rewrites, a wake-up) for ~20 interactions. A full chunk is read
  // again at once, without the delay. 0 reads at every notification (tests).
  std::chrono::milliseconds batch_delay{0};
};

// Without processors the worker records its cursor at most this often (on the Clock): nothing
// is re-delivered after a crash, so the write is bookkeeping, not a delivery guarantee.
inline constexpr std::chrono::milliseconds kIdleCursorFlushInterval{1000};

// The pause before the next attempt after `consecutive_failures` (>= 1) failures in a row:
// retry_interval, doubled for each further failure, at most max_retry_interval.
std::chrono::milliseconds RetryDelay(int consecutive_failures, const IngestWorkerOptions& options);

// With a quarantine (IngestWorker::EnableQuarantine): after this many rows in a row were put
// aside with no row applied in between, the worker stops putting rows aside and retries the
// failing one instead — so many failures in a row are a fault of the service (a broken schema,
// a bug), not poison rows, and must not empty the inbox into the quarantine. Any applied row
// resets the count.
inline constexpr int kMaxQuarantineStreak = 100;

// How often (on the Clock) the lag gauges are refreshed while the worker is busy; when it has
// caught up they are refreshed on every pass.
inline constexpr std::chrono::milliseconds kLagRefreshInterval{1000};
// The lag gauge counts pending interactions up to this many (a bounded scan of the inbox ids).
inline constexpr int64_t kMaxLagCount = 10000000;

// Re-run the processors over interactions received in [from_ms, to_ms).
struct ReplayRequest {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::optional<std::string> account_id;  // only this account when set
};

struct ReplayResult {
  int64_t reprocessed = 0;  // interactions that went through every processor again
  // The worker's cursor when the replay started. Newer interactions in the range were left to
  // the normal path (they had not been processed a first time yet).
  int64_t up_to_id = 0;
};

// Delivery is at least once, in id order: for each chunk after the cursor, every interaction
// goes through every processor in the given order, then the cursor is recorded. A processor
// error stops the chunk at that interaction (the cursor covers the ones before it), is logged
// and counted, and the same interaction is retried after retry_interval (growing): never
// skipped. Processors must therefore be idempotent (see processor.h). With a ChunkProcessor
// instead, the chunk and the cursor commit together in the processor's transaction, so nothing
// of a chunk is ever half applied.
//
// Threads: Start/Stop by the owner (src/app); Notify, Replay, cursor and WaitForCursor from any
// thread. Processors run on the worker thread only. Does not own the stores (the inbox's
// interactions in the inbox file, the cursors in the main file), processors, clock or metrics
// registry, which must outlive it.
class IngestWorker {
 public:
  // `processors` run in this order. `logger`: shared with whoever else logs to it.
  IngestWorker(storage::InteractionStore& store, storage::CursorStore& cursors,
               std::vector<std::reference_wrapper<InteractionProcessor>> processors,
               const core::Clock& clock, core::MetricsRegistry& metrics,
               std::shared_ptr<spdlog::logger> logger, IngestWorkerOptions options = {});
  // The transactional pipeline instead of processors: each chunk is applied together with the
  // cursor in one transaction of `chunk_processor` (see ChunkProcessor), so a crash or a
  // failure never leaves half a chunk applied. A failed chunk is retried one interaction at a
  // time to get past the interactions before the failing one. Replays run one interaction per
  // transaction without moving the cursor.
  IngestWorker(storage::InteractionStore& store, storage::CursorStore& cursors,
               ChunkProcessor& chunk_processor, const core::Clock& clock,
               core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> logger,
               IngestWorkerOptions options = {});
  ~IngestWorker();  // Stop()
  IngestWorker(const IngestWorker&) = delete;
  IngestWorker& operator=(const IngestWorker&) = delete;

  // Exports scrmd_ingest_lag_interactions (interactions after the cursor, counted up to
  // kMaxLagCount) and scrmd_ingest_oldest_pending_age_seconds (age of the oldest of them on the
  // Clock, 0 when none), refreshed by the worker thread. Call before Start; `reader` must
  // outlive the worker.
  void EnableLagMetrics(storage::InboxLagReader& reader);
  // With the chunk processor: a row that fails to apply (or to be read) for a lasting reason
  // (ShouldQuarantine) is put aside, with the cursor moved past it in the same transaction, and
  // the rows after it go on; without, such a row stops the worker and is retried after the
  // pause (the processors' path always does that). Call before Start; `quarantine` must outlive
  // the worker.
  void EnableQuarantine(Quarantine& quarantine);

  // Loads the cursor and starts the thread. InvalidArgument for bad options;
  // FailedPrecondition when called twice or after Stop; the store's error otherwise.
  core::Status Start();
  // Finishes the step in progress and joins the thread. Replays not finished fail with
  // Unavailable. Idempotent.
  void Stop();

  // Wakes the worker: new rows were committed (InboxWriter's commit listener). Cheap and
  // thread-safe; notifications coalesce (while a pass is already due, Notify only takes mu_).
  void Notify();

  // Queues a replay and waits up to `timeout` for its result. The worker interleaves replay
  // pages with normal chunks; the main cursor never moves back. InvalidArgument when
  // from_ms >= to_ms or account_id is set but empty; Unavailable when the worker is not
  // running or stopped before finishing; DeadlineExceeded when the timeout passed first (the
  // replay goes on and its outcome is logged); a processor's error (with the id it stopped at)
  // when one failed: the replay stops there, and can be asked again.
  core::StatusOr<ReplayResult> Replay(const ReplayRequest& request,
                                      std::chrono::milliseconds timeout);

  // The last id every processor has finished (0 before any).
  int64_t cursor() const { return cursor_.load(); }
  // Waits until cursor() >= id; false when `timeout` passed first or the worker stopped.
  bool WaitForCursor(int64_t id, std::chrono::milliseconds timeout);

 private:
  struct ReplayJob;
  struct ChunkOutcome {
    size_t read = 0;
    bool failed = false;
    bool gave_way = false;  // the processor committed a prefix of what was read: more is due
  };

  void Run();
  // One chunk after the cursor (worker thread).
  ChunkOutcome ProcessChunk();
  // ProcessChunk with the chunk processor (worker thread).
  ChunkOutcome ProcessChunkTransactional();
  // After a read that failed for a lasting reason (quarantine on): reads one row at a time and
  // applies the rows before the one that cannot be read, or puts that one aside when it is the
  // first (worker thread).
  ChunkOutcome ReadPastUndecodable(int64_t start, storage::RawBody raw_body,
                                   const core::Status& chunk_error);
  // Whether a failing row may be put aside (kMaxQuarantineStreak); logs the first refusal.
  bool MayQuarantine();
  // Applies rows read after the cursor with the chunk processor (worker thread).
  ChunkOutcome ApplyTransactional(std::span<const model::Interaction> items);
  // ChunkProcessor::ProcessChunkPrefix, an escaped exception turned into Internal, as is a
  // prefix of nothing (worker thread).
  core::StatusOr<size_t> RunChunkPrefix(std::span<const model::Interaction> chunk,
                                        const ChunkCursor& cursor);
  // Runs the chunk processor on `part`, turning an escaped exception into Internal.
  core::Status RunChunkProcessor(std::span<const model::Interaction> part,
                                 const ChunkCursor* cursor);
  // Refreshes the lag gauges, at most once per kLagRefreshInterval unless `force` (worker thread).
  void UpdateLagMetrics(bool force);
  // ProcessChunk without processors: the cursor jumps to the newest row (worker thread).
  ChunkOutcome SkipToNewest();
  // Moves cursor_ (and wakes WaitForCursor callers).
  void PublishCursor(int64_t id);
  // Records `cursor` (cursor_ when unset) in the store unless it is already there (worker
  // thread). Unless `force`, at most once per kIdleCursorFlushInterval on the clock.
  void FlushCursor(bool force, std::optional<int64_t> cursor = std::nullopt);
  // One page of the oldest replay; false when no replay is active afterwards (worker thread).
  bool StepReplay();
  // Runs every processor on one interaction; the first error, prefixed with its processor,
  // whose name goes to *failed_processor.
  core::Status ProcessOne(const model::Interaction& interaction, std::string* failed_processor);
  void FinishReplay(const std::shared_ptr<ReplayJob>& job, core::StatusOr<ReplayResult> result);
  // Backoff after a failure / reset after a success (worker thread).
  void NoteFailure();
  void NoteSuccess();

  storage::InteractionStore& store_;
  storage::CursorStore& cursors_;
  const std::vector<std::reference_wrapper<InteractionProcessor>> processors_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  const IngestWorkerOptions options_;
  core::CounterFamily& processed_total_;
  core::CounterFamily& replayed_total_;
  core::CounterFamily& errors_total_;
  core::HistogramFamily& lag_seconds_;
  core::GaugeFamily& lag_interactions_;
  core::GaugeFamily& oldest_pending_age_seconds_;
  ChunkProcessor* chunk_processor_ = nullptr;      // set by the chunk constructor only
  storage::InboxLagReader* lag_reader_ = nullptr;  // set before Start
  Quarantine* quarantine_ = nullptr;               // set before Start

  std::atomic<int64_t> cursor_{0};  // written by the worker thread (and Start) only

  // Worker thread only.
  int64_t recorded_cursor_ = 0;  // what the store holds (set by Start)
  std::optional<std::chrono::steady_clock::time_point> recorded_at_;  // on clock_
  int consecutive_failures_ = 0;
  int quarantine_streak_ = 0;  // rows put aside since the last row applied
  std::optional<std::chrono::steady_clock::time_point> retry_at_;        // on clock_
  std::optional<std::chrono::steady_clock::time_point> lag_updated_at_;  // on clock_

  std::mutex mu_;
  std::condition_variable wake_cv_;      // the worker waits: notified_, replays_, stopping_
  std::condition_variable progress_cv_;  // cursor moved, a replay finished, or stopped
  bool notified_ = false;                // guarded by mu_
  bool started_ = false;                 // guarded by mu_
  bool running_ = false;                 // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  // Oldest first; the front one is in progress. Shared with the Replay callers waiting on them.
  std::deque<std::shared_ptr<ReplayJob>> replays_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace scrm::ingest
