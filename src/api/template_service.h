// TemplateService: the message templates as /api/v1/templates manages them — checked on save
// (render::CompiledTemplate: variables, constructs, channel limits), persisted with every
// version (storage::TemplateStore, compare-and-set on the version), previewed for one customer
// from the profile reads (profiles::ProfileQueries), and seeded at startup from the templates
// folder (render::LoadTemplateFiles). It lives in src/api because it joins storage and profiles
// to campaigns/render, which stays pure (core and model only); it does not touch HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/render/template_files.h"
#include "campaigns/render/template_json.h"
#include "campaigns/render/variables.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/message_template.h"
#include "src/profiles/profile_queries.h"
#include "src/storage/template_store.h"

namespace scrm::api {

// A stored template version with the variables it uses (sorted, each once).
struct TemplateView {
  model::MessageTemplate tmpl;
  std::vector<std::string> variables;
};

// What LoadAndSeed did with the files (docs/templates.md "Shipped templates").
struct TemplateSeedReport {
  int stored_before = 0;  // templates in the database before
  int seeded = 0;         // files stored now (their name was new)
  int refreshed = 0;      // file templates stored again because their file changed
  int unchanged = 0;      // file templates equal to their file
  int kept_edited = 0;    // templates saved through the API since: the stored one wins
};

// A template rendered for one customer. When rendering fails for this customer (a rendered
// field over a channel limit), render_status says why and rendered is empty.
struct TemplatePreview {
  TemplateView view;
  int64_t customer_id = 0;
  core::Status render_status;
  std::optional<model::MessageContent> rendered;
  // The placeholders the template uses, each rendered with its sample value (SamplePlaceholders).
  std::vector<std::pair<std::string, std::string>> samples;
};

// Thread-safe: every call reads or writes through the store (the version compare-and-set
// serialises writers). Does not own the store, queries or clock, which must outlive it.
class TemplateService {
 public:
  TemplateService(storage::TemplateStore& store, const profiles::ProfileQueries& queries,
                  const core::Clock& clock);

  // Startup. A file whose name the database does not have is stored (source "file"); a stored
  // template whose latest version came from a file is stored again when its file differs
  // (channel, content or enabled); one saved through the API since is left as it is.
  core::StatusOr<TemplateSeedReport> LoadAndSeed(std::span<const render::TemplateFile> files);

  // The latest version of every template, by id.
  core::StatusOr<std::vector<TemplateView>> List() const;
  // NotFound.
  core::StatusOr<TemplateView> Get(int64_t id) const;
  core::StatusOr<TemplateView> GetVersion(int64_t id, int version) const;
  // Every saved version, ascending. NotFound for an unknown template.
  core::StatusOr<std::vector<TemplateView>> ListVersions(int64_t id) const;

  // Stores a new template (version 1). InvalidArgument naming the field and variable when it
  // does not compile; AlreadyExists when the name is taken.
  core::StatusOr<TemplateView> Create(const render::TemplateDoc& doc);
  // Saves `doc` as version + 1 of template `id`. When expected_version is set, the stored
  // version must equal it (FailedPrecondition otherwise: someone else saved meanwhile).
  // NotFound; InvalidArgument; AlreadyExists when renamed to a taken name.
  core::StatusOr<TemplateView> Update(int64_t id, const render::TemplateDoc& doc,
                                      std::optional<int> expected_version);

  // Renders the latest version of template `id` for customer `customer_id` (disabled templates
  // too), placeholders filled with their samples. NotFound for an unknown template or customer;
  // FailedPrecondition for a customer merged into another (preview the survivor).
  core::StatusOr<TemplatePreview> Preview(int64_t id, int64_t customer_id) const;

 private:
  storage::TemplateStore& store_;
  const profiles::ProfileQueries& queries_;
  const core::Clock& clock_;
};

}  // namespace scrm::api
