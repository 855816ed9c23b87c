#include "campaigns/render/renderer.h"

#include <algorithm>
#include <deque>
#include <kainjow/mustache.hpp>
#include <map>
#include <set>
#include <utility>

#include "campaigns/render/limits.h"
#include "campaigns/render/template_scan.h"
#include "src/core/strings.h"

namespace scrm::render {
namespace {

namespace mustache = kainjow::mustache;

// Appends what kainjow renders (its render(context, stream) writes with <<) to one string: no
// ostringstream per field.
struct StringSink {
  std::string* out;
  StringSink& operator<<(const std::string& text) {
    out->append(text);
    return *this;
  }
};

// What a render call collects besides the text.
struct RenderState {
  bool placeholders_required = true;  // false for the static check at Compile
  std::string missing;                // the first placeholder used but not given
  std::string bad_link;               // set when {{link}} is not an http(s) URL
};

// kainjow's lookup seam: every name (validated at Compile) is answered from the profile, escaped
// for the field being rendered. Names are absolute: sections push nothing a name resolves
// against, since every value is a string. An absent value is nullptr, which mustache renders as
// nothing and treats as false in a section.
class ProfileContext final : public mustache::basic_context<std::string> {
 public:
  ProfileContext(const std::map<std::string, Variable, std::less<>>& variables,
                 const RenderProfile& profile, const Placeholders& placeholders, FieldKind kind,
                 RenderState& state)
      : variables_(variables),
        profile_(profile),
        placeholders_(placeholders),
        kind_(kind),
        state_(state) {}

  void push(const mustache::data* /*data*/) override {}
  void pop() override {}

  const mustache::data* get(const std::string& name) const override {
    const auto it = variables_.find(name);
    if (it == variables_.end()) return nullptr;  // cannot happen: Compile checked every name
    const Variable& variable = it->second;
    std::optional<std::string> value = ValueOf(variable, profile_, placeholders_);
    if (!value) {
      if (IsPlaceholder(variable) && state_.placeholders_required && state_.missing.empty()) {
        state_.missing = name;
      }
      return nullptr;
    }
    if (variable.kind == VariableKind::kLink) {
      if (!IsHttpUrl(*value)) {
        state_.bad_link = *value;
        return nullptr;
      }
      // The tracked link is a whole URL: inserted as is where a URL goes, escaped elsewhere only
      // where the field is HTML.
      if (kind_ != FieldKind::kHtml) return &values_.emplace_back(std::move(*value));
    }
    return &values_.emplace_back(EscapeFor(kind_, *value));
  }

  const mustache::data* get_partial(const std::string& /*name*/) const override {
    return nullptr;  // partials are refused at Compile; none resolves
  }

 private:
  const std::map<std::string, Variable, std::less<>>& variables_;
  const RenderProfile& profile_;
  const Placeholders& placeholders_;
  const FieldKind kind_;
  RenderState& state_;
  mutable std::deque<mustache::data> values_;  // stable addresses for kainjow
};

}  // namespace

struct CompiledTemplate::Impl {
  // One text field: its position in FieldsOf order, its kind, and the parsed template (nullptr
  // when the field holds no tag and is copied as is).
  struct Field {
    size_t index = 0;
    FieldKind kind = FieldKind::kPlain;
    std::unique_ptr<mustache::mustache> compiled;
  };

  model::MessageContent source;
  std::vector<Field> fields;
  std::map<std::string, Variable, std::less<>> variables;  // by mustache name
  std::vector<std::string> variable_names;
  bool uses_placeholders = false;

  // Renders every templated field into `out` (a copy of source).
  void RenderInto(model::MessageContent& out, const RenderProfile& profile,
                  const Placeholders& placeholders, RenderState& state) const {
    std::vector<FieldRef> refs = FieldsOf(out);
    for (const Field& field : fields) {
      if (!field.compiled) continue;
      std::string& target = *refs[field.index].value;
      target.clear();
      ProfileContext context(variables, profile, placeholders, field.kind, state);
      StringSink sink{&target};
      field.compiled->render(context, sink);
    }
  }
};

CompiledTemplate::CompiledTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledTemplate::CompiledTemplate(CompiledTemplate&&) noexcept = default;
CompiledTemplate& CompiledTemplate::operator=(CompiledTemplate&&) noexcept = default;
CompiledTemplate::~CompiledTemplate() = default;

core::StatusOr<CompiledTemplate> CompiledTemplate::Compile(model::MessageContent source) {
  auto impl = std::make_unique<Impl>();
  impl->source = std::move(source);
  std::set<std::string> dynamic_paths;
  std::vector<FieldRef> refs = FieldsOf(impl->source);
  for (size_t i = 0; i < refs.size(); ++i) {
    const FieldRef& ref = refs[i];
    const std::string& text = *ref.value;
    if (ref.kind == FieldKind::kStatic) {
      if (text.find("{{") != std::string::npos) {
        return core::InvalidArgumentError(ref.path + ": variables are not allowed here");
      }
      continue;
    }
    SCRM_ASSIGN_OR_RETURN(std::vector<ScannedTag> tags, ScanTags(text, ref.path));
    if (tags.empty()) continue;
    bool has_variable = false;
    for (const ScannedTag& tag : tags) {
      if (tag.kind == TagKind::kComment || tag.kind == TagKind::kSectionEnd) continue;
      has_variable = true;
      if (impl->variables.count(tag.name) > 0) continue;
      std::optional<Variable> variable = ParseVariable(tag.name);
      if (!variable) {
        return core::InvalidArgumentError(ref.path + ": unknown variable {{" +
                                          core::Printable(tag.name, 160) + "}} at byte " +
                                          std::to_string(tag.position));
      }
      impl->uses_placeholders = impl->uses_placeholders || IsPlaceholder(*variable);
      impl->variables.emplace(tag.name, std::move(*variable));
    }
    auto compiled = std::make_unique<mustache::mustache>(text);
    if (!compiled->is_valid()) {
      return core::InvalidArgumentError(ref.path + ": " + compiled->error_message());
    }
    // Values arrive escaped for their field from ProfileContext (the link placeholder must not
    // be), so kainjow's own HTML escaping is switched off.
    compiled->set_custom_escape([](const std::string& value) { return value; });
    impl->fields.push_back(Impl::Field{i, ref.kind, std::move(compiled)});
    if (has_variable) dynamic_paths.insert(ref.path);
  }
  for (const auto& entry : impl->variables) impl->variable_names.push_back(entry.first);

  // The static text: every variable absent (placeholders too), so sizes are the least any
  // customer's message can have, and fields without variables must already be complete.
  model::MessageContent static_text = impl->source;
  RenderState state;
  state.placeholders_required = false;
  impl->RenderInto(static_text, RenderProfile{}, Placeholders{}, state);
  SCRM_RETURN_IF_ERROR(CheckLimits(static_text, [&dynamic_paths](const std::string& path) {
    return dynamic_paths.count(path) > 0;
  }));
  return CompiledTemplate(std::move(impl));
}

model::TemplateChannel CompiledTemplate::channel() const { return model::ChannelOf(impl_->source); }

const model::MessageContent& CompiledTemplate::source() const { return impl_->source; }

const std::vector<std::string>& CompiledTemplate::variables() const {
  return impl_->variable_names;
}

bool CompiledTemplate::UsesPlaceholders() const { return impl_->uses_placeholders; }

core::StatusOr<model::MessageContent> CompiledTemplate::Render(
    const RenderProfile& profile, const Placeholders& placeholders) const {
  model::MessageContent out = impl_->source;
  RenderState state;
  impl_->RenderInto(out, profile, placeholders, state);
  if (!state.missing.empty()) {
    return core::FailedPreconditionError(state.missing + ": the template uses {{" + state.missing +
                                         "}} and no value was given");
  }
  if (!state.bad_link.empty()) {
    return core::FailedPreconditionError("link: " + core::Printable(state.bad_link, 64) +
                                         " is not an http(s) URL");
  }
  if (core::Status limits = CheckLimits(out, nullptr); !limits.ok()) {
    return core::FailedPreconditionError("rendered message: " + limits.message());
  }
  return out;
}

}  // namespace scrm::render
