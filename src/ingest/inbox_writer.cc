#include "src/ingest/inbox_writer.h"
#include "src/core/thread_name.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scrm::ingest {

using core::Status;
using core::StatusOr;

namespace {

// A waiting Submit's state word.
constexpr uint32_t kWaiting = 0;
constexpr uint32_t kDone = 1;  // result is final

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "a futex word must be a plain 32-bit integer");

// Sleeps while `word` still holds `expected`; may return early (callers loop on the value).
// https://man7.org/linux/man-pages/man2/futex.2.html
void FutexWait(std::atomic<uint32_t>& word, uint32_t expected) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
            nullptr, 0);
}

// Publishes `value` in `*word` and wakes the one thread sleeping on it.
//
// Why not a condition variable: one shared condition variable wakes every waiting submitter on
// each commit (they all re-check, and all but the batch's go back to sleep: ~1.5 extra context
// switches per request, measured); one per slot would have to be signalled with the mutex held
// (glibc forbids destroying a condition variable while a signal on it may still run), and the
// woken submitter would then block again on that mutex.
//
// After the store the submitter may see the value, return and end the slot's life before the
// wake is made. The futex call then only hashes a stale address (the kernel reads nothing there;
// using the pointer value is implementation-defined, not undefined, [basic.stc]/4), and a thread
// that has meanwhile started waiting on the same address gets a spurious wake-up and sleeps
// again, since every waiter loops on its value.
void PublishAndWake(std::atomic<uint32_t>* word, uint32_t value) {
  word->store(value, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
}

std::vector<double> BatchSizeBuckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }

std::vector<double> CommitSecondsBuckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1};
}

double SecondsBetween(std::chrono::steady_clock::time_point from,
                      std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

InboxWriter::InboxWriter(storage::InteractionStore& store, const core::Clock& clock,
                         core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> logger,
                         InboxWriterOptions options)
    : store_(store),
      clock_(clock),
      logger_(std::move(logger)),
      options_(options),
      ids_(clock),
      committed_total_(metrics.Counter("scrmd_inbox_committed_total",
                                       "Interactions stored by the inbox (duplicates excluded)",
                                       {})),
      duplicates_total_(metrics.Counter("scrmd_inbox_duplicates_total",
                                        "Submitted interactions that were already stored", {})),
      failed_total_(metrics.Counter("scrmd_inbox_failed_total",
                                    "Submitted interactions whose transaction failed", {})),
      batch_size_(metrics.Histogram("scrmd_inbox_batch_size", "Interactions per inbox transaction",
                                    {}, BatchSizeBuckets())),
      commit_seconds_(metrics.Histogram("scrmd_inbox_commit_seconds",
                                        "Duration of one inbox transaction", {},
                                        CommitSecondsBuckets())),
      index_seconds_(metrics.Histogram("scrmd_inbox_key_index_seconds",
                                       "Duration of one transaction moving dedupe keys to the "
                                       "key index",
                                       {}, CommitSecondsBuckets())) {}

InboxWriter::~InboxWriter() { Stop(); }

void InboxWriter::SetCommitListener(std::function<void()> listener) {
  listener_ = std::move(listener);
}

Status InboxWriter::Start() {
  if (options_.max_batch == 0) return core::InvalidArgumentError("inbox max_batch must be >= 1");
  if (options_.index_keys_every == 0) {
    return core::InvalidArgumentError("inbox index_keys_every must be >= 1");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopping_) {
      return core::FailedPreconditionError("inbox writer was already started or stopped");
    }
  }
  SCRM_ASSIGN_OR_RETURN(last_id_, store_.MaxId());
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  running_ = true;
  thread_ = std::thread(&InboxWriter::Run, this);
  return core::OkStatus();
}

void InboxWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

StatusOr<SubmitResult> InboxWriter::Submit(model::Interaction interaction) {
  // Lives on this stack until `state` reads kDone. The callback (on the writer thread, or inline
  // for a rejection) writes `result`, then publishes it with a release store to `state` and wakes
  // this thread (see PublishAndWake); after that store it never touches the waiter again.
  struct Waiter {
    StatusOr<SubmitResult> result = core::UnavailableError("inbox: not committed");
    std::atomic<uint32_t> state{kWaiting};
  } waiter;
  SubmitAsync(std::move(interaction),
              [&waiter](StatusOr<SubmitResult> result, const model::Interaction&) {
                waiter.result = std::move(result);
                PublishAndWake(&waiter.state, kDone);
              });
  while (waiter.state.load(std::memory_order_acquire) == kWaiting) {
    FutexWait(waiter.state, kWaiting);
  }
  return std::move(waiter.result);
}

void InboxWriter::SubmitAsync(model::Interaction interaction, SubmitCallback done) {
  if (interaction.account_id.empty()) {
    done(core::InvalidArgumentError("interaction has no account_id"), interaction);
    return;
  }
  if (interaction.dedupe_key.empty()) {
    done(core::InvalidArgumentError("interaction has no dedupe_key"), interaction);
    return;
  }
  if (interaction.received_at_ms == 0) interaction.received_at_ms = clock_.NowUnixMillis();
  storage::InsertEncoding encoding = storage::EncodeForInsert(interaction);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!running_) {
      lock.unlock();
      done(core::UnavailableError("inbox is not running"), interaction);
      return;
    }
    pending_.push_back(Slot{std::move(interaction), std::move(encoding), std::move(done)});
  }
  // No system call unless the writer is asleep (glibc checks for waiters first); a writer busy
  // committing finds the slot when it next takes the pending ones.
  work_cv_.notify_one();
}

bool InboxWriter::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

size_t InboxWriter::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size() + in_flight_;
}

void InboxWriter::Run() {
  core::NameThisThread("inbox-writer");
  std::vector<Slot> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      // Stop drains: the thread leaves only once nothing is pending, and running_ is already
      // false so nothing new can arrive.
      if (pending_.empty()) return;
      const size_t n = std::min(options_.max_batch, pending_.size());
      const auto end = pending_.begin() + static_cast<std::ptrdiff_t>(n);
      batch.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(end));
      pending_.erase(pending_.begin(), end);
      in_flight_ = n;
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void InboxWriter::CommitBatch(std::vector<Slot>& batch) {
  // Ids are assigned here, on the one writer thread, in commit order, and never at or below an
  // id already stored. Every committed row therefore has a larger id than every row committed
  // before it, which is what lets the ingest worker scan "id > cursor" without ever missing a
  // row. Assigning them in Submit (on HTTP threads) would break this: a thread could take an id,
  // be descheduled while a later id commits and the worker moves its cursor past it, and then
  // commit its smaller id behind the cursor, never to be processed.
  std::vector<model::Interaction> items;
  std::vector<storage::InsertEncoding> encodings;
  items.reserve(batch.size());
  encodings.reserve(batch.size());
  for (Slot& slot : batch) {
    int64_t id = ids_.Next();
    if (id <= last_id_) id = last_id_ + 1;  // the clock stepped back across a restart
    last_id_ = id;
    slot.interaction.id = id;
    items.push_back(std::move(slot.interaction));
    encodings.push_back(std::move(slot.encoding));
  }

  const auto started = clock_.SteadyNow();
  StatusOr<std::vector<storage::InsertOutcome>> outcomes = store_.InsertBatch(items, encodings);
  commit_seconds_.Observe({}, SecondsBetween(started, clock_.SteadyNow()));
  batch_size_.Observe({}, static_cast<double>(batch.size()));

  uint64_t inserted = 0;
  uint64_t duplicates = 0;
  if (outcomes.ok()) {
    // InsertBatch answers one outcome per item; anything else is a bug in the store.
    SCRM_CHECK(outcomes->size() == batch.size());
    for (const storage::InsertOutcome& outcome : *outcomes) {
      if (outcome.duplicate) {
        ++duplicates;
      } else {
        ++inserted;
      }
    }
  } else {
    failed_total_.Inc({}, batch.size());
    logger_->error("inbox: transaction of {} interactions failed: {}", batch.size(),
                   outcomes.status().ToString());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = 0;
  }
  // Counted before anyone is answered: whoever has an answer sees it in the counters (a test that
  // reads them right after its Submits return could otherwise miss the last batch).
  if (inserted > 0) committed_total_.Inc({}, inserted);
  if (duplicates > 0) duplicates_total_.Inc({}, duplicates);
  for (size_t i = 0; i < batch.size(); ++i) {
    StatusOr<SubmitResult> result =
        outcomes.ok()
            ? StatusOr<SubmitResult>(SubmitResult{(*outcomes)[i].duplicate, (*outcomes)[i].id})
            // The platform retries on a non-200 answer, so the caller reports a temporary
            // failure.
            : StatusOr<SubmitResult>(
                  core::UnavailableError("inbox: the interaction could not be stored"));
    try {
      batch[i].done(std::move(result), items[i]);
    } catch (const std::exception& e) {
      logger_->error("inbox: a submit callback threw: {}", e.what());
    } catch (...) {
      logger_->error("inbox: a submit callback threw a non-standard exception");
    }
  }
  if (inserted > 0 && listener_) listener_();
  // Between batches, after the answers: the keys of the rows stored since the last time go to
  // the key index in one sorted transaction (storage/inbox_keys.h). A failure leaves them pending
  // (still deduplicated, from memory) for the next time.
  if (store_.PendingKeys() >= options_.index_keys_every) {
    const auto index_started = clock_.SteadyNow();
    if (core::Status indexed = store_.IndexKeys(); !indexed.ok()) {
      logger_->error("inbox: indexing the dedupe keys failed: {}", indexed.ToString());
    }
    index_seconds_.Observe({}, SecondsBetween(index_started, clock_.SteadyNow()));
  }
}

}  // namespace scrm::ingest
