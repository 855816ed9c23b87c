#include "campaigns/engine/dispatcher_message.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "campaigns/engine/render_input.h"
#include "campaigns/render/template_json.h"

namespace scrm::campaigns {

core::StatusOr<const render::CompiledTemplate*> TemplateMessageSource::Compiled(int64_t template_id,
                                                                                int version) {
  const auto key = std::make_pair(template_id, version);
  auto it = compiled_.find(key);
  if (it != compiled_.end()) return &it->second;
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTemplate stored,
                        templates_.GetVersion(template_id, version));
  const auto channel = model::ParseTemplateChannel(stored.channel);
  if (!channel) {
    return core::InternalError("template " + std::to_string(template_id) + " has channel \"" +
                               stored.channel + "\"");
  }
  const nlohmann::json json = nlohmann::json::parse(stored.content_json, nullptr, false);
  if (json.is_discarded()) {
    return core::InternalError("template " + std::to_string(template_id) +
                               " has content that is not JSON");
  }
  SCRM_ASSIGN_OR_RETURN(model::MessageContent content, render::ContentFromJson(json, *channel));
  SCRM_ASSIGN_OR_RETURN(render::CompiledTemplate compiled,
                        render::CompiledTemplate::Compile(std::move(content)));
  it = compiled_.emplace(key, std::move(compiled)).first;
  return &it->second;
}

core::StatusOr<model::MessageContent> TemplateMessageSource::Render(
    const model::Campaign& campaign, int64_t customer_id, const std::string& sender,
    const std::optional<std::string>& link) {
  SCRM_ASSIGN_OR_RETURN(const render::CompiledTemplate* compiled,
                        Compiled(campaign.template_id, campaign.template_version));
  // A template without profile variables (only placeholders, or static text) needs no read.
  bool uses_profile = false;
  for (const std::string& variable : compiled->variables()) {
    if (variable != "link" && variable != "coupon" && variable != "referral_code") {
      uses_profile = true;
    }
  }
  render::RenderProfile profile;
  if (customer_id != 0 && uses_profile) {
    SCRM_ASSIGN_OR_RETURN(const profiles::CustomerView view, queries_.GetCustomer(customer_id));
    profile = RenderProfileOf(view);
  } else {
    // One text for every recipient of a WeCom task: only the sender is known.
    profile.owner_userid = sender;
    profile.owner_name = sender;
  }
  render::Placeholders placeholders;
  placeholders.link = link;
  return compiled->Render(profile, placeholders);
}

}  // namespace scrm::campaigns
