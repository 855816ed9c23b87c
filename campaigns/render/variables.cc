#include "campaigns/render/variables.h"

#include <cmath>
#include <cstdio>

namespace scrm::render {
namespace {

bool ValidKeyPart(std::string_view part) {
  if (part.empty() || part.size() > kMaxVariableKeyBytes) return false;
  for (const char c : part) {
    const auto byte = static_cast<unsigned char>(c);
    // Mustache cannot hold these in a name: braces end the tag, spaces are trimmed.
    if (byte <= 0x20 || byte == 0x7f || c == '{' || c == '}') return false;
  }
  return true;
}

std::string FormatScore(double score) {
  if (!std::isfinite(score)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", score);
  std::string text(buf);
  // "2.50" -> "2.5", "3.00" -> "3"
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

std::optional<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace

Placeholders SamplePlaceholders() {
  Placeholders samples;
  // .invalid never resolves (RFC 2606): a preview link that escapes into the world goes nowhere.
  samples.link = "https://sample.invalid/link";
  samples.coupon = "SAMPLE-COUPON";
  samples.referral_code = "SAMPLE-REFERRAL";
  return samples;
}

std::optional<Variable> ParseVariable(std::string_view name) {
  static const std::pair<std::string_view, VariableKind> kFixed[] = {
      {"customer.name", VariableKind::kCustomerName},
      {"customer.id", VariableKind::kCustomerId},
      {"customer.stage", VariableKind::kCustomerStage},
      {"owner.name", VariableKind::kOwnerName},
      {"owner.userid", VariableKind::kOwnerUserid},
      {"link", VariableKind::kLink},
      {"coupon", VariableKind::kCoupon},
      {"referral_code", VariableKind::kReferralCode},
  };
  for (const auto& [fixed, kind] : kFixed) {
    if (name == fixed) return Variable{kind, ""};
  }
  if (name.starts_with("attr.")) {
    const std::string_view key = name.substr(5);
    if (!ValidKeyPart(key)) return std::nullopt;
    return Variable{VariableKind::kAttribute, std::string(key)};
  }
  if (name.starts_with("tag.")) {
    const std::string_view rest = name.substr(4);
    const size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const std::string_view field = rest.substr(dot + 1);
    const std::string_view key = rest.substr(0, dot);
    VariableKind kind;
    if (field == "score") {
      kind = VariableKind::kTagScore;
    } else if (field == "held") {
      kind = VariableKind::kTagHeld;
    } else {
      return std::nullopt;
    }
    const size_t slash = key.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    if (!ValidKeyPart(key.substr(0, slash)) || !ValidKeyPart(key.substr(slash + 1))) {
      return std::nullopt;
    }
    return Variable{kind, std::string(key)};
  }
  return std::nullopt;
}

bool IsPlaceholder(const Variable& variable) {
  return variable.kind == VariableKind::kLink || variable.kind == VariableKind::kCoupon ||
         variable.kind == VariableKind::kReferralCode;
}

std::optional<std::string> ValueOf(const Variable& variable, const RenderProfile& profile,
                                   const Placeholders& placeholders) {
  switch (variable.kind) {
    case VariableKind::kCustomerName: return NonEmpty(profile.name);
    case VariableKind::kCustomerId:
      if (profile.customer_id == 0) return std::nullopt;
      return std::to_string(profile.customer_id);
    case VariableKind::kCustomerStage: return NonEmpty(profile.stage);
    case VariableKind::kAttribute: {
      const auto it = profile.attributes.find(variable.key);
      if (it == profile.attributes.end()) return std::nullopt;
      return NonEmpty(it->second);
    }
    case VariableKind::kTagScore: {
      const auto it = profile.tags.find(variable.key);
      return FormatScore(it == profile.tags.end() ? 0.0 : it->second.score);
    }
    case VariableKind::kTagHeld: {
      const auto it = profile.tags.find(variable.key);
      if (it == profile.tags.end() || !it->second.held) return std::nullopt;
      return std::string("true");
    }
    case VariableKind::kOwnerName: return NonEmpty(profile.owner_name);
    case VariableKind::kOwnerUserid: return NonEmpty(profile.owner_userid);
    case VariableKind::kLink: return placeholders.link;
    case VariableKind::kCoupon: return placeholders.coupon;
    case VariableKind::kReferralCode: return placeholders.referral_code;
  }
  return std::nullopt;
}

}  // namespace scrm::render
