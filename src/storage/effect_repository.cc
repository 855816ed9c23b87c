#include "src/storage/effect_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

// A key recorded before is an expected outcome, reported from "no row changed".
constexpr char kInsertEffect[] =
    "INSERT INTO applied_effects (interaction_id, effect_key) VALUES (?, ?) "
    "ON CONFLICT DO NOTHING";

}  // namespace

core::StatusOr<bool> AppliedEffectRepository::RecordOnce(WriteTxn& txn, int64_t interaction_id,
                                                         std::string_view effect_key) {
  return Guarded([&]() -> core::StatusOr<bool> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertEffect);
    Done done(insert);
    insert.bind(1, interaction_id);
    BindText(insert, 2, effect_key);
    return insert.exec() != 0;
  });
}

}  // namespace scrm::storage
