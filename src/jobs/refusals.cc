#include "src/jobs/refusals.h"

#include <map>

namespace scrm::jobs {

core::StatusOr<std::optional<int64_t>> RecordSendRefusal(profiles::ProfileService& profiles,
                                                         const Recipient& recipient,
                                                         const platform::ApiError& error) {
  if (error.outcome != platform::Outcome::kRefused) {
    return core::InvalidArgumentError("only a refused send is recorded on the customer, not " +
                                      std::string(platform::OutcomeName(error.outcome)));
  }
  if (!platform::IsUnreachable(recipient.platform, error.errcode)) return std::optional<int64_t>();
  SCRM_ASSIGN_OR_RETURN(
      const std::optional<int64_t> customer,
      profiles.queries.FindCustomer(model::PlatformName(recipient.platform), recipient.account_id,
                                    recipient.kind, recipient.value));
  if (!customer.has_value()) return std::optional<int64_t>();
  SCRM_RETURN_IF_ERROR(profiles.editor.SetAttributes(
      *customer,
      {{kSendRefusedAttributePrefix + recipient.account_id, std::to_string(error.errcode)}}));
  return customer;
}

}  // namespace scrm::jobs
