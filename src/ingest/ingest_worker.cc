#include "src/ingest/ingest_worker.h"
#include "src/core/thread_name.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace scrm::ingest {

using core::Status;
using core::StatusOr;

// One replay. Shared by the Replay caller (which may give up waiting) and the worker.
struct IngestWorker::ReplayJob {
  ReplayRequest request;
  // Worker thread only.
  bool begun = false;
  int64_t up_to_id = 0;
  int64_t after_id = 0;
  int64_t reprocessed = 0;
  // Guarded by mu_.
  bool done = false;
  StatusOr<ReplayResult> result = core::UnavailableError("replay did not finish");
};

namespace {

std::vector<double> LagSecondsBuckets() {
  return {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};
}

}  // namespace

IngestWorker::IngestWorker(storage::InteractionStore& store, storage::CursorStore& cursors,
                           std::vector<std::reference_wrapper<InteractionProcessor>> processors,
                           const core::Clock& clock, core::MetricsRegistry& metrics,
                           std::shared_ptr<spdlog::logger> logger, IngestWorkerOptions options)
    : store_(store),
      cursors_(cursors),
      processors_(std::move(processors)),
      clock_(clock),
      logger_(std::move(logger)),
      options_(std::move(options)),
      processed_total_(metrics.Counter("scrmd_ingest_processed_total",
                                       "Interactions every processor has finished", {})),
      replayed_total_(metrics.Counter("scrmd_ingest_replayed_total",
                                      "Interactions processed again by a replay", {})),
      errors_total_(metrics.Counter("scrmd_ingest_errors_total",
                                    "Processor failures (the interaction is retried)",
                                    {"processor"})),
      lag_seconds_(metrics.Histogram("scrmd_ingest_lag_seconds",
                                     "From receipt by the inbox to the end of processing", {},
                                     LagSecondsBuckets())),
      lag_interactions_(metrics.Gauge("scrmd_ingest_lag_interactions",
                                      "Interactions stored in the inbox and not processed yet",
                                      {})),
      oldest_pending_age_seconds_(
          metrics.Gauge("scrmd_ingest_oldest_pending_age_seconds",
                        "Age of the oldest interaction not processed yet (0 when none)", {})) {}

IngestWorker::IngestWorker(storage::InteractionStore& store, storage::CursorStore& cursors,
                           ChunkProcessor& chunk_processor, const core::Clock& clock,
                           core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> logger,
                           IngestWorkerOptions options)
    : IngestWorker(store, cursors, {}, clock, metrics, std::move(logger), std::move(options)) {
  chunk_processor_ = &chunk_processor;
}

void IngestWorker::EnableLagMetrics(storage::InboxLagReader& reader) { lag_reader_ = &reader; }

void IngestWorker::EnableQuarantine(Quarantine& quarantine) { quarantine_ = &quarantine; }

IngestWorker::~IngestWorker() { Stop(); }

Status IngestWorker::Start() {
  if (options_.cursor_name.empty()) {
    return core::InvalidArgumentError("ingest cursor_name is empty");
  }
  if (options_.chunk_size == 0) return core::InvalidArgumentError("ingest chunk_size must be >= 1");
  if (options_.poll_interval.count() <= 0 || options_.retry_interval.count() <= 0 ||
      options_.max_retry_interval < options_.retry_interval || options_.batch_delay.count() < 0) {
    return core::InvalidArgumentError(
        "ingest poll_interval and retry_interval must be > 0, max_retry_interval >= "
        "retry_interval and batch_delay >= 0");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopping_) {
      return core::FailedPreconditionError("ingest worker was already started or stopped");
    }
  }
  SCRM_ASSIGN_OR_RETURN(const int64_t cursor, cursors_.GetCursor(options_.cursor_name));
  std::lock_guard<std::mutex> lock(mu_);
  cursor_.store(cursor);
  recorded_cursor_ = cursor;  // before the thread starts
  started_ = true;
  running_ = true;
  thread_ = std::thread(&IngestWorker::Run, this);
  return core::OkStatus();
}

void IngestWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
    stopping_ = true;
  }
  wake_cv_.notify_all();
  progress_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::shared_ptr<ReplayJob>& job : replays_) {
      job->result = core::UnavailableError("ingest worker stopped before the replay finished");
      job->done = true;
    }
    replays_.clear();
  }
  progress_cv_.notify_all();
}

void IngestWorker::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Already due: the worker has not started that pass yet, and it will read these rows too.
    // Skipping the wake-up saves a futex call per commit while the worker is busy.
    if (notified_) return;
    notified_ = true;
  }
  wake_cv_.notify_one();
}

StatusOr<ReplayResult> IngestWorker::Replay(const ReplayRequest& request,
                                            std::chrono::milliseconds timeout) {
  if (request.from_ms >= request.to_ms) {
    return core::InvalidArgumentError("replay range is empty: from_ms must be before to_ms");
  }
  if (request.account_id.has_value() && request.account_id->empty()) {
    return core::InvalidArgumentError("replay account_id is set but empty");
  }
  auto job = std::make_shared<ReplayJob>();
  job->request = request;
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_) return core::UnavailableError("ingest worker is not running");
  replays_.push_back(job);
  wake_cv_.notify_one();
  if (!progress_cv_.wait_for(lock, timeout, [&] { return job->done; })) {
    return core::DeadlineExceededError(
        "replay is still running; its outcome will be logged when it finishes");
  }
  return job->result;
}

bool IngestWorker::WaitForCursor(int64_t id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  progress_cv_.wait_for(lock, timeout, [&] { return cursor_.load() >= id || stopping_; });
  return cursor_.load() >= id;
}

void IngestWorker::Run() {
  core::NameThisThread("ingest-worker");
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    bool more_live = false;
    if (!retry_at_.has_value() || clock_.SteadyNow() >= *retry_at_) {
      const ChunkOutcome outcome = ProcessChunk();
      more_live = !outcome.failed && (outcome.read == options_.chunk_size || outcome.gave_way);
    }
    const bool replay_active = StepReplay();
    UpdateLagMetrics(/*force=*/!more_live);

    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) break;
    if (more_live || replay_active) continue;
    // Caught up (or backing off): sleep until notified, a replay arrives, Stop, or the poll
    // tick. While backing off a notification only counts once the retry is due on the clock,
    // so a stream of commits cannot turn a failing processor into a hot loop.
    std::chrono::milliseconds wait = options_.poll_interval;
    if (retry_at_.has_value()) {
      const auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(*retry_at_ - clock_.SteadyNow());
      wait = std::clamp(remaining, std::chrono::milliseconds(1), options_.poll_interval);
    }
    wake_cv_.wait_for(lock, wait, [&] {
      const bool due = !retry_at_.has_value() || clock_.SteadyNow() >= *retry_at_;
      return stopping_ || !replays_.empty() || (notified_ && due);
    });
    if (stopping_) break;
    if (notified_ && options_.batch_delay.count() > 0 && replays_.empty() &&
        !retry_at_.has_value()) {
      // Let more commits land before reading them (see IngestWorkerOptions::batch_delay). Stop
      // and replays cut the delay short.
      wake_cv_.wait_for(lock, options_.batch_delay, [&] { return stopping_ || !replays_.empty(); });
      if (stopping_) break;
    }
    notified_ = false;
  }
  FlushCursor(/*force=*/true);
}

IngestWorker::ChunkOutcome IngestWorker::ProcessChunk() {
  if (chunk_processor_ != nullptr) return ProcessChunkTransactional();
  if (processors_.empty()) return SkipToNewest();
  const int64_t start = cursor_.load();
  StatusOr<std::vector<model::Interaction>> chunk = store_.ReadAfter(start, options_.chunk_size);
  if (!chunk.ok()) {
    logger_->error("ingest: reading after interaction {} failed, will retry: {}", start,
                   chunk.status().ToString());
    NoteFailure();
    return {0, true};
  }
  int64_t done = start;
  uint64_t processed = 0;
  bool failed = false;
  const int64_t now_ms = clock_.NowUnixMillis();
  std::string failed_processor;
  for (const model::Interaction& interaction : *chunk) {
    const Status status = ProcessOne(interaction, &failed_processor);
    if (!status.ok()) {
      // Never skipped: the cursor stops before it and the same interaction is retried.
      logger_->error("ingest: interaction {} failed, will retry: {}", interaction.id,
                     status.ToString());
      failed = true;
      break;
    }
    done = interaction.id;
    ++processed;
    lag_seconds_.Observe({}, static_cast<double>(now_ms - interaction.received_at_ms) / 1000.0);
  }
  // The backoff is in place before the error is counted and the cursor moves, so whoever sees
  // either also sees the pause (tests advance a fake clock from there).
  if (failed) {
    NoteFailure();
    errors_total_.Inc({failed_processor});
  }
  if (processed > 0) {
    const Status saved = cursors_.SetCursor(options_.cursor_name, done);
    if (!saved.ok()) {
      // Not advanced: the chunk is delivered again (processors are idempotent).
      logger_->error("ingest: recording cursor {} failed, will retry: {}", done, saved.ToString());
      if (!failed) NoteFailure();
      return {chunk->size(), true};
    }
    recorded_cursor_ = done;
    PublishCursor(done);
    processed_total_.Inc({}, processed);
  }
  if (!failed) NoteSuccess();
  return {chunk->size(), failed};
}

Status IngestWorker::RunChunkProcessor(std::span<const model::Interaction> part,
                                       const ChunkCursor* cursor) {
  try {
    return chunk_processor_->ProcessChunk(part, cursor);
  } catch (const std::exception& e) {
    // As in ProcessOne: an escaped exception must not kill the only thread that drains the inbox.
    return core::InternalError(std::string("exception: ") + e.what());
  }
}

StatusOr<size_t> IngestWorker::RunChunkPrefix(std::span<const model::Interaction> chunk,
                                              const ChunkCursor& cursor) {
  try {
    StatusOr<size_t> prefix = chunk_processor_->ProcessChunkPrefix(chunk, cursor);
    if (prefix.ok() && *prefix == 0) {
      return core::InternalError("the chunk processor committed none of a non-empty chunk");
    }
    return prefix;
  } catch (const std::exception& e) {
    return core::InternalError(std::string("exception: ") + e.what());
  }
}

IngestWorker::ChunkOutcome IngestWorker::ProcessChunkTransactional() {
  const int64_t start = cursor_.load();
  const storage::RawBody raw_body =
      chunk_processor_->reads_raw_body() ? storage::RawBody::kRead : storage::RawBody::kSkip;
  StatusOr<std::vector<model::Interaction>> chunk =
      store_.ReadAfter(start, options_.chunk_size, raw_body);
  if (!chunk.ok() && quarantine_ != nullptr && ShouldQuarantine(chunk.status())) {
    // A row that cannot be decoded fails the whole read: read one row at a time up to it.
    return ReadPastUndecodable(start, raw_body, chunk.status());
  }
  if (!chunk.ok()) {
    logger_->error("ingest: reading after interaction {} failed, will retry: {}", start,
                   chunk.status().ToString());
    NoteFailure();
    return {0, true};
  }
  return ApplyTransactional(*chunk);
}

IngestWorker::ChunkOutcome IngestWorker::ReadPastUndecodable(int64_t start,
                                                             storage::RawBody raw_body,
                                                             const Status& chunk_error) {
  std::vector<model::Interaction> readable;
  int64_t after = start;
  Status error = chunk_error;
  while (readable.size() < options_.chunk_size) {
    StatusOr<std::vector<model::Interaction>> one = store_.ReadAfter(after, 1, raw_body);
    if (one.ok() && one->empty()) break;
    if (one.ok()) {
      after = one->front().id;
      readable.push_back(std::move(one->front()));
      continue;
    }
    error = one.status();
    break;
  }
  if (!readable.empty()) {
    // The rows before the undecodable one go first; the next pass meets it at the front.
    ChunkOutcome outcome = ApplyTransactional(readable);
    if (!outcome.failed) outcome.gave_way = true;
    return outcome;
  }
  if (ShouldQuarantine(error) && MayQuarantine()) {
    StatusOr<std::optional<storage::RowHead>> head = store_.PeekAfter(start);
    if (head.ok() && head->has_value()) {
      const Status aside =
          quarantine_->PutAside((*head)->id, (*head)->account_id, error, options_.cursor_name);
      if (aside.ok()) {
        ++quarantine_streak_;
        errors_total_.Inc({std::string(chunk_processor_->name())});
        recorded_cursor_ = (*head)->id;  // committed with the quarantine row
        PublishCursor(recorded_cursor_);
        NoteSuccess();
        return {1, false, true};
      }
      error = aside;
    } else if (!head.ok()) {
      error = head.status();
    }
  }
  logger_->error("ingest: reading after interaction {} failed, will retry: {}", start,
                 error.ToString());
  NoteFailure();
  return {0, true};
}

bool IngestWorker::MayQuarantine() {
  if (quarantine_streak_ < kMaxQuarantineStreak) return true;
  if (quarantine_streak_ == kMaxQuarantineStreak) {
    ++quarantine_streak_;  // logged once per streak
    logger_->error(
        "ingest: {} rows in a row failed and were quarantined: this looks like a fault of the "
        "service, not of the rows; the worker stops at the next failing row and retries it",
        kMaxQuarantineStreak);
  }
  return false;
}

IngestWorker::ChunkOutcome IngestWorker::ApplyTransactional(
    std::span<const model::Interaction> items) {
  if (items.empty()) {
    NoteSuccess();
    return {0, false};
  }
  const int64_t start = cursor_.load();
  ChunkCursor cursor{options_.cursor_name, items.back().id};
  StatusOr<size_t> prefix = RunChunkPrefix(items, cursor);
  Status status = prefix.status();
  size_t done = prefix.ok() ? std::min(*prefix, items.size()) : 0;
  const int64_t now_ms = clock_.NowUnixMillis();
  uint64_t applied = done;
  for (size_t i = 0; i < done; ++i) {
    lag_seconds_.Observe({}, static_cast<double>(now_ms - items[i].received_at_ms) / 1000.0);
  }
  if (done > 0) quarantine_streak_ = 0;
  int64_t committed = done > 0 ? items[done - 1].id : start;
  if (!status.ok() && (items.size() > 1 || quarantine_ != nullptr)) {
    // Nothing of the chunk was applied. One interaction per transaction finds the one that
    // fails and lets the ones before it through; a transient error may clear on the way. With
    // a quarantine, a row that fails for a lasting reason is put aside and the next rows go on.
    logger_->warn("ingest: chunk after interaction {} failed, retrying one at a time: {}", start,
                  status.ToString());
    for (; done < items.size(); ++done) {
      cursor.last_id = items[done].id;
      status = RunChunkProcessor(items.subspan(done, 1), &cursor);
      if (status.ok()) {
        quarantine_streak_ = 0;
        lag_seconds_.Observe({}, static_cast<double>(now_ms - items[done].received_at_ms) / 1000.0);
        ++applied;
        committed = items[done].id;
        continue;
      }
      if (quarantine_ == nullptr || !ShouldQuarantine(status) || !MayQuarantine()) break;
      const Status aside = quarantine_->PutAside(items[done].id, items[done].account_id, status,
                                                 options_.cursor_name);
      if (!aside.ok()) {
        status = aside;  // not put aside: the row is retried after the pause, as before
        break;
      }
      ++quarantine_streak_;
      errors_total_.Inc({std::string(chunk_processor_->name())});
      committed = items[done].id;
      status = core::OkStatus();
    }
  }
  if (committed != start) {
    recorded_cursor_ = committed;  // committed with the chunk (or the quarantine row)
    PublishCursor(committed);
    if (applied > 0) processed_total_.Inc({}, applied);
  }
  if (!status.ok()) {
    // Never skipped: the cursor stops before it and the same interaction is retried.
    logger_->error("ingest: interaction {} failed, will retry: {}", items[done].id,
                   status.ToString());
    NoteFailure();
    errors_total_.Inc({std::string(chunk_processor_->name())});
    return {items.size(), true};
  }
  NoteSuccess();
  return {items.size(), false, done < items.size()};
}

void IngestWorker::UpdateLagMetrics(bool force) {
  if (lag_reader_ == nullptr) return;
  const auto now = clock_.SteadyNow();
  if (!force && lag_updated_at_.has_value() && now - *lag_updated_at_ < kLagRefreshInterval) {
    return;
  }
  lag_updated_at_ = now;
  const StatusOr<storage::InboxLag> lag = lag_reader_->Read(cursor_.load(), kMaxLagCount);
  if (!lag.ok()) {
    logger_->warn("ingest: reading the lag failed: {}", lag.status().ToString());
    return;
  }
  lag_interactions_.Set({}, static_cast<double>(lag->pending));
  const double age_s =
      lag->pending == 0
          ? 0.0
          : std::max(0.0, static_cast<double>(clock_.NowUnixMillis() - lag->oldest_received_at_ms) /
                              1000.0);
  oldest_pending_age_seconds_.Set({}, age_s);
}

IngestWorker::ChunkOutcome IngestWorker::SkipToNewest() {
  const int64_t start = cursor_.load();
  // No processor needs the rows, so they are not read back (nor their JSON parsed): only
  // counted, for scrmd_ingest_processed_total. The lag histogram is not observed.
  StatusOr<storage::RowsAfter> rows = store_.SummarizeAfter(start);
  if (!rows.ok()) {
    logger_->error("ingest: reading after interaction {} failed, will retry: {}", start,
                   rows.status().ToString());
    NoteFailure();
    return {0, true};
  }
  // Counted and (maybe) recorded before it is published: whoever WaitForCursor wakes sees the
  // whole pass done.
  const int64_t newest = rows->count > 0 ? rows->last_id : start;
  if (rows->count > 0) processed_total_.Inc({}, static_cast<uint64_t>(rows->count));
  NoteSuccess();
  FlushCursor(/*force=*/false, newest);
  if (newest != start) PublishCursor(newest);
  return {0, false};  // everything committed so far is covered: no further chunk is waiting
}

void IngestWorker::PublishCursor(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);  // WaitForCursor checks under mu_
    cursor_.store(id);
  }
  progress_cv_.notify_all();
}

void IngestWorker::FlushCursor(bool force, std::optional<int64_t> to) {
  const int64_t cursor = to.value_or(cursor_.load());
  if (cursor == recorded_cursor_) return;
  const auto now = clock_.SteadyNow();
  if (!force && recorded_at_.has_value() && now - *recorded_at_ < kIdleCursorFlushInterval) {
    return;
  }
  const Status saved = cursors_.SetCursor(options_.cursor_name, cursor);
  if (!saved.ok()) {
    // The next flush tries again; at worst a restart starts from an older cursor.
    logger_->error("ingest: recording cursor {} failed, will retry: {}", cursor, saved.ToString());
    return;
  }
  recorded_cursor_ = cursor;
  recorded_at_ = now;
}

bool IngestWorker::StepReplay() {
  std::shared_ptr<ReplayJob> job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (replays_.empty()) return false;
    job = replays_.front();
  }
  const ReplayRequest& request = job->request;
  if (!job->begun) {
    job->begun = true;
    job->up_to_id = cursor_.load();
    logger_->info("ingest: replay of received_at [{}, {}) up to interaction {} started",
                  request.from_ms, request.to_ms, job->up_to_id);
  }
  StatusOr<std::vector<model::Interaction>> page =
      store_.ReadRange(request.from_ms, request.to_ms, job->after_id, options_.chunk_size);
  if (!page.ok()) {
    FinishReplay(job, page.status());
  } else {
    bool finished = page->size() < options_.chunk_size;
    for (const model::Interaction& interaction : *page) {
      if (interaction.id > job->up_to_id) {  // not processed a first time yet: left to Run
        finished = true;
        break;
      }
      job->after_id = interaction.id;
      if (request.account_id.has_value() && interaction.account_id != *request.account_id) {
        continue;
      }
      std::string failed_processor;
      const Status status = ProcessOne(interaction, &failed_processor);
      if (!status.ok()) {
        errors_total_.Inc({failed_processor});
        FinishReplay(job, Status(status.code(), "replay stopped at interaction " +
                                                    std::to_string(interaction.id) + ": " +
                                                    status.message()));
        finished = false;
        break;
      }
      ++job->reprocessed;
      replayed_total_.Inc({});
    }
    if (finished) FinishReplay(job, ReplayResult{job->reprocessed, job->up_to_id});
  }
  std::lock_guard<std::mutex> lock(mu_);
  return !replays_.empty();
}

Status IngestWorker::ProcessOne(const model::Interaction& interaction,
                                std::string* failed_processor) {
  if (chunk_processor_ != nullptr) {
    // A replay: one interaction per transaction, the cursor stays where it is.
    const Status status = RunChunkProcessor(std::span<const model::Interaction>(&interaction, 1),
                                            /*cursor=*/nullptr);
    if (status.ok()) return status;
    *failed_processor = std::string(chunk_processor_->name());
    return Status(status.code(), *failed_processor + ": " + status.message());
  }
  for (InteractionProcessor& processor : processors_) {
    Status status;
    try {
      status = processor.Process(interaction);
    } catch (const std::exception& e) {
      // A processor should answer with a Status; an escaped exception must not kill the only
      // thread that drains the inbox.
      status = core::InternalError(std::string("exception: ") + e.what());
    }
    if (!status.ok()) {
      *failed_processor = std::string(processor.name());
      return Status(status.code(), std::string(processor.name()) + ": " + status.message());
    }
  }
  return core::OkStatus();
}

void IngestWorker::FinishReplay(const std::shared_ptr<ReplayJob>& job,
                                StatusOr<ReplayResult> result) {
  if (result.ok()) {
    logger_->info("ingest: replay of received_at [{}, {}) finished: {} reprocessed",
                  job->request.from_ms, job->request.to_ms, result->reprocessed);
  } else {
    logger_->error("ingest: replay of received_at [{}, {}) failed: {}", job->request.from_ms,
                   job->request.to_ms, result.status().ToString());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job->result = std::move(result);
    job->done = true;
    if (!replays_.empty() && replays_.front() == job) replays_.pop_front();
  }
  progress_cv_.notify_all();
}

std::chrono::milliseconds RetryDelay(int consecutive_failures, const IngestWorkerOptions& options) {
  std::chrono::milliseconds delay = options.retry_interval;
  for (int i = 1; i < consecutive_failures && delay < options.max_retry_interval; ++i) {
    delay *= 2;
  }
  return std::min(delay, options.max_retry_interval);
}

void IngestWorker::NoteFailure() {
  ++consecutive_failures_;
  retry_at_ = clock_.SteadyNow() + RetryDelay(consecutive_failures_, options_);
}

void IngestWorker::NoteSuccess() {
  consecutive_failures_ = 0;
  retry_at_.reset();
}

}  // namespace scrm::ingest
