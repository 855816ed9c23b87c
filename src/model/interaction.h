// Interaction: one normalized platform event (message, subscribe, QR scan, contact change, ...)
// as every module after the channel adapters sees it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "src/model/platform.h"

namespace scrm::model {

// What happened. Names (KindName) are stable: they are stored and used in API filters.
enum class InteractionKind {
  kUnknown,              // "unknown": a shape we do not know; stored, never dropped
  kMessageText,          // "message.text"
  kMessageImage,         // "message.image"
  kMessageVoice,         // "message.voice"
  kMessageVideo,         // "message.video"   (video and shortvideo)
  kMessageLocation,      // "message.location"
  kMessageLink,          // "message.link"
  kSubscribe,            // "oa.subscribe"    (scene set when through a parametric QR code)
  kUnsubscribe,          // "oa.unsubscribe"
  kScan,                 // "oa.scan"         (already a follower scanned a parametric QR code)
  kMenuClick,            // "oa.menu_click"
  kMenuView,             // "oa.menu_view"
  kLocationReport,       // "oa.location_report"
  kTemplateSendFinish,   // "oa.template_send_finish"
  kMassSendFinish,       // "oa.mass_send_finish"
  kEnterAgent,           // "wecom.enter_agent"
  kContactAdd,           // "contact.add"          add_external_contact
  kContactAddHalf,       // "contact.add_half"     add_half_external_contact
  kContactEdit,          // "contact.edit"         edit_external_contact
  kContactDelete,        // "contact.delete"       del_external_contact (member removed customer)
  kFollowUserDelete,     // "contact.follow_user_delete"  del_follow_user (customer removed member)
  kContactTransferFail,  // "contact.transfer_fail"
  kChatCreate,           // "chat.create"
  kChatUpdate,           // "chat.update"
  kChatDismiss,          // "chat.dismiss"
  kTagCreate,            // "tag.create"
  kTagUpdate,            // "tag.update"
  kTagDelete,            // "tag.delete"
  kTagShuffle,           // "tag.shuffle"
  kOtherEvent,           // "event.other": an event we do not model (stored with its Event name)
  kMalformed,            // "malformed": an authentic (signature-checked, decrypted) payload the
                         // normalizer could not read (no CreateTime, a non-numeric MsgId, not
                         // XML/JSON...): stored with its raw body, the reason in GenericPayload,
                         // no identity; the ingest worker applies nothing for it
};

std::string_view KindName(InteractionKind kind);
std::optional<InteractionKind> ParseKind(std::string_view name);

// Typed payloads, one per shape family. Field comments give the platform's XML name.
struct TextPayload {
  std::string content;  // Content
};
struct MediaPayload {
  std::string media_id;        // MediaId
  std::string pic_url;         // PicUrl (image)
  std::string format;          // Format (voice)
  std::string recognition;     // Recognition (voice)
  std::string thumb_media_id;  // ThumbMediaId (video)
};
struct LocationPayload {
  double latitude = 0;   // Location_X / Latitude
  double longitude = 0;  // Location_Y / Longitude
  double precision = 0;  // Precision (LOCATION event)
  int64_t scale = 0;     // Scale
  std::string label;     // Label
};
struct LinkPayload {
  std::string title;        // Title
  std::string description;  // Description
  std::string url;          // Url
};
// subscribe / SCAN: the QR scene value without the "qrscene_" prefix, when there is one.
struct QrScenePayload {
  std::string scene;   // EventKey
  std::string ticket;  // Ticket
};
struct MenuPayload {
  std::string event_key;  // EventKey (CLICK key, VIEW url)
  std::string menu_id;    // MenuId
};
struct SendJobPayload {
  std::string job_msg_id;  // MsgID (capital D)
  std::string status;      // Status: "success", "failed:user block", "send success", "err(30003)"
  int64_t total_count = 0;
  int64_t filter_count = 0;
  int64_t sent_count = 0;
  int64_t error_count = 0;
};
struct ContactChangePayload {
  std::string change_type;   // ChangeType
  std::string state;         // State (联系我 state / 获客链接 customer_channel)
  std::string welcome_code;  // WelcomeCode
  std::string source;        // Source (DELETE_BY_TRANSFER)
  std::string fail_reason;   // FailReason (transfer_fail)
};
struct ChatChangePayload {
  std::string change_type;                   // ChangeType create|update|dismiss
  std::string update_detail;                 // UpdateDetail add_member|del_member|change_owner|...
  int64_t join_scene = 0;                    // JoinScene
  int64_t quit_scene = 0;                    // QuitScene
  int64_t mem_change_cnt = 0;                // MemChangeCnt
  std::vector<std::string> mem_change_list;  // MemChangeList/Item
  std::string last_mem_ver;                  // LastMemVer
  std::string cur_mem_ver;                   // CurMemVer
};
struct TagChangePayload {
  std::string change_type;  // ChangeType create|update|delete|shuffle
  std::string id;           // Id (tag or tag-group id)
  std::string tag_type;     // TagType tag|tag_group
  std::string strategy_id;  // StrategyId
};
struct GenericPayload {
  std::string msg_type;     // MsgType
  std::string event;        // Event
  std::string change_type;  // ChangeType, when present
  std::string malformed;    // kind "malformed" only: why the payload could not be read
};

using Payload =
    std::variant<std::monostate, TextPayload, MediaPayload, LocationPayload, LinkPayload,
                 QrScenePayload, MenuPayload, SendJobPayload, ContactChangePayload,
                 ChatChangePayload, TagChangePayload, GenericPayload>;

struct Interaction {
  int64_t id = 0;  // time-ordered id, assigned when the inbox stores it
  Platform platform = Platform::kWecom;
  std::string account_id;  // the configured account the callback came to
  InteractionKind kind = InteractionKind::kUnknown;
  // The platform's identity of the event (PROTOCOL §2): messages by MsgId, events by their
  // semantic fields. Two callbacks with the same key are one interaction.
  std::string dedupe_key;
  std::string msg_id;           // MsgId, a 64-bit integer kept as text
  std::string openid;           // OA FromUserName
  std::string unionid;          // never from a callback body (PROTOCOL §5); nothing trusts it
  std::string external_userid;  // WeCom ExternalUserID (the customer)
  std::string userid;           // WeCom UserID (the member / employee)
  std::string chat_id;          // WeCom ChatId
  std::string to_user;          // ToUserName (gh_… or CorpID), informational
  int64_t occurred_at_ms = 0;   // CreateTime
  int64_t received_at_ms = 0;   // when scrmd accepted it
  Payload payload;
  std::string raw_body;            // the decrypted XML or JSON exactly as received
  std::string raw_format = "xml";  // "xml" | "json"
};

}  // namespace scrm::model
