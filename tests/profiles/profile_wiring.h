// The profile services wired as src/app wires them, for the tests of profiles, jobs and the API:
// the enrichment and tag push enqueuers registered as change sinks (they do nothing for an
// account outside their sets), and room for a test's own sink.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "src/core/clock.h"
#include "src/profiles/enrich_enqueuer.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_service.h"
#include "src/profiles/rule_set.h"
#include "src/profiles/tag_push_enqueuer.h"
#include "src/storage/profile_store.h"

namespace scrm::profiles::testing {

// The service's options and the accounts each enqueuer serves (src/app: those with an API
// secret).
struct ServiceOptions : ProfileServiceOptions {
  std::set<std::string, std::less<>> enrichment_accounts;
  std::set<std::string, std::less<>> tag_push_accounts;
};

// Members are initialised in declaration order: the sinks exist before the service uses them.
struct WiredProfiles {
  WiredProfiles(storage::ProfileStore& store, const RuleSetHolder& rules, const core::Clock& clock,
                const ServiceOptions& options)
      : enrich(store, options.enrichment_accounts),
        tag_push(store, clock, options.tag_push_accounts),
        sinks(Registered(enrich, tag_push)),
        service(store, rules, clock, sinks, options) {}

  EnrichEnqueuer enrich;
  TagPushEnqueuer tag_push;
  ChangeSinks sinks;  // a test may Add its own sink before it applies anything
  ProfileService service;

 private:
  static ChangeSinks Registered(EnrichEnqueuer& enrich, TagPushEnqueuer& tag_push) {
    ChangeSinks sinks;
    sinks.Add(enrich);
    sinks.Add(tag_push);
    return sinks;
  }
};

}  // namespace scrm::profiles::testing
