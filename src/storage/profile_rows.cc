#include "src/storage/profile_rows.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "src/storage/sql_util.h"

namespace scrm::storage {
namespace {

using nlohmann::json;

constexpr char kEmptyAttributes[] = "{}";

core::StatusOr<std::map<std::string, std::string>> AttributesFromJson(const std::string& text,
                                                                      int64_t customer_id) {
  if (text == kEmptyAttributes) return std::map<std::string, std::string>();
  const json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return core::InternalError("customer " + std::to_string(customer_id) +
                               " has unreadable attributes_json");
  }
  std::map<std::string, std::string> attributes;
  for (const auto& item : object.items()) {
    if (!item.value().is_string()) {
      return core::InternalError("customer " + std::to_string(customer_id) +
                                 " has a non-string attribute");
    }
    attributes.emplace(item.key(), item.value().get<std::string>());
  }
  return attributes;
}

}  // namespace

std::string AttributesToJson(const std::map<std::string, std::string>& attributes) {
  if (attributes.empty()) return kEmptyAttributes;  // most customers: skip the JSON library
  json object = json::object();
  for (const auto& [key, value] : attributes) object[key] = value;
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::StatusOr<model::Customer> ReadCustomer(const SQLite::Statement& row) {
  model::Customer c;
  c.id = row.getColumn(0).getInt64();
  const std::string stage = row.getColumn(1).getString();
  const std::optional<model::LifecycleStage> parsed = model::ParseLifecycleStage(stage);
  if (!parsed.has_value()) {
    return core::InternalError("customer " + std::to_string(c.id) + " has unknown stage");
  }
  c.stage = *parsed;
  c.stage_reason = row.getColumn(2).getString();
  c.stage_staff = row.getColumn(3).getString();
  c.owner_userid = row.getColumn(4).getString();
  SCRM_ASSIGN_OR_RETURN(c.attributes, AttributesFromJson(row.getColumn(5).getString(), c.id));
  c.first_interaction_at_ms = row.getColumn(6).getInt64();
  c.last_interaction_at_ms = row.getColumn(7).getInt64();
  c.counters.interactions = row.getColumn(8).getInt64();
  c.counters.messages = row.getColumn(9).getInt64();
  c.counters.events = row.getColumn(10).getInt64();
  c.counters.orders = row.getColumn(11).getInt64();
  c.counters.paid_orders = row.getColumn(12).getInt64();
  c.created_at_ms = row.getColumn(13).getInt64();
  c.updated_at_ms = row.getColumn(14).getInt64();
  c.merged_into = OptionalInt(row.getColumn(15));
  c.channel = row.getColumn(16).getString();
  return c;
}

model::TagDetail ReadTagDetail(const SQLite::Statement& row, int first) {
  model::TagDetail detail;
  detail.tag.id = row.getColumn(first).getInt64();
  detail.tag.group_id = row.getColumn(first + 1).getInt64();
  detail.tag.name = row.getColumn(first + 2).getString();
  if (!row.getColumn(first + 3).isNull())
    detail.tag.threshold = row.getColumn(first + 3).getDouble();
  detail.tag.wecom_tag_id = row.getColumn(first + 4).getString();
  detail.tag.oa_tag_id = row.getColumn(first + 5).getInt64();
  detail.group.id = row.getColumn(first + 6).getInt64();
  detail.group.name = row.getColumn(first + 7).getString();
  detail.group.half_life_days = row.getColumn(first + 8).getInt();
  detail.group.threshold = row.getColumn(first + 9).getDouble();
  detail.group.wecom_group_id = row.getColumn(first + 10).getString();
  return detail;
}

}  // namespace scrm::storage
