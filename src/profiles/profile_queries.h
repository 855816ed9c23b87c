// ProfileQueries: the reads of the REST API and the jobs on profiles — a customer with decayed
// tag scores, the timeline, customer / tag / task lists, lookups by identity and by tag name.
// Filters and pages are profiles types (profile_types.h), never storage's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/profiles/profile_types.h"

namespace scrm::storage {
class ProfileStore;
}  // namespace scrm::storage

namespace scrm::profiles {

// Thread-safety: any thread; each read runs on a read connection of the store's Database. Does
// not own the store or clock, which must outlive it.
class ProfileQueries {
 public:
  ProfileQueries(storage::ProfileStore& store, const core::Clock& clock)
      : store_(store), clock_(clock) {}

  // NotFound for an unknown id. A merged customer is returned as stored (merged_into set).
  core::StatusOr<CustomerView> GetCustomer(int64_t customer_id) const;
  // Entries with id > after_id ascending, 1..kMaxPageSize.
  core::StatusOr<std::vector<model::TimelineEntry>> ListTimeline(int64_t customer_id,
                                                                 int64_t after_id,
                                                                 size_t limit) const;
  // With query.tag_id, query.match says which scores on that tag count: held now (decayed score
  // at or above the threshold), faded (a score below it), or any. InvalidArgument for a limit
  // out of range.
  core::StatusOr<std::vector<model::Customer>> ListCustomers(const CustomerQuery& query) const;
  // The customer an identity resolves to; nullopt when unknown.
  core::StatusOr<std::optional<int64_t>> FindCustomer(std::string_view platform,
                                                      std::string_view account_id,
                                                      model::IdentityKind kind,
                                                      std::string_view value) const;
  core::StatusOr<std::vector<model::TagDetail>> ListTags() const;
  // A page of tags by id (GET /api/v1/tags). InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::TagDetail>> ListTags(const TagQuery& query) const;
  // NotFound for an unknown id.
  core::StatusOr<model::TagDetail> GetTag(int64_t tag_id) const;
  // Every tag group, by id.
  core::StatusOr<std::vector<model::TagGroup>> ListTagGroups() const;
  // The tag with this group and name; nullopt when it was never used.
  core::StatusOr<std::optional<model::TagDetail>> FindTag(const model::TagRef& tag) const;
  // InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::FollowUpTask>> ListTasks(const TaskQuery& query) const;

 private:
  storage::ProfileStore& store_;
  const core::Clock& clock_;
};

}  // namespace scrm::profiles
