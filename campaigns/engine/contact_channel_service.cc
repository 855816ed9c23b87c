#include "campaigns/engine/contact_channel_service.h"

#include <nlohmann/json.hpp>

#include <set>
#include <utility>

#include "campaigns/render/renderer.h"
#include "campaigns/render/template_json.h"

namespace scrm::campaigns {
namespace {

using core::Status;
using core::StatusOr;

constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxWecomState = 30;   // add_contact_way state (PROTOCOL §4.1)
constexpr size_t kMaxOaState = 64;      // qrcode/create scene_str
constexpr size_t kMaxRemarkChars = 30;  // add_contact_way remark
constexpr size_t kMaxTagPartBytes = 64;
constexpr size_t kMaxUseridBytes = 64;
constexpr int64_t kMinExpiresS = 60;
constexpr int64_t kMaxExpiresS = 2'592'000;  // 30 days: OA's longest temporary code
// WeCom's answer when the config_id is unknown: the contact way is gone already.
constexpr int64_t kInvalidConfigId = 41044;

// The first `max_chars` characters of UTF-8 `text` (add_contact_way remark: at most 30), never
// cutting one in half.
std::string FirstChars(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80 && chars++ == max_chars) return text.substr(0, i);
  }
  return text;
}

bool IsStateChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

Status Invalid(const std::string& field, const std::string& why) {
  return core::InvalidArgumentError(field + ": " + why);
}

Status CheckRequest(const ContactChannelRequest& r, model::Platform platform) {
  if (r.name.empty() || r.name.size() > kMaxNameBytes) {
    return Invalid("name", "must be 1..128 bytes");
  }
  const size_t max_state = platform == model::Platform::kWecom ? kMaxWecomState : kMaxOaState;
  if (r.state.empty() || r.state.size() > max_state) {
    return Invalid("state", "must be 1.." + std::to_string(max_state) + " characters");
  }
  for (size_t i = 0; i < r.state.size(); ++i) {
    if (!IsStateChar(r.state[i])) {
      return Invalid("state", "character at byte " + std::to_string(i) +
                                  " is not a letter, digit or one of _-.:");
    }
  }
  if (r.default_tags.size() > ContactChannelService::kMaxTags) {
    return Invalid("default_tags", "at most 20");
  }
  for (size_t i = 0; i < r.default_tags.size(); ++i) {
    const model::TagRef& tag = r.default_tags[i];
    if (tag.group.empty() || tag.group.size() > kMaxTagPartBytes || tag.name.empty() ||
        tag.name.size() > kMaxTagPartBytes || tag.group.find_first_of("/\n") != std::string::npos ||
        tag.name.find('\n') != std::string::npos) {
      return Invalid("default_tags[" + std::to_string(i) + "]",
                     "group and name must be 1..64 bytes, the group without '/'");
    }
  }
  if (r.temporary && r.expires_in_s != 0 &&
      (r.expires_in_s < kMinExpiresS || r.expires_in_s > kMaxExpiresS)) {
    return Invalid("expires_in_s", "must be 0 or within 60..2592000");
  }
  if (!r.temporary && r.expires_in_s != 0) {
    return Invalid("expires_in_s", "only a temporary code expires");
  }
  if (platform == model::Platform::kOfficialAccount) {
    if (!r.members.empty()) return Invalid("members", "an Official Account QR code has none");
    if (r.owner_rule != model::OwnerRule::kAdder) {
      return Invalid("owner_rule", "an Official Account QR code has no members: only \"adder\"");
    }
    if (r.welcome_template_id != 0) {
      return Invalid("welcome_template_id",
                     "an Official Account has no welcome code; only WeCom channels welcome");
    }
    return core::OkStatus();
  }
  if (r.members.empty() || r.members.size() > ContactChannelService::kMaxMembers) {
    return Invalid("members", "a WeCom contact way needs 1..100 members");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < r.members.size(); ++i) {
    const std::string& m = r.members[i];
    if (m.empty() || m.size() > kMaxUseridBytes || m.find('\n') != std::string::npos ||
        !seen.insert(m).second) {
      return Invalid("members[" + std::to_string(i) + "]",
                     "must be a userid of 1..64 bytes, each once");
    }
  }
  switch (r.owner_rule) {
    case model::OwnerRule::kAdder: break;
    case model::OwnerRule::kFixed:
      if (r.members.size() != 1) return Invalid("owner_rule", "\"fixed\" takes exactly one member");
      break;
    case model::OwnerRule::kRoundRobin:
      if (r.members.size() < 2) {
        return Invalid("owner_rule", "\"round_robin\" takes two or more members");
      }
      break;
  }
  if (r.temporary && r.members.size() != 1) {
    return Invalid("temporary", "a temporary WeCom contact way takes exactly one member");
  }
  return core::OkStatus();
}

}  // namespace

Status ContactChannelService::CheckWelcomeTemplate(int64_t template_id) {
  if (template_id == 0) return core::OkStatus();
  if (template_id < 0) return Invalid("welcome_template_id", "must be a template id or 0");
  auto stored = templates_.Get(template_id);
  if (!stored.ok()) {
    if (stored.status().code() == core::StatusCode::kNotFound) {
      return core::NotFoundError("welcome_template_id: no template " + std::to_string(template_id));
    }
    return stored.status();
  }
  if (stored->channel != model::TemplateChannelName(model::TemplateChannel::kWecomMessage)) {
    return Invalid("welcome_template_id",
                   "must be a wecom_message template, not " + stored->channel);
  }
  const nlohmann::json content = nlohmann::json::parse(stored->content_json, nullptr, false);
  auto parsed = render::ContentFromJson(content, model::TemplateChannel::kWecomMessage);
  if (!parsed.ok())
    return core::InternalError("template does not parse: " + parsed.status().message());
  SCRM_ASSIGN_OR_RETURN(const render::CompiledTemplate compiled,
                        render::CompiledTemplate::Compile(std::move(parsed).value()));
  if (compiled.UsesPlaceholders()) {
    // A welcome message has no campaign: {{link}}, {{coupon}} and {{referral_code}} have no value.
    return Invalid("welcome_template_id",
                   "a welcome template may not use {{link}}, {{coupon}} or {{referral_code}}");
  }
  return core::OkStatus();
}

StatusOr<model::ContactChannel> ContactChannelService::Create(const ContactChannelRequest& r) {
  channels::OutboundChannel* outbound = directory_.Find(r.account_id);
  if (outbound == nullptr) {
    return core::FailedPreconditionError("account_id: " + r.account_id +
                                         " is not an account that can call its platform");
  }
  const model::Platform platform = outbound->platform();
  SCRM_RETURN_IF_ERROR(CheckRequest(r, platform));
  SCRM_RETURN_IF_ERROR(CheckWelcomeTemplate(r.welcome_template_id));
  SCRM_ASSIGN_OR_RETURN(const auto taken, store_.FindByState(r.account_id, r.state));
  if (taken.has_value()) {
    return core::AlreadyExistsError("state: account " + r.account_id +
                                    " has a channel with state \"" + r.state + "\"");
  }
  channels::ContactWayRequest way;
  way.state = r.state;
  way.members = r.members;
  way.temporary = r.temporary;
  way.expires_in_s = r.expires_in_s;
  way.remark = FirstChars(r.name, kMaxRemarkChars);
  way.skip_verify = r.skip_verify;
  auto created = outbound->CreateContactWay(way, {});
  if (!created.ok()) return created.error().ToStatus();

  model::ContactChannel channel;
  channel.name = r.name;
  channel.account_id = r.account_id;
  channel.platform = platform;
  channel.state = r.state;
  channel.welcome_template_id = r.welcome_template_id;
  channel.default_tags = r.default_tags;
  channel.owner_rule = r.owner_rule;
  channel.members = r.members;
  channel.skip_verify = r.skip_verify;
  channel.temporary = r.temporary;
  channel.expires_in_s =
      created.value().expires_in_s != 0 ? created.value().expires_in_s : r.expires_in_s;
  channel.platform_id = created.value().id;
  channel.qr_image = created.value().qr_image;
  channel.qr_content = created.value().qr_content;
  auto stored = store_.Create(channel, clock_.NowUnixMillis());
  if (!stored.ok() && platform == model::Platform::kWecom) {
    // Lost a race for the state (or the store failed): the contact way would bring people to
    // no channel, so it goes; a failure here leaves it on the platform (logged by the caller).
    (void)outbound->DeleteContactWay(channel.platform_id, {});
  }
  return stored;
}

StatusOr<model::ContactChannel> ContactChannelService::Get(int64_t id) { return store_.Get(id); }

StatusOr<std::vector<model::ContactChannel>> ContactChannelService::List(int64_t after_id,
                                                                         size_t limit,
                                                                         bool include_retired) {
  return store_.List(after_id, limit, include_retired);
}

StatusOr<model::ContactChannel> ContactChannelService::Retire(int64_t id) {
  SCRM_ASSIGN_OR_RETURN(const model::ContactChannel channel, store_.Get(id));
  if (channel.retired) return channel;
  if (channel.platform == model::Platform::kWecom) {
    channels::OutboundChannel* outbound = directory_.Find(channel.account_id);
    if (outbound == nullptr) {
      return core::FailedPreconditionError("account " + channel.account_id +
                                           " can no longer call its platform");
    }
    auto deleted = outbound->DeleteContactWay(channel.platform_id, {});
    if (!deleted.ok() && deleted.error().errcode != kInvalidConfigId) {
      return deleted.error().ToStatus();
    }
  }
  return store_.Retire(id, clock_.NowUnixMillis());
}

StatusOr<model::ContactChannelStats> ContactChannelService::Stats(int64_t id) {
  return store_.Stats(id);
}

}  // namespace scrm::campaigns
