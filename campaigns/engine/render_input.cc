#include "campaigns/engine/render_input.h"

#include <string>

namespace scrm::campaigns {

render::RenderProfile RenderProfileOf(const profiles::CustomerView& view) {
  render::RenderProfile profile;
  const model::Customer& customer = view.customer;
  profile.customer_id = customer.id;
  for (const char* key : {"name", "remark", "wecom.name"}) {
    const auto it = customer.attributes.find(key);
    if (it != customer.attributes.end() && !it->second.empty()) {
      profile.name = it->second;
      break;
    }
  }
  profile.stage = std::string(model::LifecycleStageName(customer.stage));
  profile.attributes = customer.attributes;
  for (const profiles::TagView& tag : view.tags) {
    const model::TagDetail& detail = tag.detail.tag;
    profile.tags[detail.group.name + "/" + detail.tag.name] =
        render::TagValue{tag.decayed_score, tag.held};
  }
  profile.owner_userid = customer.owner_userid;
  profile.owner_name = customer.owner_userid;
  return profile;
}

}  // namespace scrm::campaigns
