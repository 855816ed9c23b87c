#include "channels/official_account/oa_outbound.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "src/platform/json_fields.h"

namespace scrm::channels::oa {
namespace {

// The image of a code: GET showqrcode?ticket=URL_ENCODED_TICKET (PROTOCOL §4.2 qrcode/create).
constexpr char kShowQrCode[] = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=";
constexpr int64_t kLongestTemporaryQr = 2592000;  // 30 days (§4.2)

platform::ApiError Rejected(std::string message) {
  platform::ApiError error;
  error.outcome = platform::Outcome::kRejected;
  error.message = std::move(message);
  return error;
}

// OA tag ids are positive integers (tags/create); anything else is nothing the platform holds.
std::optional<int64_t> ParseTagId(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

OaOutbound::OaOutbound(std::string account_id, platform::OaClient& client)
    : account_id_(std::move(account_id)), client_(client) {}

platform::ApiResult<ContactInfo> OaOutbound::ReadContact(const std::string& openid,
                                                         const ReadContactOptions& options) {
  auto user = client_.GetUserInfo(openid, "zh_CN", options.call);
  if (!user.ok()) return user.error();
  // subscribe == 0: only openid (and unionid) come back (PROTOCOL §4.2).
  ContactInfo info;
  info.unionid = user.value().unionid;
  info.SetAttribute("oa.subscribe_scene", user.value().subscribe_scene);
  info.SetAttribute("oa.language", user.value().language);
  return info;
}

bool OaOutbound::IsTagId(std::string_view id) const { return ParseTagId(id).has_value(); }

platform::ApiResult<platform::Done> OaOutbound::MarkTags(const TagTarget& target,
                                                         const std::vector<std::string>& add,
                                                         const std::vector<std::string>& remove,
                                                         const platform::CallOptions& options) {
  std::vector<int64_t> add_ids;
  std::vector<int64_t> remove_ids;
  for (const auto& [from, to] : {std::pair{&add, &add_ids}, std::pair{&remove, &remove_ids}}) {
    for (const std::string& id : *from) {
      const std::optional<int64_t> parsed = ParseTagId(id);
      if (!parsed.has_value()) return Rejected("not an Official Account tag id: " + id);
      to->push_back(*parsed);
    }
  }
  // batchtagging takes one tag and up to 50 openids (§4.2): one call per tag for this openid.
  const std::vector<std::string> openids{target.contact};
  for (const int64_t id : add_ids) {
    auto done = client_.BatchTag(openids, id, options);
    if (!done.ok()) return done.error();
  }
  for (const int64_t id : remove_ids) {
    auto done = client_.BatchUntag(openids, id, options);
    if (!done.ok()) return done.error();
  }
  return platform::Done{};
}

platform::ApiResult<SendReceipt> OaOutbound::Send(const OutboundMessage& message,
                                                  const platform::CallOptions& options) {
  return std::visit(
      [&](const auto& m) -> platform::ApiResult<SendReceipt> {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, platform::OaTemplateMessage>) {
          auto sent = client_.SendTemplate(m, options);
          if (!sent.ok()) return sent.error();
          return SendReceipt{sent.value(), {}};
        } else if constexpr (std::is_same_v<M, platform::OaCustomMessage>) {
          auto sent = client_.SendCustom(m, options);
          if (!sent.ok()) return sent.error();
          return SendReceipt{};
        } else if constexpr (std::is_same_v<M, platform::OaMassMessage>) {
          auto sent = client_.MassSendAll(m, options);
          if (!sent.ok()) return sent.error();
          return SendReceipt{sent.value().msg_id, {}};
        } else {
          return Rejected("Official Account " + account_id_ + " cannot send a WeCom message");
        }
      },
      message);
}

platform::ApiResult<ContactWay> OaOutbound::CreateContactWay(const ContactWayRequest& request,
                                                             const platform::CallOptions& options) {
  if (!request.members.empty()) {
    return Rejected("an Official Account QR scene adds no member");
  }
  platform::OaQrRequest qr;
  qr.type =
      request.temporary ? platform::QrType::kTemporaryString : platform::QrType::kPermanentString;
  qr.scene_str = request.state;
  qr.expire_seconds = request.expires_in_s != 0 ? request.expires_in_s : kLongestTemporaryQr;
  auto created = client_.CreateQrCode(qr, options);
  if (!created.ok()) return created.error();
  ContactWay out;
  out.id = created.value().ticket;
  out.qr_image = kShowQrCode + platform::UrlEncode(created.value().ticket);
  out.qr_content = created.value().url;
  out.expires_in_s = created.value().expire_seconds;
  return out;
}

}  // namespace scrm::channels::oa
