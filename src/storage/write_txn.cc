#include "src/storage/write_txn.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "src/storage/database.h"

namespace scrm::storage {

SQLite::Database& Session::connection() const { return statements_.connection(); }

bool WriteTxn::OthersWaiting() const { return database_.WriterWanted(); }

int64_t WriteTxn::LastInsertRowid() const { return connection().getLastInsertRowid(); }

}  // namespace scrm::storage
