#include "src/jobs/backfill.h"

#include <algorithm>
#include <map>

#include "src/jobs/enrich_handler.h"

namespace scrm::jobs {
namespace {

constexpr size_t kMaxUseridsPerCall = 100;  // batch/get_by_user: <= 100 userids (§4.1)
constexpr int64_t kPageLimit = 100;         // and limit <= 100
// A platform that keeps answering with a new cursor would otherwise keep us here forever.
constexpr int64_t kMaxPagesPerBatch = 100000;

bool IsUnknownErrcode(const platform::ApiError& error) {
  return error.outcome == platform::Outcome::kRejected && error.errcode != 0 &&
         !platform::IsKnownErrcode(model::Platform::kWecom, error.errcode);
}

}  // namespace

core::StatusOr<BackfillReport> BackfillWecom(platform::WecomClient& client,
                                             profiles::ProfileService& profiles,
                                             const std::string& account_id,
                                             const std::vector<std::string>& userids) {
  BackfillReport report;
  platform::CallOptions options;
  options.priority = platform::Priority::kBulk;
  for (size_t first = 0; first < userids.size(); first += kMaxUseridsPerCall) {
    const size_t last = std::min(userids.size(), first + kMaxUseridsPerCall);
    const std::vector<std::string> batch(userids.begin() + first, userids.begin() + last);
    std::string cursor;
    for (int64_t page = 0; page < kMaxPagesPerBatch; ++page) {
      auto reply = client.BatchGetByUser(batch, cursor, kPageLimit, options);
      // A read: an errcode nobody listed is asked again, a bounded number of times.
      for (int asked = 1;
           !reply.ok() && IsUnknownErrcode(reply.error()) && asked < kUnknownErrcodeReadAttempts;
           ++asked) {
        reply = client.BatchGetByUser(batch, cursor, kPageLimit, options);
      }
      if (!reply.ok()) return reply.error().ToStatus();
      ++report.pages;
      for (const auto& item : reply.value().items) {
        ++report.contacts;
        const platform::WecomExternalContact& contact = item.contact;
        SCRM_ASSIGN_OR_RETURN(const profiles::IdentityService::EnsuredCustomer ensured,
                              profiles.identities.EnsureCustomer(
                                  model::PlatformName(model::Platform::kWecom), account_id,
                                  model::IdentityKind::kExternalUserid, contact.external_userid));
        if (ensured.created) ++report.created;
        int64_t customer_id = ensured.customer_id;
        if (!contact.unionid.empty()) {
          SCRM_ASSIGN_OR_RETURN(const profiles::IdentityService::UnionidLink link,
                                profiles.identities.LinkUnionid(customer_id, contact.unionid));
          if (link.merge.has_value()) ++report.merged;
          customer_id = link.customer_id;
        }
        if (!contact.name.empty()) {
          SCRM_RETURN_IF_ERROR(
              profiles.editor.SetAttributes(customer_id, {{"wecom.name", contact.name}}));
        }
      }
      const std::string& next = reply.value().next_cursor;
      if (next.empty() || next == cursor) break;
      cursor = next;
    }
  }
  return report;
}

}  // namespace scrm::jobs
