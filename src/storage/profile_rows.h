// The row layouts that more than one profile repository reads (internal to src/storage): the
// customer columns (customers, and the identity lookup that joins them) and the tag-with-group
// columns (tags, and customer tags with their definitions).
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <string>

#include "src/core/status.h"
#include "src/model/customer.h"

// Column lists spliced into the repositories' SQL constants (string literal concatenation).
#define SCRM_CUSTOMER_COLUMNS                                                           \
  "id, stage, stage_reason, stage_staff, owner_userid, attributes_json, "               \
  "first_interaction_at_ms, last_interaction_at_ms, interaction_count, message_count, " \
  "event_count, order_count, paid_order_count, created_at_ms, updated_at_ms, merged_into, channel"
#define SCRM_CUSTOMER_COLUMNS_OF_C                                                       \
  "c.id, c.stage, c.stage_reason, c.stage_staff, c.owner_userid, c.attributes_json, "    \
  "c.first_interaction_at_ms, c.last_interaction_at_ms, c.interaction_count, "           \
  "c.message_count, c.event_count, c.order_count, c.paid_order_count, c.created_at_ms, " \
  "c.updated_at_ms, c.merged_into, c.channel"
#define SCRM_TAG_DETAIL_COLUMNS                                                        \
  "t.id, t.group_id, t.name, t.threshold, t.wecom_tag_id, t.oa_tag_id, g.id, g.name, " \
  "g.half_life_days, g.threshold, g.wecom_group_id"

namespace scrm::storage {

// Columns ReadCustomer reads (SCRM_CUSTOMER_COLUMNS); a query's own columns follow them.
inline constexpr int kCustomerColumnCount = 17;

// customers.attributes_json: "{}" for none (most customers: no JSON library involved).
std::string AttributesToJson(const std::map<std::string, std::string>& attributes);

// A row of SCRM_CUSTOMER_COLUMNS (columns 0..16). Internal for an unknown stage or unreadable
// attributes.
core::StatusOr<model::Customer> ReadCustomer(const SQLite::Statement& row);

// Columns first..first+10 of SCRM_TAG_DETAIL_COLUMNS.
model::TagDetail ReadTagDetail(const SQLite::Statement& row, int first);

}  // namespace scrm::storage
