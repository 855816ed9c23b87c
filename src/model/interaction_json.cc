#include "src/model/interaction_json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scrm::model {
namespace {

using nlohmann::json;

// Discriminator values of the "type" member, one per Payload alternative.
constexpr char kTypeText[] = "text";
constexpr char kTypeMedia[] = "media";
constexpr char kTypeLocation[] = "location";
constexpr char kTypeLink[] = "link";
constexpr char kTypeQrScene[] = "qr_scene";
constexpr char kTypeMenu[] = "menu";
constexpr char kTypeSendJob[] = "send_job";
constexpr char kTypeContactChange[] = "contact_change";
constexpr char kTypeChatChange[] = "chat_change";
constexpr char kTypeTagChange[] = "tag_change";
constexpr char kTypeGeneric[] = "generic";

// Builds the JSON object of one alternative.
struct ToJsonVisitor {
  json operator()(const std::monostate&) const { return nullptr; }
  json operator()(const TextPayload& p) const {
    return {{"type", kTypeText}, {"content", p.content}};
  }
  json operator()(const MediaPayload& p) const {
    return {{"type", kTypeMedia},           {"media_id", p.media_id},
            {"pic_url", p.pic_url},         {"format", p.format},
            {"recognition", p.recognition}, {"thumb_media_id", p.thumb_media_id}};
  }
  json operator()(const LocationPayload& p) const {
    return {{"type", kTypeLocation},    {"latitude", p.latitude}, {"longitude", p.longitude},
            {"precision", p.precision}, {"scale", p.scale},       {"label", p.label}};
  }
  json operator()(const LinkPayload& p) const {
    return {
        {"type", kTypeLink}, {"title", p.title}, {"description", p.description}, {"url", p.url}};
  }
  json operator()(const QrScenePayload& p) const {
    return {{"type", kTypeQrScene}, {"scene", p.scene}, {"ticket", p.ticket}};
  }
  json operator()(const MenuPayload& p) const {
    return {{"type", kTypeMenu}, {"event_key", p.event_key}, {"menu_id", p.menu_id}};
  }
  json operator()(const SendJobPayload& p) const {
    return {{"type", kTypeSendJob},
            {"job_msg_id", p.job_msg_id},
            {"status", p.status},
            {"total_count", p.total_count},
            {"filter_count", p.filter_count},
            {"sent_count", p.sent_count},
            {"error_count", p.error_count}};
  }
  json operator()(const ContactChangePayload& p) const {
    return {{"type", kTypeContactChange}, {"change_type", p.change_type},
            {"state", p.state},           {"welcome_code", p.welcome_code},
            {"source", p.source},         {"fail_reason", p.fail_reason}};
  }
  json operator()(const ChatChangePayload& p) const {
    return {{"type", kTypeChatChange},
            {"change_type", p.change_type},
            {"update_detail", p.update_detail},
            {"join_scene", p.join_scene},
            {"quit_scene", p.quit_scene},
            {"mem_change_cnt", p.mem_change_cnt},
            {"mem_change_list", p.mem_change_list},
            {"last_mem_ver", p.last_mem_ver},
            {"cur_mem_ver", p.cur_mem_ver}};
  }
  json operator()(const TagChangePayload& p) const {
    return {{"type", kTypeTagChange},
            {"change_type", p.change_type},
            {"id", p.id},
            {"tag_type", p.tag_type},
            {"strategy_id", p.strategy_id}};
  }
  json operator()(const GenericPayload& p) const {
    json out = {{"type", kTypeGeneric},
                {"msg_type", p.msg_type},
                {"event", p.event},
                {"change_type", p.change_type}};
    if (!p.malformed.empty()) out["malformed"] = p.malformed;
    return out;
  }
};

// Reads optional members of one JSON object into struct fields, remembering the first error.
// A missing or null member leaves the field at its default.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  void String(const char* name, std::string& out) {
    const json* value = Find(name);
    if (value == nullptr) return;
    if (!value->is_string()) return Fail(name, "a string");
    out = value->get_ref<const std::string&>();
  }
  void Int(const char* name, int64_t& out) {
    const json* value = Find(name);
    if (value == nullptr) return;
    if (value->is_number_unsigned()) {
      const auto u = value->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Fail(name, "an integer below 2^63");
      }
      out = static_cast<int64_t>(u);
      return;
    }
    if (!value->is_number_integer()) return Fail(name, "an integer");
    out = value->get<int64_t>();
  }
  void Double(const char* name, double& out) {
    const json* value = Find(name);
    if (value == nullptr) return;
    if (!value->is_number()) return Fail(name, "a number");
    out = value->get<double>();
  }
  void StringList(const char* name, std::vector<std::string>& out) {
    const json* value = Find(name);
    if (value == nullptr) return;
    if (!value->is_array()) return Fail(name, "an array of strings");
    std::vector<std::string> items;
    items.reserve(value->size());
    for (const json& item : *value) {
      if (!item.is_string()) return Fail(name, "an array of strings");
      items.push_back(item.get<std::string>());
    }
    out = std::move(items);
  }

  const core::Status& status() const { return status_; }

 private:
  const json* Find(const char* name) const {
    const auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(const char* name, const char* expected) {
    if (status_.ok()) {
      status_ = core::InvalidArgumentError(std::string("payload field \"") + name + "\" must be " +
                                           expected);
    }
  }

  const json& object_;
  core::Status status_;
};

// The alternative a payload without "type" gets for its kind.
std::string_view DefaultTypeFor(InteractionKind kind) {
  switch (kind) {
    case InteractionKind::kMessageText: return kTypeText;
    case InteractionKind::kMessageImage:
    case InteractionKind::kMessageVoice:
    case InteractionKind::kMessageVideo: return kTypeMedia;
    case InteractionKind::kMessageLocation:
    case InteractionKind::kLocationReport: return kTypeLocation;
    case InteractionKind::kMessageLink: return kTypeLink;
    case InteractionKind::kSubscribe:
    case InteractionKind::kScan: return kTypeQrScene;
    case InteractionKind::kMenuClick:
    case InteractionKind::kMenuView: return kTypeMenu;
    case InteractionKind::kTemplateSendFinish:
    case InteractionKind::kMassSendFinish: return kTypeSendJob;
    case InteractionKind::kContactAdd:
    case InteractionKind::kContactAddHalf:
    case InteractionKind::kContactEdit:
    case InteractionKind::kContactDelete:
    case InteractionKind::kFollowUserDelete:
    case InteractionKind::kContactTransferFail: return kTypeContactChange;
    case InteractionKind::kChatCreate:
    case InteractionKind::kChatUpdate:
    case InteractionKind::kChatDismiss: return kTypeChatChange;
    case InteractionKind::kTagCreate:
    case InteractionKind::kTagUpdate:
    case InteractionKind::kTagDelete:
    case InteractionKind::kTagShuffle: return kTypeTagChange;
    case InteractionKind::kUnknown:
    case InteractionKind::kUnsubscribe:
    case InteractionKind::kEnterAgent:
    case InteractionKind::kOtherEvent:
    case InteractionKind::kMalformed: return kTypeGeneric;
  }
  return kTypeGeneric;
}

// Reads the alternative named `type` from `object`.
core::StatusOr<Payload> ReadPayload(std::string_view type, const json& object) {
  FieldReader r(object);
  Payload payload;
  if (type == kTypeText) {
    TextPayload p;
    r.String("content", p.content);
    payload = std::move(p);
  } else if (type == kTypeMedia) {
    MediaPayload p;
    r.String("media_id", p.media_id);
    r.String("pic_url", p.pic_url);
    r.String("format", p.format);
    r.String("recognition", p.recognition);
    r.String("thumb_media_id", p.thumb_media_id);
    payload = std::move(p);
  } else if (type == kTypeLocation) {
    LocationPayload p;
    r.Double("latitude", p.latitude);
    r.Double("longitude", p.longitude);
    r.Double("precision", p.precision);
    r.Int("scale", p.scale);
    r.String("label", p.label);
    payload = std::move(p);
  } else if (type == kTypeLink) {
    LinkPayload p;
    r.String("title", p.title);
    r.String("description", p.description);
    r.String("url", p.url);
    payload = std::move(p);
  } else if (type == kTypeQrScene) {
    QrScenePayload p;
    r.String("scene", p.scene);
    r.String("ticket", p.ticket);
    payload = std::move(p);
  } else if (type == kTypeMenu) {
    MenuPayload p;
    r.String("event_key", p.event_key);
    r.String("menu_id", p.menu_id);
    payload = std::move(p);
  } else if (type == kTypeSendJob) {
    SendJobPayload p;
    r.String("job_msg_id", p.job_msg_id);
    r.String("status", p.status);
    r.Int("total_count", p.total_count);
    r.Int("filter_count", p.filter_count);
    r.Int("sent_count", p.sent_count);
    r.Int("error_count", p.error_count);
    payload = std::move(p);
  } else if (type == kTypeContactChange) {
    ContactChangePayload p;
    r.String("change_type", p.change_type);
    r.String("state", p.state);
    r.String("welcome_code", p.welcome_code);
    r.String("source", p.source);
    r.String("fail_reason", p.fail_reason);
    payload = std::move(p);
  } else if (type == kTypeChatChange) {
    ChatChangePayload p;
    r.String("change_type", p.change_type);
    r.String("update_detail", p.update_detail);
    r.Int("join_scene", p.join_scene);
    r.Int("quit_scene", p.quit_scene);
    r.Int("mem_change_cnt", p.mem_change_cnt);
    r.StringList("mem_change_list", p.mem_change_list);
    r.String("last_mem_ver", p.last_mem_ver);
    r.String("cur_mem_ver", p.cur_mem_ver);
    payload = std::move(p);
  } else if (type == kTypeTagChange) {
    TagChangePayload p;
    r.String("change_type", p.change_type);
    r.String("id", p.id);
    r.String("tag_type", p.tag_type);
    r.String("strategy_id", p.strategy_id);
    payload = std::move(p);
  } else if (type == kTypeGeneric) {
    GenericPayload p;
    r.String("msg_type", p.msg_type);
    r.String("event", p.event);
    r.String("change_type", p.change_type);
    r.String("malformed", p.malformed);
    payload = std::move(p);
  } else {
    return core::InvalidArgumentError("unknown payload type \"" + std::string(type) + "\"");
  }
  SCRM_RETURN_IF_ERROR(r.status());
  return payload;
}

}  // namespace

json PayloadToJson(const Payload& payload) { return std::visit(ToJsonVisitor{}, payload); }

core::StatusOr<Payload> PayloadFromJson(InteractionKind kind, const json& value) {
  if (value.is_null()) return Payload{};
  if (!value.is_object()) return core::InvalidArgumentError("payload must be an object or null");
  const auto type = value.find("type");
  if (type == value.end() || type->is_null()) return ReadPayload(DefaultTypeFor(kind), value);
  if (!type->is_string()) return core::InvalidArgumentError("payload type must be a string");
  return ReadPayload(type->get_ref<const std::string&>(), value);
}

json InteractionToJson(const Interaction& interaction, bool include_raw) {
  json out = {
      {"id", interaction.id},
      {"platform", PlatformName(interaction.platform)},
      {"account", interaction.account_id},
      {"kind", KindName(interaction.kind)},
      {"dedupe_key", interaction.dedupe_key},
      {"msg_id", interaction.msg_id},
      {"openid", interaction.openid},
      {"unionid", interaction.unionid},
      {"external_userid", interaction.external_userid},
      {"userid", interaction.userid},
      {"chat_id", interaction.chat_id},
      {"to_user", interaction.to_user},
      {"occurred_at_ms", interaction.occurred_at_ms},
      {"received_at_ms", interaction.received_at_ms},
      {"payload", PayloadToJson(interaction.payload)},
      {"raw_format", interaction.raw_format},
  };
  if (include_raw) out["raw_body"] = interaction.raw_body;
  return out;
}

}  // namespace scrm::model
