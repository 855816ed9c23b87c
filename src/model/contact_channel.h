// ContactChannel: a way for people to become contacts that scrmd created and attributes arrivals
// to (渠道活码, docs/campaigns.md "Channels and welcome messages"): a WeCom 联系我 contact way or
// an OA parametric QR code, with the welcome message, default tags and owner rule of the people
// who arrive through it. Plain data; created and retired by campaigns/engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/model/platform.h"
#include "src/model/tag_rule.h"

namespace scrm::model {

// Who owns a customer who arrives through a WeCom contact way (docs/campaigns.md). All three are
// carried by the contact way's members, so the platform's own assignment does the work and the
// customer's owner is the member who added them (profiles: the first WeCom follower).
enum class OwnerRule {
  kAdder,       // "adder": the member who added the customer (any of the members)
  kFixed,       // "fixed": exactly one member, who adds and owns everyone
  kRoundRobin,  // "round_robin": two or more members; WeCom spreads the scans over them
};
// The spellings above: stable, stored and in the API.
std::string_view OwnerRuleName(OwnerRule rule);
std::optional<OwnerRule> ParseOwnerRule(std::string_view name);

struct ContactChannel {
  int64_t id = 0;
  std::string name;        // for people: "Expo 2026 booth"
  std::string account_id;  // the configured account that created it
  Platform platform = Platform::kWecom;
  // Unique per account: WeCom State (<= 30 characters), OA scene_str (1..64 bytes). Arrivals
  // carry it back (add_external_contact State, subscribe / SCAN EventKey).
  std::string state;
  int64_t welcome_template_id = 0;   // 0 = no welcome message
  std::vector<TagRef> default_tags;  // held (manual, weight 1) by everyone who arrives
  OwnerRule owner_rule = OwnerRule::kAdder;
  std::vector<std::string> members;  // WeCom userids the code adds; OA: none
  bool skip_verify = true;           // WeCom: added without the member's confirmation
  bool temporary = false;            // OA: temporary QR code; WeCom: temp-session contact way
  int64_t expires_in_s = 0;          // temporary only (0 = the platform's default / longest)
  std::string platform_id;           // WeCom config_id, OA ticket
  std::string qr_image;              // the code's image URL
  std::string qr_content;            // OA: the URL the code encodes
  bool retired = false;              // retired: no welcome, no tags; arrivals are still counted
  int64_t retired_at_ms = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  friend bool operator==(const ContactChannel&, const ContactChannel&) = default;
};

// A channel's arrivals (GET /api/v1/channels/{id}/stats): follow relations that began through
// it (adds), the ones of those that ended since (deletes), and adds - deletes (net).
struct ContactChannelStats {
  int64_t channel_id = 0;
  int64_t adds = 0;
  int64_t deletes = 0;
  int64_t net = 0;
  int64_t customers = 0;  // distinct customers among the adds
  int64_t welcomes_sent = 0;
  int64_t welcomes_failed = 0;  // expired, refused (41051), unknown or failed

  friend bool operator==(const ContactChannelStats&, const ContactChannelStats&) = default;
};

}  // namespace scrm::model
