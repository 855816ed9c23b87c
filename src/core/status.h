// Status and StatusOr<T>: errors as values across module boundaries (canonical codes as in abseil).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace scrm::core {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kDeadlineExceeded,
  kUnavailable,
  kUnauthenticated,
  kInternal,
};

// Stable lower-case name of a code ("invalid_argument"), used in JSON error bodies and metrics.
std::string_view StatusCodeName(StatusCode code);

// The result of an operation that can fail. Cheap to copy when ok. Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: message" (or "ok").
  std::string ToString() const;

  // Explicitly drops a status the caller decided not to act on.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status CancelledError(std::string message);
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status DeadlineExceededError(std::string message);
Status UnavailableError(std::string message);
Status UnauthenticatedError(std::string message);
Status InternalError(std::string message);

// Holds either a value or a non-ok Status. Accessing value() of an error is a broken
// invariant and aborts (callers check ok() first or use SCRM_ASSIGN_OR_RETURN).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}             // NOLINT: implicit by design
  StatusOr(T&& value) : value_(std::move(value)) {}       // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "StatusOr built from ok status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& {
    CheckValue();
    return *value_;
  }
  T& value() & {
    CheckValue();
    return *value_;
  }
  T&& value() && {
    CheckValue();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckValue() const {
    if (!value_.has_value()) {
      std::fprintf(stderr, "StatusOr::value() on error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const StatusOr<T>& s) {
  return s.status();
}
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace internal

}  // namespace scrm::core

#define SCRM_STATUS_CONCAT_INNER(a, b) a##b
#define SCRM_STATUS_CONCAT(a, b) SCRM_STATUS_CONCAT_INNER(a, b)

// Returns the Status (of a Status or StatusOr expression) from the enclosing function if not ok.
#define SCRM_RETURN_IF_ERROR(expr)                                \
  do {                                                            \
    const auto& scrm_status_tmp_ = (expr);                        \
    if (!::scrm::core::internal::AsStatus(scrm_status_tmp_).ok()) \
      return ::scrm::core::internal::AsStatus(scrm_status_tmp_);  \
  } while (false)

// `SCRM_ASSIGN_OR_RETURN(auto x, Foo());` declares/assigns the value or returns the error.
#define SCRM_ASSIGN_OR_RETURN(lhs, expr) \
  SCRM_ASSIGN_OR_RETURN_IMPL(SCRM_STATUS_CONCAT(scrm_statusor_, __LINE__), lhs, expr)
#define SCRM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

// For broken invariants only (never for untrusted input): prints and aborts.
#define SCRM_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) ::scrm::core::internal::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (false)
