#include "src/model/customer.h"

#include <array>
#include <utility>

namespace scrm::model {
namespace {

template <typename E, size_t N>
std::string_view NameIn(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names[0].second;
}

template <typename E, size_t N>
std::optional<E> ParseIn(const std::array<std::pair<E, std::string_view>, N>& names,
                         std::string_view name) {
  for (const auto& [v, n] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<IdentityKind, std::string_view>, 5> kIdentityKindNames = {{
    {IdentityKind::kOpenid, "openid"},
    {IdentityKind::kExternalUserid, "external_userid"},
    {IdentityKind::kUnionid, "unionid"},
    {IdentityKind::kPhone, "phone"},
    {IdentityKind::kExternal, "external"},
}};

constexpr std::array<std::pair<TagSource, std::string_view>, 4> kTagSourceNames = {{
    {TagSource::kRule, "rule"},
    {TagSource::kManual, "manual"},
    {TagSource::kPlatform, "platform"},
    {TagSource::kImport, "import"},
}};

constexpr std::array<std::pair<TaskStatus, std::string_view>, 3> kTaskStatusNames = {{
    {TaskStatus::kOpen, "open"},
    {TaskStatus::kDone, "done"},
    {TaskStatus::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<FollowerState, std::string_view>, 5> kFollowerStateNames = {{
    {FollowerState::kActive, "active"},
    {FollowerState::kHalf, "half"},
    {FollowerState::kDeletedByStaff, "deleted_by_staff"},
    {FollowerState::kDeletedByCustomer, "deleted_by_customer"},
    {FollowerState::kUnsubscribed, "unsubscribed"},
}};

}  // namespace

std::string_view IdentityKindName(IdentityKind kind) { return NameIn(kIdentityKindNames, kind); }
std::optional<IdentityKind> ParseIdentityKind(std::string_view name) {
  return ParseIn(kIdentityKindNames, name);
}

std::string_view TagSourceName(TagSource source) { return NameIn(kTagSourceNames, source); }
std::optional<TagSource> ParseTagSource(std::string_view name) {
  return ParseIn(kTagSourceNames, name);
}

std::string_view TaskStatusName(TaskStatus status) { return NameIn(kTaskStatusNames, status); }
std::optional<TaskStatus> ParseTaskStatus(std::string_view name) {
  return ParseIn(kTaskStatusNames, name);
}

std::string_view FollowerStateName(FollowerState state) {
  return NameIn(kFollowerStateNames, state);
}
std::optional<FollowerState> ParseFollowerState(std::string_view name) {
  return ParseIn(kFollowerStateNames, name);
}

bool IsConnected(FollowerState state) {
  return state == FollowerState::kActive || state == FollowerState::kHalf;
}

}  // namespace scrm::model
