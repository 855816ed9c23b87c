// The `campaigns` section of the service configuration: approval and the plan's limits
// (docs/campaigns.md). Parsed and validated by campaigns_config.cc (see config.h for sources
// and error messages).
#pragma once

#include <string>

namespace scrm::config {

struct CampaignsConfig {
  // "required": a marketing key creates and submits, an admin key approves, and no key approves
  // a campaign it created; "off": a submitted campaign is approved at once.
  std::string approval = "required";
  // The most campaign messages one customer gets in 30 days across every campaign (WeChat's own
  // limit on OA mass sends is 4 a month); 0 = no cap. 0..1000.
  int monthly_cap = 4;
  // Deliveries written per transaction when a campaign is frozen at launch. 100..100000.
  int freeze_chunk = 5000;
  // The most recipients one campaign may have. 1..10000000.
  int max_audience = 2000000;
};

}  // namespace scrm::config
