// TemplateMessageSource: the production MessageSource of the dispatcher (dispatcher_seams.h):
// the campaign's template version from the TemplateStore, compiled once per (template,
// version), rendered for a recipient from its profile (ProfileQueries; not read when the template
// uses no profile variable).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "campaigns/engine/dispatcher_seams.h"
#include "campaigns/render/renderer.h"
#include "campaigns/render/variables.h"
#include "src/profiles/profile_queries.h"
#include "src/storage/template_store.h"

namespace scrm::campaigns {

// Called from the dispatcher thread only (the compiled templates are not safe for concurrent
// Render). Does not own the store or queries.
class TemplateMessageSource final : public MessageSource {
 public:
  TemplateMessageSource(storage::TemplateStore& templates, const profiles::ProfileQueries& queries)
      : templates_(templates), queries_(queries) {}

  core::StatusOr<model::MessageContent> Render(const model::Campaign& campaign, int64_t customer_id,
                                               const std::string& sender,
                                               const std::optional<std::string>& link) override;

 private:
  core::StatusOr<const render::CompiledTemplate*> Compiled(int64_t template_id, int version);

  storage::TemplateStore& templates_;
  const profiles::ProfileQueries& queries_;
  std::map<std::pair<int64_t, int>, render::CompiledTemplate> compiled_;
};

}  // namespace scrm::campaigns
