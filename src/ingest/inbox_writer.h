// InboxWriter: the durable inbox's single writer thread. HTTP handlers hand it interactions and
// learn (by a callback, or by waiting) when the transaction holding theirs has committed; only
// then do they ack the platform.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/model/interaction.h"
#include "src/storage/interaction_store.h"

namespace scrm::ingest {

struct InboxWriterOptions {
  // Most interactions per transaction (>= 1). The writer never waits to fill a batch: it commits
  // whatever is pending, so batches are 1 when idle and grow with load on their own.
  size_t max_batch = 1024;
  // Between two batches, once the store holds this many dedupe keys in memory (>= 1), the writer
  // moves them to the key index in one transaction (storage/inbox_keys.h). Larger: fewer, longer
  // pauses, each page of the index rewritten for more keys.
  size_t index_keys_every = storage::InteractionStore::kIndexKeysEvery;
};

// The answer Submit gives once the interaction is durable.
struct SubmitResult {
  // The same interaction (account_id, dedupe_key, occurred_at_ms; see InteractionStore) was
  // already stored, or came earlier in the same batch: not stored again.
  bool duplicate = false;
  int64_t id = 0;  // the stored row's id (the earlier row's when duplicate)
};

// Called once per SubmitAsync with the outcome and the interaction as submitted (its id set by the
// writer when it reached a transaction). Only valid during the call.
using SubmitCallback =
    std::function<void(core::StatusOr<SubmitResult> result, const model::Interaction& interaction)>;

// Group commit: one writer thread takes everything pending (up to max_batch), assigns ids and
// inserts it in one transaction through InteractionStore::InsertBatch. Each waiting submitter
// learns its outcome once, when its own batch has committed: SubmitAsync's callback runs on the
// writer thread (an event-driven HTTP front resumes the request from there, with an answer it
// prepared before the submit: the callback holds up the next batch, so it only completes), and
// Submit's caller is woken by a futex wake on its own slot; nobody else's commit wakes it.
//
// Why a writer thread rather than a leader elected among the submitters (measured with
// bench/ingest_bench on 2 vCPUs): a submitter that finds no commit running commits at once, so
// batches shrink (~4 interactions against ~25) and the commit role keeps moving between busy HTTP
// threads; throughput fell ~35 % below this design. The thread costs one wake-up per batch, not
// per interaction.
//
// Thread-safety: Submit and SubmitAsync are called concurrently by HTTP threads; Start and Stop by
// the owner (src/app), once each. The commit listener and SubmitAsync callbacks run on the writer
// thread. Does not own the
// store, clock or metrics registry, which must outlive it.
class InboxWriter {
 public:
  // `logger`: shared with whoever else logs to it (main builds it).
  InboxWriter(storage::InteractionStore& store, const core::Clock& clock,
              core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> logger,
              InboxWriterOptions options = {});
  // Stops (draining) if still running.
  ~InboxWriter();
  InboxWriter(const InboxWriter&) = delete;
  InboxWriter& operator=(const InboxWriter&) = delete;

  // Called after every transaction that stored at least one new row (the ingest worker's
  // wake-up), once that batch's submitters have been released. Runs on the writer thread: must be
  // quick and must not call Submit. Set before Start.
  void SetCommitListener(std::function<void()> listener);

  // Reads the highest stored id (ids are always assigned above it, even if the clock stepped
  // back across a restart) and starts the writer thread. InvalidArgument for max_batch 0;
  // FailedPrecondition when called twice or after Stop; the store's error when it cannot be
  // read.
  core::Status Start();
  // Stops taking submissions and drains: everything already submitted is committed or failed
  // before Stop returns, never left waiting. Idempotent.
  void Stop();

  // Stores `interaction` durably and blocks until its transaction has committed (or failed).
  // The id is assigned by the writer thread (any id passed in is ignored); received_at_ms is
  // set from the clock when 0. A duplicate is ok with duplicate = true.
  // InvalidArgument when account_id or dedupe_key is empty (never enqueued);
  // Unavailable before Start, after Stop, or when the batch's transaction failed (the caller
  // answers 5xx and the platform retries).
  // Built on SubmitAsync.
  core::StatusOr<SubmitResult> Submit(model::Interaction interaction);

  // Stores `interaction` like Submit without blocking: `done` is called exactly once, with what
  // Submit would return. The rejections (InvalidArgument, Unavailable before Start or after Stop)
  // call it at once on the caller's thread; otherwise the writer thread calls it after the
  // batch's transaction, so it must be quick, must not block and must not call Submit (it may call
  // SubmitAsync). An exception it throws is logged and swallowed.
  void SubmitAsync(model::Interaction interaction, SubmitCallback done);

  // True between Start and Stop: submissions are accepted (readiness).
  bool running() const;
  // Submissions waiting for a transaction or in the one being committed.
  size_t queued() const;

 private:
  // One submitted interaction and whom to tell.
  struct Slot {
    model::Interaction interaction;
    // Computed by SubmitAsync on the submitting thread, so the writer's transaction only inserts.
    storage::InsertEncoding encoding;
    SubmitCallback done;
  };

  void Run();
  // Commits one batch and completes its slots (writer thread).
  void CommitBatch(std::vector<Slot>& batch);

  storage::InteractionStore& store_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  const InboxWriterOptions options_;
  core::IdGenerator ids_;
  core::CounterFamily& committed_total_;
  core::CounterFamily& duplicates_total_;
  core::CounterFamily& failed_total_;
  core::HistogramFamily& batch_size_;
  core::HistogramFamily& commit_seconds_;
  core::HistogramFamily& index_seconds_;
  std::function<void()> listener_;  // set before Start, then read by the writer thread only

  int64_t last_id_ = 0;  // writer thread only (set by Start before the thread exists)

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits: pending_ non-empty or stopping_
  std::deque<Slot> pending_;         // guarded by mu_
  size_t in_flight_ = 0;             // guarded by mu_: slots in the batch being committed
  bool running_ = false;             // guarded by mu_: accepting submissions
  bool started_ = false;             // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  std::thread thread_;
};

}  // namespace scrm::ingest
