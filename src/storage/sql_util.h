// Small helpers every repository of src/storage uses to run its statements (internal to storage:
// it includes SQLiteCpp): the reset guard of a cached statement, binding optional values, the
// list limit check and moving rows between customers by id.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"
#include "src/storage/list_limit.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Resets a statement of a StatementCache (Prepared) when the scope ends, also when a step threw,
// so that no read cursor outlives its use and the next user finds it ready. tryReset: a statement
// whose last step failed reports that failure again on reset, which is not news here. Every use
// binds every parameter (NULL explicitly), so the bindings need no clearing.
class Done {
 public:
  explicit Done(SQLite::Statement& statement) : statement_(statement) {}
  ~Done() { statement_.tryReset(); }
  Done(const Done&) = delete;
  Done& operator=(const Done&) = delete;

 private:
  SQLite::Statement& statement_;
};

inline void BindText(SQLite::Statement& st, int index, std::string_view text) {
  st.bind(index, std::string(text));
}

inline void BindOptionalText(SQLite::Statement& st, int index,
                             const std::optional<std::string>& text) {
  if (text.has_value()) {
    st.bind(index, *text);
  } else {
    st.bind(index);
  }
}

inline void BindOptionalInt(SQLite::Statement& st, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    st.bind(index, *value);
  } else {
    st.bind(index);
  }
}

inline void BindOptionalDouble(SQLite::Statement& st, int index,
                               const std::optional<double>& value) {
  if (value.has_value()) {
    st.bind(index, *value);
  } else {
    st.bind(index);
  }
}

inline std::optional<int64_t> OptionalInt(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

// InvalidArgument unless 1 <= limit <= kMaxListLimit.
core::Status ValidateLimit(size_t limit);

// Moving a customer's rows of one table to another customer (a merge) and back (its undo).
// MoveAllRows runs `select_ids` (?1 = from, and ?2 = to when select_binds_to: a query that leaves
// behind the rows `to` has already) and `move` (UPDATE ... SET customer_id = ?1 WHERE id = ?2)
// for each id it returns; the ids moved, ascending. MoveRowsById runs `move` for the given ids.
core::StatusOr<std::vector<int64_t>> MoveAllRows(WriteTxn& txn, const char* select_ids,
                                                 const char* move, int64_t from, int64_t to,
                                                 bool select_binds_to);
core::Status MoveRowsById(WriteTxn& txn, const char* move, std::span<const int64_t> ids,
                          int64_t to);

}  // namespace scrm::storage
