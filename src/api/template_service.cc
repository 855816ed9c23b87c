#include "src/api/template_service.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "campaigns/engine/render_input.h"
#include "campaigns/render/renderer.h"

namespace scrm::api {
namespace {

using nlohmann::json;

std::string ContentText(const model::MessageContent& content) {
  return render::ContentToJson(content).dump(-1, ' ', false, json::error_handler_t::replace);
}

// The stored row's columns are authoritative for id, name, version, enabled and source.
core::StatusOr<TemplateView> FromStored(const storage::StoredTemplate& row) {
  const auto corrupt = [&row](const std::string& why) {
    // Only compiled templates are stored: a row that no longer reads is corruption (or a newer
    // binary's format), not the caller's mistake.
    return core::InternalError("stored template " + std::to_string(row.id) + " version " +
                               std::to_string(row.version) + " " + why);
  };
  const auto channel = model::ParseTemplateChannel(row.channel);
  if (!channel) return corrupt("has an unknown channel");
  const json content = json::parse(row.content_json, nullptr, false);
  if (content.is_discarded()) return corrupt("is not JSON");
  auto parsed = render::ContentFromJson(content, *channel);
  if (!parsed.ok()) return corrupt("does not parse: " + parsed.status().message());
  TemplateView view;
  view.tmpl.id = row.id;
  view.tmpl.name = row.name;
  view.tmpl.content = std::move(parsed).value();
  view.tmpl.version = row.version;
  view.tmpl.enabled = row.enabled;
  view.tmpl.source = row.source;
  view.tmpl.created_at_ms = row.created_at_ms;
  view.tmpl.updated_at_ms = row.saved_at_ms;
  if (auto compiled = render::CompiledTemplate::Compile(view.tmpl.content); compiled.ok()) {
    view.variables = compiled->variables();
  }
  return view;
}

storage::StoredTemplate ToStored(const render::TemplateDoc& doc, std::string_view source,
                                 int64_t now_ms) {
  storage::StoredTemplate row;
  row.name = doc.name;
  row.channel = std::string(model::TemplateChannelName(model::ChannelOf(doc.content)));
  row.content_json = ContentText(doc.content);
  row.enabled = doc.enabled;
  row.source = std::string(source);
  row.saved_at_ms = now_ms;
  return row;
}

core::StatusOr<std::vector<TemplateView>> FromRows(
    const std::vector<storage::StoredTemplate>& rows) {
  std::vector<TemplateView> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    SCRM_ASSIGN_OR_RETURN(TemplateView view, FromStored(row));
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace

TemplateService::TemplateService(storage::TemplateStore& store,
                                 const profiles::ProfileQueries& queries, const core::Clock& clock)
    : store_(store), queries_(queries), clock_(clock) {}

core::StatusOr<TemplateSeedReport> TemplateService::LoadAndSeed(
    std::span<const render::TemplateFile> files) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::StoredTemplate> stored, store_.List());
  TemplateSeedReport report;
  report.stored_before = static_cast<int>(stored.size());
  const int64_t now_ms = clock_.NowUnixMillis();
  for (const render::TemplateFile& file : files) {
    // LoadTemplateFiles compiled it; checked again so a caller's list cannot store a bad one.
    auto compiled = render::CompiledTemplate::Compile(file.doc.content);
    if (!compiled.ok()) {
      return core::InvalidArgumentError(file.file + ": " + compiled.status().message());
    }
    storage::StoredTemplate row = ToStored(file.doc, model::kTemplateSourceFile, now_ms);
    SCRM_ASSIGN_OR_RETURN(const std::optional<storage::StoredTemplate> current,
                          store_.FindByName(file.doc.name));
    if (!current) {
      SCRM_RETURN_IF_ERROR(store_.Insert(row).status());
      ++report.seeded;
    } else if (current->source != model::kTemplateSourceFile) {
      ++report.kept_edited;
    } else if (current->channel == row.channel && current->content_json == row.content_json &&
               current->enabled == row.enabled) {
      ++report.unchanged;
    } else {
      row.id = current->id;
      SCRM_RETURN_IF_ERROR(store_.Update(row, current->version).status());
      ++report.refreshed;
    }
  }
  return report;
}

core::StatusOr<std::vector<TemplateView>> TemplateService::List() const {
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::StoredTemplate> rows, store_.List());
  return FromRows(rows);
}

core::StatusOr<TemplateView> TemplateService::Get(int64_t id) const {
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTemplate row, store_.Get(id));
  return FromStored(row);
}

core::StatusOr<TemplateView> TemplateService::GetVersion(int64_t id, int version) const {
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTemplate row, store_.GetVersion(id, version));
  return FromStored(row);
}

core::StatusOr<std::vector<TemplateView>> TemplateService::ListVersions(int64_t id) const {
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::StoredTemplate> rows, store_.ListVersions(id));
  if (rows.empty()) return core::NotFoundError("no template with id " + std::to_string(id));
  return FromRows(rows);
}

core::StatusOr<TemplateView> TemplateService::Create(const render::TemplateDoc& doc) {
  SCRM_RETURN_IF_ERROR(render::CheckTemplateName(doc.name));
  SCRM_RETURN_IF_ERROR(render::CompiledTemplate::Compile(doc.content).status());
  SCRM_ASSIGN_OR_RETURN(
      const storage::StoredTemplate stored,
      store_.Insert(ToStored(doc, model::kTemplateSourceApi, clock_.NowUnixMillis())));
  return FromStored(stored);
}

core::StatusOr<TemplateView> TemplateService::Update(int64_t id, const render::TemplateDoc& doc,
                                                     std::optional<int> expected_version) {
  SCRM_RETURN_IF_ERROR(render::CheckTemplateName(doc.name));
  SCRM_RETURN_IF_ERROR(render::CompiledTemplate::Compile(doc.content).status());
  int expected = 0;
  if (expected_version.has_value()) {
    expected = *expected_version;
  } else {
    SCRM_ASSIGN_OR_RETURN(const storage::StoredTemplate current, store_.Get(id));
    expected = current.version;
  }
  storage::StoredTemplate row = ToStored(doc, model::kTemplateSourceApi, clock_.NowUnixMillis());
  row.id = id;
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTemplate stored, store_.Update(row, expected));
  return FromStored(stored);
}

core::StatusOr<TemplatePreview> TemplateService::Preview(int64_t id, int64_t customer_id) const {
  SCRM_ASSIGN_OR_RETURN(TemplateView view, Get(id));
  SCRM_ASSIGN_OR_RETURN(const profiles::CustomerView customer, queries_.GetCustomer(customer_id));
  if (customer.customer.merged_into.has_value()) {
    return core::FailedPreconditionError(
        "customer_id: customer " + std::to_string(customer_id) + " was merged into " +
        std::to_string(*customer.customer.merged_into) + "; preview that customer");
  }
  SCRM_ASSIGN_OR_RETURN(const render::CompiledTemplate compiled,
                        render::CompiledTemplate::Compile(view.tmpl.content));
  const render::Placeholders samples = render::SamplePlaceholders();
  TemplatePreview preview;
  preview.customer_id = customer_id;
  for (const std::string& name : compiled.variables()) {
    const auto variable = render::ParseVariable(name);
    if (!variable || !render::IsPlaceholder(*variable)) continue;
    if (auto value = render::ValueOf(*variable, render::RenderProfile{}, samples)) {
      preview.samples.emplace_back(name, *value);
    }
  }
  auto rendered = compiled.Render(campaigns::RenderProfileOf(customer), samples);
  if (rendered.ok()) {
    preview.rendered = std::move(rendered).value();
  } else {
    preview.render_status = rendered.status();
  }
  preview.view = std::move(view);
  return preview;
}

}  // namespace scrm::api
