// ProfileService: the profile services over one store, rule holder, clock and change sinks,
// assembled for callers that use several of them (src/app, the jobs, the tests). Each piece is
// its own class with its own contract:
//   identities — IdentityService: identity resolution, identities, unionid links, backfilled
//                customers, merge / undo
//   ingest     — InteractionApplier: interactions -> profiles (the ingest worker's path)
//   editor     — ProfileEditor: manual tags, platform tags, attributes, mappings, groups, tasks
//   queries    — ProfileQueries: the reads of the API and the jobs
// Every write hands its ProfileChanges to the sinks in its transaction (profile_change.h).
#pragma once

#include "src/core/clock.h"
#include "src/profiles/identity_service.h"
#include "src/profiles/interaction_applier.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_editor.h"
#include "src/profiles/profile_queries.h"
#include "src/profiles/profile_types.h"
#include "src/profiles/rule_set.h"
#include "src/storage/profile_store.h"

namespace scrm::profiles {

// Thread-safety as each piece's. Does not own the store, rule holder, clock or sinks, which must
// outlive it; the sinks are registered before any thread uses the service.
struct ProfileService {
  ProfileService(storage::ProfileStore& store, const RuleSetHolder& rules, const core::Clock& clock,
                 const ChangeSinks& sinks, const ProfileServiceOptions& options = {})
      : identities(store, clock, sinks),
        ingest(store, rules, clock, sinks, identities, options),
        editor(store, clock, sinks, options),
        queries(store, clock) {}

  IdentityService identities;  // before ingest, which resolves identities through it
  InteractionApplier ingest;
  ProfileEditor editor;
  ProfileQueries queries;
};

}  // namespace scrm::profiles
