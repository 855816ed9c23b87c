// The render input of a customer: what campaigns/render's templates see of a profile (the
// template preview of /api/v1/templates, welcome messages, campaign sends).
#pragma once

#include "campaigns/render/variables.h"
#include "src/profiles/profile_types.h"

namespace scrm::campaigns {

// Its display name is the first non-empty attribute of "name", "remark", "wecom.name"; scores
// are decayed to the view's moment; owner.name is the owner's userid (scrmd has no staff
// directory yet). Pure: any thread.
render::RenderProfile RenderProfileOf(const profiles::CustomerView& view);

}  // namespace scrm::campaigns
