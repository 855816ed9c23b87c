#include "src/profiles/profile_change.h"

#include "src/storage/profile_store.h"

namespace scrm::profiles {

core::Status ChangeSinks::Emit(storage::WriteTxn& txn, const ProfileChange& change) const {
  for (ChangeSink* sink : sinks_) SCRM_RETURN_IF_ERROR(sink->OnChange(txn, change));
  return core::OkStatus();
}

}  // namespace scrm::profiles
