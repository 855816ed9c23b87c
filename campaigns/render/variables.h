// The variables a template may use (docs/templates.md "Variables"), the profile values they are
// read from (RenderProfile, filled by the caller from the customer's profile) and the
// placeholders a campaign fills (Placeholders). A variable name not listed here is refused when a
// template is saved. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "campaigns/render/escape.h"

namespace scrm::render {

// A customer's score on one tag, decayed to the render's moment, and whether it is held.
struct TagValue {
  double score = 0;
  bool held = false;

  friend bool operator==(const TagValue&, const TagValue&) = default;
};

// What the profile variables read. Values that are "" count as absent: a {{#...}} section over
// them is skipped and the variable renders nothing.
struct RenderProfile {
  int64_t customer_id = 0;
  std::string name;   // {{customer.name}}: the display name (docs/templates.md says which)
  std::string stage;  // {{customer.stage}}: "new", "engaged", ... (model::LifecycleStageName)
  std::map<std::string, std::string> attributes;  // {{attr.<key>}}
  std::map<std::string, TagValue> tags;           // "<group>/<name>" -> {{tag.<group>/<name>.*}}
  std::string owner_userid;                       // {{owner.userid}}
  std::string owner_name;                         // {{owner.name}}
};

// The values only a campaign knows. nullopt = not given: a template that uses it does not render
// (FailedPrecondition), so that no message goes out with an empty link or coupon.
struct Placeholders {
  std::optional<std::string> link;           // {{link}}: the tracked link, an http(s) URL
  std::optional<std::string> coupon;         // {{coupon}}: the coupon code
  std::optional<std::string> referral_code;  // {{referral_code}}
};

// The clearly marked values a preview renders for the placeholders.
Placeholders SamplePlaceholders();

enum class VariableKind {
  kCustomerName,
  kCustomerId,
  kCustomerStage,
  kAttribute,  // key: the attribute key
  kTagScore,   // key: "<group>/<name>"
  kTagHeld,    // key: "<group>/<name>"
  kOwnerName,
  kOwnerUserid,
  kLink,
  kCoupon,
  kReferralCode,
};

struct Variable {
  VariableKind kind = VariableKind::kCustomerName;
  std::string key;

  friend bool operator==(const Variable&, const Variable&) = default;
};

// Longest attribute key, tag group and tag name a variable may name (bytes).
inline constexpr size_t kMaxVariableKeyBytes = 128;

// The variable a mustache name denotes: "customer.name", "attr.city", "tag.兴趣/产品A.score",
// "link", ... nullopt for anything else. A tag variable splits at the first "/" (the group has
// none) and at the last "." (the name may hold dots: "tag.版本/v1.2.held").
std::optional<Variable> ParseVariable(std::string_view name);

// The value of `variable` for a profile, unescaped; nullopt when absent (no such attribute, an
// empty name, a tag not held for .held, a placeholder not given). A tag the customer has no score
// on has score "0". Scores print with at most two decimals ("2.5", "3").
std::optional<std::string> ValueOf(const Variable& variable, const RenderProfile& profile,
                                   const Placeholders& placeholders);

// Whether `variable` is one of the campaign's placeholders (link, coupon, referral_code).
bool IsPlaceholder(const Variable& variable);

}  // namespace scrm::render
