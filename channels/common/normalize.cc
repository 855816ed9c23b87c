#include "channels/common/normalize.h"

#include <array>
#include <bitset>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "src/core/crypto_util.h"
#include "src/core/strings.h"

namespace scrm::channels {
namespace {

using model::InteractionKind;
using model::Platform;

// The HTTP edge caps bodies well below this; a decrypted payload bigger than any real callback
// is refused here too so a bug upstream cannot feed the parsers unbounded input.
constexpr size_t kMaxBodyBytes = size_t{1} << 20;

// Dedupe keys are indexed by the inbox; a key longer than this (a change_external_chat with a
// long MemChangeList) is replaced by its scheme plus the SHA-256 of the full key.
constexpr size_t kMaxDedupeKeyBytes = 256;

// MsgId is a 64-bit unsigned integer (PROTOCOL §3): at most 20 decimal digits.
constexpr size_t kMaxIdDigits = 20;

// CreateTime is in seconds and becomes milliseconds in an int64.
constexpr uint64_t kMaxCreateTimeSeconds =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 1000);

// Fields and separator of dedupe keys: ASCII unit separator between fields, ESC to escape a
// separator or ESC inside a field so two different field lists never produce one key.
constexpr char kKeySeparator = '\x1f';
constexpr char kKeyEscape = '\x1b';

// Every top-level element (XML) or member (JSON) the normalizer reads. PROTOCOL §3.
enum class Field : uint8_t {
  kToUserName,
  kFromUserName,
  kCreateTime,
  kMsgType,
  kMsgId,  // messages: 64-bit id
  kMsgID,  // TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH job id (capital D)
  kContent,
  kPicUrl,
  kMediaId,
  kFormat,
  kRecognition,
  kThumbMediaId,
  kLocationX,  // Location_X
  kLocationY,  // Location_Y
  kScale,
  kLabel,
  kTitle,
  kDescription,
  kUrl,
  kEvent,
  kEventKey,
  kTicket,
  kMenuId,
  kLatitude,
  kLongitude,
  kPrecision,
  kStatus,
  kTotalCount,
  kFilterCount,
  kSentCount,
  kErrorCount,
  kAgentID,
  kChangeType,
  kUserID,
  kExternalUserID,
  kState,
  kWelcomeCode,
  kSource,
  kFailReason,
  kChatId,
  kUpdateDetail,
  kJoinScene,
  kQuitScene,
  kMemChangeCnt,
  kLastMemVer,
  kCurMemVer,
  kId,
  kTagType,
  kStrategyId,
  kInfoType,    // third-party 指令回调 form: the Event value
  kTimeStamp,   // third-party 指令回调 form: the CreateTime value
  kAuthCorpId,  // third-party 指令回调 form: the authorizing corp
  kCount,
};
constexpr size_t kFieldCount = static_cast<size_t>(Field::kCount);

// Names are the platform's, case-sensitive as sent.
constexpr std::pair<std::string_view, Field> kFieldNames[] = {
    {"ToUserName", Field::kToUserName},
    {"FromUserName", Field::kFromUserName},
    {"CreateTime", Field::kCreateTime},
    {"MsgType", Field::kMsgType},
    {"MsgId", Field::kMsgId},
    {"MsgID", Field::kMsgID},
    {"Content", Field::kContent},
    {"PicUrl", Field::kPicUrl},
    {"MediaId", Field::kMediaId},
    {"Format", Field::kFormat},
    {"Recognition", Field::kRecognition},
    {"ThumbMediaId", Field::kThumbMediaId},
    {"Location_X", Field::kLocationX},
    {"Location_Y", Field::kLocationY},
    {"Scale", Field::kScale},
    {"Label", Field::kLabel},
    {"Title", Field::kTitle},
    {"Description", Field::kDescription},
    {"Url", Field::kUrl},
    {"Event", Field::kEvent},
    {"EventKey", Field::kEventKey},
    {"Ticket", Field::kTicket},
    {"MenuId", Field::kMenuId},
    {"Latitude", Field::kLatitude},
    {"Longitude", Field::kLongitude},
    {"Precision", Field::kPrecision},
    {"Status", Field::kStatus},
    {"TotalCount", Field::kTotalCount},
    {"FilterCount", Field::kFilterCount},
    {"SentCount", Field::kSentCount},
    {"ErrorCount", Field::kErrorCount},
    {"AgentID", Field::kAgentID},
    {"ChangeType", Field::kChangeType},
    {"UserID", Field::kUserID},
    {"ExternalUserID", Field::kExternalUserID},
    {"State", Field::kState},
    {"WelcomeCode", Field::kWelcomeCode},
    {"Source", Field::kSource},
    {"FailReason", Field::kFailReason},
    {"ChatId", Field::kChatId},
    {"UpdateDetail", Field::kUpdateDetail},
    {"JoinScene", Field::kJoinScene},
    {"QuitScene", Field::kQuitScene},
    {"MemChangeCnt", Field::kMemChangeCnt},
    {"LastMemVer", Field::kLastMemVer},
    {"CurMemVer", Field::kCurMemVer},
    {"Id", Field::kId},
    {"TagType", Field::kTagType},
    {"StrategyId", Field::kStrategyId},
    {"InfoType", Field::kInfoType},
    {"TimeStamp", Field::kTimeStamp},
    {"AuthCorpId", Field::kAuthCorpId},
};

// change_external_chat MemChangeList: <MemChangeList><Item>…</Item>…</MemChangeList>.
constexpr std::string_view kMemChangeList = "MemChangeList";
constexpr const char* kMemChangeItem = "Item";

std::optional<Field> LookupField(std::string_view name) {
  for (const auto& [field_name, field] : kFieldNames) {
    if (field_name == name) return field;
  }
  return std::nullopt;
}

// The fields of one payload as views into the parsed document (or into `owned_` when the value
// had to be assembled). Lives no longer than the document it was read from.
class Fields {
 public:
  // First occurrence wins (an XML element repeated at top level is not a platform shape).
  void Set(Field field, std::string_view value, bool is_integer = true) {
    const auto i = static_cast<size_t>(field);
    if (present_[i]) return;
    present_[i] = true;
    values_[i] = value;
    if (!is_integer) not_integer_[i] = true;
  }
  void SetOwned(Field field, std::string value, bool is_integer = true) {
    if (Has(field)) return;
    owned_.push_back(std::move(value));
    Set(field, owned_.back(), is_integer);
  }
  std::string_view Own(std::string value) {
    owned_.push_back(std::move(value));
    return owned_.back();
  }

  bool Has(Field field) const { return present_[static_cast<size_t>(field)]; }
  std::string_view Get(Field field) const { return values_[static_cast<size_t>(field)]; }
  std::string Str(Field field) const { return std::string(Get(field)); }
  // True when the value came from something that is not an integer (a JSON float, bool,
  // object or array): ids must then be refused even if their text looks numeric.
  bool NotInteger(Field field) const { return not_integer_[static_cast<size_t>(field)]; }

  std::vector<std::string_view>& mem_change_list() { return mem_change_list_; }
  const std::vector<std::string_view>& mem_change_list() const { return mem_change_list_; }

 private:
  std::array<std::string_view, kFieldCount> values_{};
  std::bitset<kFieldCount> present_;
  std::bitset<kFieldCount> not_integer_;
  std::vector<std::string_view> mem_change_list_;
  std::deque<std::string> owned_;  // deque: growing it never moves the strings views point at
};

Decoded<model::Interaction> Reject(std::string detail) {
  Decoded<model::Interaction> out;
  out.rejection = Rejection{RejectReason::kMalformedMessage, std::move(detail)};
  return out;
}

// ---------------------------------------------------------------------------------------------
// XML

// Text content of an element: PCDATA and CDATA children concatenated (a value containing "]]>"
// arrives split over two CDATA sections). PROTOCOL §3: any field may be CDATA or bare.
std::string_view ElementText(pugi::xml_node element, Fields& fields) {
  pugi::xml_node first = element.first_child();
  if (!first) return {};
  const auto is_text = [](pugi::xml_node n) {
    return n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata;
  };
  if (!first.next_sibling()) return is_text(first) ? std::string_view(first.value()) : "";
  std::string joined;
  for (pugi::xml_node child = first; child; child = child.next_sibling()) {
    if (is_text(child)) joined += child.value();
  }
  return fields.Own(std::move(joined));
}

// pugixml never reads external entities and never expands DTD-declared ones; parse_escapes only
// decodes the five predefined references and &#…; (output never longer than input), so it stays.
// parse_doctype is added only so a DTD is seen and refused below.
constexpr unsigned kXmlParseOptions = pugi::parse_default | pugi::parse_doctype;

std::optional<std::string> ReadXml(std::string_view body, pugi::xml_document& doc, Fields& fields) {
  // load_buffer copies the bytes once into pugixml's own buffer (it parses in place).
  const pugi::xml_parse_result result =
      doc.load_buffer(body.data(), body.size(), kXmlParseOptions, pugi::encoding_utf8);
  if (!result) {
    return std::string("xml parse error: ") + result.description() + " at offset " +
           std::to_string(result.offset);
  }
  pugi::xml_node root;
  for (pugi::xml_node node = doc.first_child(); node; node = node.next_sibling()) {
    if (node.type() == pugi::node_doctype) {
      // WeChat never sends a DTD; one here is an entity-expansion / XXE probe, not a callback.
      return std::string("xml has a DOCTYPE");
    }
    if (node.type() == pugi::node_element) {
      if (root) return std::string("xml has more than one root element");
      root = node;
    }
  }
  if (!root || std::string_view(root.name()) != "xml") return std::string("xml root is not <xml>");

  for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (const std::optional<Field> field = LookupField(name)) {
      fields.Set(*field, ElementText(child, fields));
    } else if (name == kMemChangeList && fields.mem_change_list().empty()) {
      for (pugi::xml_node item = child.child(kMemChangeItem); item;
           item = item.next_sibling(kMemChangeItem)) {
        fields.mem_change_list().push_back(ElementText(item, fields));
      }
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// JSON

template <typename T>
std::string NumberText(T value) {
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return {};
  return std::string(buf.data(), end);
}

// Text of a scalar JSON member. Integers keep every digit (nlohmann stores them as uint64/int64,
// never through a double); floats are printed shortest-round-trip and flagged as not integers.
void SetJsonScalar(Field field, const nlohmann::json& value, Fields& fields) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::string: fields.Set(field, value.get_ref<const std::string&>()); return;
    case Type::number_unsigned: fields.SetOwned(field, NumberText(value.get<uint64_t>())); return;
    case Type::number_integer: fields.SetOwned(field, NumberText(value.get<int64_t>())); return;
    case Type::number_float:
      fields.SetOwned(field, NumberText(value.get<double>()), /*is_integer=*/false);
      return;
    case Type::null: return;  // absent
    default:
      fields.Set(field, {}, /*is_integer=*/false);  // bool, object, array: present, no text
      return;
  }
}

void ReadJsonMemChangeList(const nlohmann::json& value, Fields& fields) {
  // Accept both a plain array and the XML-shaped {"Item": [...]} / {"Item": "..."}.
  const nlohmann::json* items = &value;
  if (value.is_object()) {
    const auto it = value.find(kMemChangeItem);
    if (it == value.end()) return;
    items = &*it;
  }
  const auto add = [&fields](const nlohmann::json& item) {
    if (item.is_string()) fields.mem_change_list().push_back(item.get_ref<const std::string&>());
  };
  if (items->is_array()) {
    for (const nlohmann::json& item : *items) add(item);
  } else {
    add(*items);
  }
}

std::optional<std::string> ReadJson(std::string_view body, nlohmann::json& doc, Fields& fields) {
  doc = nlohmann::json::parse(body.data(), body.data() + body.size(), nullptr,
                              /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::string("json parse error");
  if (!doc.is_object()) return std::string("json payload is not an object");
  for (const auto& [name, value] : doc.get_ref<const nlohmann::json::object_t&>()) {
    if (const std::optional<Field> field = LookupField(name)) {
      SetJsonScalar(*field, value, fields);
    } else if (name == kMemChangeList) {
      ReadJsonMemChangeList(value, fields);
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Values

// A 64-bit id (MsgId, MsgID, CreateTime): ASCII digits only, at most 20, fits in uint64.
std::optional<uint64_t> ParseUnsignedId(std::string_view text) {
  text = core::TrimAscii(text);
  if (text.empty() || text.size() > kMaxIdDigits) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// An id field that is present must be a 64-bit unsigned integer; an empty element counts as
// absent (the message then falls back to the body-hash key).
bool BadId(const Fields& f, Field field) {
  if (!f.Has(field)) return false;
  if (f.NotInteger(field)) return true;
  const std::string_view text = core::TrimAscii(f.Get(field));
  return !text.empty() && !ParseUnsignedId(text);
}

// Non-identity numbers (JoinScene, TotalCount, Scale, …): anything unparsable is 0, because a
// bad count must not cost us the event.
int64_t LenientInt(std::string_view text) {
  text = core::TrimAscii(text);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return 0;
  return value;
}

double LenientDouble(std::string_view text) {
  text = core::TrimAscii(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return 0;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Dedupe keys (PROTOCOL §2)

class DedupeKey {
 public:
  explicit DedupeKey(std::string_view scheme) : scheme_(scheme) {
    key_.reserve(128);
    key_.append(scheme);
  }
  DedupeKey& Add(std::string_view field) {
    key_.push_back(kKeySeparator);
    for (const char c : field) {
      if (c == kKeySeparator || c == kKeyEscape) key_.push_back(kKeyEscape);
      key_.push_back(c);
    }
    return *this;
  }
  // Moves the key out; the builder is spent afterwards.
  std::string Finish() {
    if (key_.size() <= kMaxDedupeKeyBytes) return std::move(key_);
    std::string hashed(scheme_);
    hashed.push_back(kKeySeparator);
    hashed.append("sha256:");
    hashed.append(core::Sha256Hex(key_));
    return hashed;
  }

 private:
  std::string_view scheme_;
  std::string key_;
};

std::string RawKey(std::string_view body) {
  return DedupeKey("raw").Add(core::Sha256Hex(body)).Finish();
}

// ---------------------------------------------------------------------------------------------
// Mapping (PROTOCOL §3)

// What the event-level fields resolve to, after the third-party 指令回调 substitution.
struct Header {
  std::string_view msg_type;
  std::string_view event;      // Event, or InfoType in the third-party form
  std::string create_time;     // canonical decimal seconds, for keys
  std::string_view from_user;  // FromUserName
};

void MapMessage(const Fields& f, std::string_view msg_type, model::Interaction& out) {
  if (msg_type == "text") {
    out.kind = InteractionKind::kMessageText;
    out.payload = model::TextPayload{f.Str(Field::kContent)};
  } else if (msg_type == "image") {
    out.kind = InteractionKind::kMessageImage;
    model::MediaPayload media;
    media.media_id = f.Str(Field::kMediaId);
    media.pic_url = f.Str(Field::kPicUrl);
    out.payload = std::move(media);
  } else if (msg_type == "voice") {
    out.kind = InteractionKind::kMessageVoice;
    model::MediaPayload media;
    media.media_id = f.Str(Field::kMediaId);
    media.format = f.Str(Field::kFormat);
    media.recognition = f.Str(Field::kRecognition);
    out.payload = std::move(media);
  } else if (msg_type == "video" || msg_type == "shortvideo") {
    out.kind = InteractionKind::kMessageVideo;
    model::MediaPayload media;
    media.media_id = f.Str(Field::kMediaId);
    media.thumb_media_id = f.Str(Field::kThumbMediaId);
    out.payload = std::move(media);
  } else if (msg_type == "location") {
    out.kind = InteractionKind::kMessageLocation;
    model::LocationPayload location;
    location.latitude = LenientDouble(f.Get(Field::kLocationX));
    location.longitude = LenientDouble(f.Get(Field::kLocationY));
    location.scale = LenientInt(f.Get(Field::kScale));
    location.label = f.Str(Field::kLabel);
    out.payload = std::move(location);
  } else if (msg_type == "link") {
    out.kind = InteractionKind::kMessageLink;
    model::LinkPayload link;
    link.title = f.Str(Field::kTitle);
    link.description = f.Str(Field::kDescription);
    link.url = f.Str(Field::kUrl);
    out.payload = std::move(link);
  } else {
    out.kind = InteractionKind::kUnknown;
    out.payload = model::GenericPayload{std::string(msg_type), f.Str(Field::kEvent),
                                        f.Str(Field::kChangeType), ""};
  }
}

void SetOtherEvent(const Fields& f, const Header& h, model::Interaction& out) {
  out.kind = InteractionKind::kOtherEvent;
  out.payload = model::GenericPayload{std::string(h.msg_type), std::string(h.event),
                                      f.Str(Field::kChangeType), ""};
}

// OA events (PROTOCOL §3.2). Returns false when `event` is not one of them.
bool MapOaEvent(const Fields& f, const Header& h, model::Interaction& out) {
  const std::string_view event = h.event;
  if (event == "subscribe" || event == "SCAN") {
    model::QrScenePayload qr;
    const std::string_view key = f.Get(Field::kEventKey);
    if (event == "subscribe") {
      // A subscribe through a parametric QR code carries "qrscene_" + scene; SCAN (already a
      // follower) carries the scene bare.
      constexpr std::string_view kQrScenePrefix = "qrscene_";
      out.kind = InteractionKind::kSubscribe;
      if (key.substr(0, kQrScenePrefix.size()) == kQrScenePrefix) {
        qr.scene = std::string(key.substr(kQrScenePrefix.size()));
      }
    } else {
      out.kind = InteractionKind::kScan;
      qr.scene = std::string(key);
    }
    qr.ticket = f.Str(Field::kTicket);
    out.payload = std::move(qr);
  } else if (event == "unsubscribe") {
    out.kind = InteractionKind::kUnsubscribe;
  } else if (event == "CLICK" || event == "VIEW") {
    out.kind = event == "CLICK" ? InteractionKind::kMenuClick : InteractionKind::kMenuView;
    out.payload = model::MenuPayload{f.Str(Field::kEventKey), f.Str(Field::kMenuId)};
  } else if (event == "LOCATION") {
    out.kind = InteractionKind::kLocationReport;
    model::LocationPayload location;
    location.latitude = LenientDouble(f.Get(Field::kLatitude));
    location.longitude = LenientDouble(f.Get(Field::kLongitude));
    location.precision = LenientDouble(f.Get(Field::kPrecision));
    out.payload = std::move(location);
  } else if (event == "TEMPLATESENDJOBFINISH" || event == "MASSSENDJOBFINISH") {
    out.kind = event == "TEMPLATESENDJOBFINISH" ? InteractionKind::kTemplateSendFinish
                                                : InteractionKind::kMassSendFinish;
    model::SendJobPayload job;
    job.job_msg_id = std::string(core::TrimAscii(f.Get(Field::kMsgID)));
    job.status = f.Str(Field::kStatus);
    job.total_count = LenientInt(f.Get(Field::kTotalCount));
    job.filter_count = LenientInt(f.Get(Field::kFilterCount));
    job.sent_count = LenientInt(f.Get(Field::kSentCount));
    job.error_count = LenientInt(f.Get(Field::kErrorCount));
    // PROTOCOL §2: job-finish events are identified by their MsgID.
    out.dedupe_key = DedupeKey("job").Add(event).Add(job.job_msg_id).Add(h.from_user).Finish();
    out.payload = std::move(job);
    return true;
  } else {
    return false;
  }
  out.dedupe_key = DedupeKey("evt")
                       .Add(h.from_user)
                       .Add(h.create_time)
                       .Add(event)
                       .Add(f.Get(Field::kEventKey))
                       .Finish();
  return true;
}

std::optional<InteractionKind> ContactKind(std::string_view change_type) {
  if (change_type == "add_external_contact") return InteractionKind::kContactAdd;
  if (change_type == "add_half_external_contact") return InteractionKind::kContactAddHalf;
  if (change_type == "edit_external_contact") return InteractionKind::kContactEdit;
  if (change_type == "del_external_contact") return InteractionKind::kContactDelete;
  if (change_type == "del_follow_user") return InteractionKind::kFollowUserDelete;
  if (change_type == "transfer_fail") return InteractionKind::kContactTransferFail;
  return std::nullopt;
}

std::optional<InteractionKind> ChatKind(std::string_view change_type) {
  if (change_type == "create") return InteractionKind::kChatCreate;
  if (change_type == "update") return InteractionKind::kChatUpdate;
  if (change_type == "dismiss") return InteractionKind::kChatDismiss;
  return std::nullopt;
}

std::optional<InteractionKind> TagKind(std::string_view change_type) {
  if (change_type == "create") return InteractionKind::kTagCreate;
  if (change_type == "update") return InteractionKind::kTagUpdate;
  if (change_type == "delete") return InteractionKind::kTagDelete;
  if (change_type == "shuffle") return InteractionKind::kTagShuffle;
  return std::nullopt;
}

// WeCom events (PROTOCOL §3.3, §3.4). Returns false when `event` is not one of them. The key
// scheme follows the Event family, so an unknown ChangeType still gets its family's key.
bool MapWecomEvent(const Fields& f, const Header& h, model::Interaction& out) {
  const std::string_view event = h.event;
  const std::string_view change_type = f.Get(Field::kChangeType);
  if (event == "change_external_contact") {
    if (const auto kind = ContactKind(change_type)) {
      out.kind = *kind;
      out.payload = model::ContactChangePayload{std::string(change_type), f.Str(Field::kState),
                                                f.Str(Field::kWelcomeCode), f.Str(Field::kSource),
                                                f.Str(Field::kFailReason)};
    } else {
      SetOtherEvent(f, h, out);
    }
    // FromUserName is always "sys" here (PROTOCOL §2), so the subject fields identify it.
    out.dedupe_key = DedupeKey("ext")
                         .Add(change_type)
                         .Add(f.Get(Field::kUserID))
                         .Add(f.Get(Field::kExternalUserID))
                         .Add(h.create_time)
                         .Add(f.Get(Field::kState))
                         .Add(f.Get(Field::kWelcomeCode))
                         .Add(f.Get(Field::kSource))
                         .Add(f.Get(Field::kFailReason))
                         .Finish();
    return true;
  }
  if (event == "change_external_chat") {
    if (const auto kind = ChatKind(change_type)) {
      out.kind = *kind;
      model::ChatChangePayload chat;
      chat.change_type = std::string(change_type);
      chat.update_detail = f.Str(Field::kUpdateDetail);
      chat.join_scene = LenientInt(f.Get(Field::kJoinScene));
      chat.quit_scene = LenientInt(f.Get(Field::kQuitScene));
      chat.mem_change_cnt = LenientInt(f.Get(Field::kMemChangeCnt));
      chat.mem_change_list.assign(f.mem_change_list().begin(), f.mem_change_list().end());
      chat.last_mem_ver = f.Str(Field::kLastMemVer);
      chat.cur_mem_ver = f.Str(Field::kCurMemVer);
      out.payload = std::move(chat);
    } else {
      SetOtherEvent(f, h, out);
    }
    DedupeKey key("chat");
    key.Add(change_type)
        .Add(f.Get(Field::kChatId))
        .Add(h.create_time)
        .Add(f.Get(Field::kUpdateDetail))
        .Add(f.Get(Field::kCurMemVer));
    for (const std::string_view member : f.mem_change_list()) key.Add(member);
    out.dedupe_key = key.Finish();
    return true;
  }
  if (event == "change_external_tag") {
    if (const auto kind = TagKind(change_type)) {
      out.kind = *kind;
      out.payload = model::TagChangePayload{std::string(change_type), f.Str(Field::kId),
                                            f.Str(Field::kTagType), f.Str(Field::kStrategyId)};
    } else {
      SetOtherEvent(f, h, out);
    }
    out.dedupe_key = DedupeKey("tag")
                         .Add(change_type)
                         .Add(f.Get(Field::kId))
                         .Add(f.Get(Field::kTagType))
                         .Add(h.create_time)
                         .Add(f.Get(Field::kStrategyId))
                         .Finish();
    return true;
  }
  if (event == "enter_agent") {
    out.kind = InteractionKind::kEnterAgent;
    return true;  // app-event key, set by the caller
  }
  return false;
}

void MapEvent(model::Platform platform, const Fields& f, const Header& h, std::string_view body,
              model::Interaction& out) {
  // OA and WeCom share event names with different meanings (WeCom's member "subscribe",
  // "LOCATION"), so each platform maps only its own set; the rest is kOtherEvent.
  const bool mapped =
      platform == Platform::kOfficialAccount ? MapOaEvent(f, h, out) : MapWecomEvent(f, h, out);
  if (!mapped) SetOtherEvent(f, h, out);
  if (!out.dedupe_key.empty()) return;
  if (h.from_user.empty() || h.from_user == "sys") {
    // System events (通讯录, third-party InfoType pushes, …) name their subject in fields we do
    // not model; FromUserName + CreateTime would merge two of them in one second.
    out.dedupe_key = RawKey(body);
    return;
  }
  DedupeKey key("evt");
  key.Add(h.from_user).Add(h.create_time).Add(h.event).Add(f.Get(Field::kEventKey));
  if (platform == Platform::kWecom) key.Add(core::TrimAscii(f.Get(Field::kAgentID)));
  out.dedupe_key = key.Finish();
}

Decoded<model::Interaction> Normalize(model::Platform platform, std::string_view account_id,
                                      std::string_view body, PayloadFormat format) {
  if (body.size() > kMaxBodyBytes) {
    return Reject("payload of " + std::to_string(body.size()) + " bytes exceeds the limit");
  }
  Fields f;
  pugi::xml_document xml_doc;  // f's views point into whichever document was parsed
  nlohmann::json json_doc;
  const std::optional<std::string> parse_error =
      format == PayloadFormat::kXml ? ReadXml(body, xml_doc, f) : ReadJson(body, json_doc, f);
  if (parse_error) return Reject(*parse_error);

  Header h;
  h.msg_type = f.Get(Field::kMsgType);
  h.event = f.Get(Field::kEvent);
  // Third-party 指令回调 form (PROTOCOL §3.4, [WC-DOC] 92277): InfoType is the Event and
  // TimeStamp the CreateTime.
  if (!f.Has(Field::kEvent) && f.Has(Field::kInfoType)) h.event = f.Get(Field::kInfoType);
  const Field time_field = !f.Has(Field::kCreateTime) && f.Has(Field::kTimeStamp)
                               ? Field::kTimeStamp
                               : Field::kCreateTime;
  if (!f.Has(time_field)) return Reject("CreateTime missing");
  const std::optional<uint64_t> create_time =
      f.NotInteger(time_field) ? std::nullopt : ParseUnsignedId(f.Get(time_field));
  if (!create_time || *create_time > kMaxCreateTimeSeconds) {
    return Reject("CreateTime is not a number of seconds");
  }
  h.create_time = std::to_string(*create_time);
  h.from_user = f.Get(Field::kFromUserName);

  // MsgId is 64-bit: kept as its digits, never through a double (PROTOCOL §3). An empty
  // element is treated as absent.
  if (BadId(f, Field::kMsgId)) return Reject("MsgId is not a 64-bit unsigned integer");
  if (BadId(f, Field::kMsgID)) return Reject("MsgID is not a 64-bit unsigned integer");
  const std::string_view msg_id = core::TrimAscii(f.Get(Field::kMsgId));

  Decoded<model::Interaction> decoded;
  model::Interaction& out = decoded.value.emplace();
  out.platform = platform;
  out.account_id = std::string(account_id);
  out.occurred_at_ms = static_cast<int64_t>(*create_time) * 1000;
  out.msg_id = std::string(msg_id);
  out.to_user = f.Has(Field::kToUserName) ? f.Str(Field::kToUserName) : f.Str(Field::kAuthCorpId);
  // Never out.unionid: an identity claim in a callback body is not believed (PROTOCOL §5: the
  // unionid comes from user/info and externalcontact/get, which the enrichment job reads). A
  // plain-mode OA body is not even signed, so a UnionId element there would let anyone who saw
  // one callback URL merge a victim's profile into theirs. The element is ignored like any
  // unknown one and stays visible in raw_body.
  out.external_userid = f.Str(Field::kExternalUserID);  // ExternalUserID
  out.chat_id = f.Str(Field::kChatId);                  // ChatId
  if (platform == Platform::kOfficialAccount) {
    out.openid = std::string(h.from_user);  // OA FromUserName is the follower's openid
  } else if (f.Has(Field::kUserID)) {
    out.userid = f.Str(Field::kUserID);  // 客户联系 events: the member is UserID
  } else if (h.from_user != "sys") {
    out.userid = std::string(h.from_user);  // app messages/events: FromUserName is the member
  }

  const bool is_event = h.msg_type == "event" || (h.msg_type.empty() && !h.event.empty());
  if (is_event) {
    MapEvent(platform, f, h, body, out);
  } else {
    MapMessage(f, h.msg_type, out);
    // PROTOCOL §2: messages are identified by MsgId; the sender is added for safety.
    out.dedupe_key =
        msg_id.empty() ? RawKey(body) : DedupeKey("msg").Add(msg_id).Add(h.from_user).Finish();
  }
  out.raw_body = std::string(body);
  out.raw_format = format == PayloadFormat::kXml ? "xml" : "json";
  return decoded;
}

}  // namespace

Decoded<model::Interaction> NormalizeAuthenticated(model::Platform platform,
                                                   std::string_view account_id,
                                                   std::string_view body, PayloadFormat format) {
  Decoded<model::Interaction> decoded = NormalizePayload(platform, account_id, body, format);
  if (decoded.ok() || decoded.rejection.reason != RejectReason::kMalformedMessage ||
      body.size() > kMaxBodyBytes) {
    return decoded;
  }
  // The platform signed (and encrypted) this: refusing it would only make it retry the same
  // bytes and then drop them. Keep it, marked, with nothing read from it that could name a
  // customer: the inbox dedupes it by its body and the ingest worker applies nothing for it.
  Decoded<model::Interaction> out;
  model::Interaction& it = out.value.emplace();
  it.platform = platform;
  it.account_id = std::string(account_id);
  it.kind = InteractionKind::kMalformed;
  it.dedupe_key = DedupeKey("malformed").Add(core::Sha256Hex(body)).Finish();
  // No CreateTime can be trusted to be there: 0 (unknown) keeps a retry of the same bytes on
  // the same inbox key, which a receive time would not.
  it.occurred_at_ms = 0;
  model::GenericPayload payload;
  payload.malformed = std::move(decoded.rejection.detail);
  it.payload = std::move(payload);
  it.raw_body = std::string(body);
  it.raw_format = format == PayloadFormat::kXml ? "xml" : "json";
  return out;
}

Decoded<model::Interaction> NormalizePayload(model::Platform platform, std::string_view account_id,
                                             std::string_view body, PayloadFormat format) {
  // The parsers are called with their non-throwing entry points; this boundary only catches
  // what remains (std::bad_alloc) so untrusted input can never unwind into the HTTP worker.
  try {
    return Normalize(platform, account_id, body, format);
  } catch (const std::exception& e) {
    return Reject(std::string("normalize failed: ") + e.what());
  } catch (...) {
    return Reject("normalize failed");
  }
}

}  // namespace scrm::channels
