#include "src/storage/profile_store.h"

namespace scrm::storage {

ProfileStore::ProfileStore(Database& database)
    : db(database),
      customers(database),
      identities(database),
      tags(database),
      timeline(database),
      tasks(database),
      merges(database),
      outbox(database),
      tag_pushes(database),
      cursors(database) {}

core::StatusOr<model::CustomerProfile> ProfileStore::GetProfile(Session& session,
                                                                int64_t customer_id) {
  model::CustomerProfile profile;
  SCRM_ASSIGN_OR_RETURN(profile.customer, customers.Get(session, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.identities, identities.List(session, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.tags, customer_tags.ListDetails(session, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.followers, followers.List(session, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.tasks, tasks.ListOfCustomer(session, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.merges, merges.ListOfCustomer(session, customer_id));
  return profile;
}

core::StatusOr<model::CustomerProfile> ProfileStore::GetProfile(int64_t customer_id) {
  core::StatusOr<model::CustomerProfile> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db.WithSession([&](Session& session) -> core::Status {
    result = GetProfile(session, customer_id);
    return core::OkStatus();
  }));
  return result;
}

}  // namespace scrm::storage
