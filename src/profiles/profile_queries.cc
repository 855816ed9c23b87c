#include "src/profiles/profile_queries.h"

#include "src/storage/profile_store.h"

#include <string>
#include <utility>

#include "src/profiles/profile_ops.h"
#include "src/storage/list_limit.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {

static_assert(kMaxPageSize == storage::kMaxListLimit, "the API's page bound is the store's");

using core::StatusOr;

StatusOr<CustomerView> ProfileQueries::GetCustomer(int64_t customer_id) const {
  SCRM_ASSIGN_OR_RETURN(model::CustomerProfile profile, store_.GetProfile(customer_id));
  const int64_t now_ms = clock_.NowUnixMillis();
  CustomerView view;
  view.customer = std::move(profile.customer);
  view.identities = std::move(profile.identities);
  for (const model::CustomerTagDetail& tag : profile.tags)
    view.tags.push_back(internal::ToTagView(tag, now_ms));
  view.followers = std::move(profile.followers);
  for (model::Follower& f : view.followers) {
    f.is_owner = !f.userid.empty() && f.userid == view.customer.owner_userid;
  }
  view.tasks = std::move(profile.tasks);
  view.merges = std::move(profile.merges);
  return view;
}

StatusOr<std::vector<model::TimelineEntry>> ProfileQueries::ListTimeline(int64_t customer_id,
                                                                         int64_t after_id,
                                                                         size_t limit) const {
  return store_.timeline.List(customer_id, after_id, limit);
}

StatusOr<std::vector<model::Customer>> ProfileQueries::ListCustomers(
    const CustomerQuery& query) const {
  storage::CustomerFilter filter;
  filter.tag_id = query.tag_id;
  filter.stage = query.stage;
  filter.owner_userid = query.owner_userid;
  filter.query = query.query;
  filter.updated_after_ms = query.updated_after_ms;
  filter.after_id = query.after_id;
  filter.limit = query.limit;
  if (query.tag_id.has_value() && query.match != TagMatch::kAny) {
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::TagDetail> tag,
                          store_.tags.FindById(*query.tag_id));
    if (!tag.has_value()) return std::vector<model::Customer>();
    const int64_t now_ms = clock_.NowUnixMillis();
    const int64_t half_life_ms = HalfLifeMs(tag->group);
    const double threshold = tag->Threshold();
    const bool want_held = query.match == TagMatch::kHeld;
    filter.tag_score_filter = [=](double score, int64_t updated_at_ms, bool decays) {
      const double decayed =
          tagger::DecayedScore(score, updated_at_ms, now_ms, decays ? half_life_ms : 0);
      return tagger::IsHeld(decayed, threshold) == want_held;
    };
  }
  return store_.customers.List(filter);
}

StatusOr<std::optional<int64_t>> ProfileQueries::FindCustomer(std::string_view platform,
                                                              std::string_view account_id,
                                                              model::IdentityKind kind,
                                                              std::string_view value) const {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::Identity> identity,
                        store_.identities.Find(platform, account_id, kind, value));
  if (!identity.has_value()) return std::optional<int64_t>();
  return std::optional<int64_t>(identity->customer_id);
}

StatusOr<std::vector<model::TagDetail>> ProfileQueries::ListTags() const {
  return store_.tags.List();
}

StatusOr<std::vector<model::TagDetail>> ProfileQueries::ListTags(const TagQuery& query) const {
  storage::TagFilter filter;
  filter.group = query.group;
  filter.after_id = query.after_id;
  filter.limit = query.limit;
  return store_.tags.List(filter);
}

StatusOr<model::TagDetail> ProfileQueries::GetTag(int64_t tag_id) const {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag, store_.tags.FindById(tag_id));
  if (!tag.has_value()) return core::NotFoundError("no tag " + std::to_string(tag_id));
  return std::move(tag).value();
}

StatusOr<std::vector<model::TagGroup>> ProfileQueries::ListTagGroups() const {
  return store_.tags.ListGroups();
}

StatusOr<std::optional<model::TagDetail>> ProfileQueries::FindTag(const model::TagRef& tag) const {
  return store_.tags.Find(tag.group, tag.name);
}

StatusOr<std::vector<model::FollowUpTask>> ProfileQueries::ListTasks(const TaskQuery& query) const {
  storage::TaskFilter filter;
  filter.owner_userid = query.owner_userid;
  filter.status = query.status;
  filter.after_id = query.after_id;
  filter.limit = query.limit;
  return store_.tasks.List(filter);
}

}  // namespace scrm::profiles
