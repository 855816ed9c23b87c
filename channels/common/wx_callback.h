// Helpers shared by the WeCom and Official Account adapters: query parameters, the replay
// window, the XML envelope, wxcrypto error mapping and CDATA writing (PROTOCOL.md §1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "channels/common/channel.h"
#include "channels/wxcrypto/wxcrypto.h"

namespace scrm::channels {

template <typename T>
Decoded<T> Refuse(RejectReason reason, std::string detail) {
  Decoded<T> out;
  out.rejection = Rejection{reason, std::move(detail)};
  return out;
}

// A query parameter, or nullptr when absent or empty (an empty signature / nonce / echostr can
// never verify, and the reply envelope needs a non-empty nonce).
const std::string* QueryParam(const CallbackRequest& request, const char* name);

// Replay protection: the signed `timestamp` must be decimal seconds within `window_s` of now, in
// both directions. A timestamp that is not 1..18 decimal digits cannot be placed in the window
// and is refused as stale (a missing one is kMissingParameter, checked by the caller first).
bool WithinWindow(std::string_view timestamp, int64_t now_s, int64_t window_s);

// WxError of a failed signature / frame check -> the reason counted in /metrics.
RejectReason ReasonFor(wxcrypto::WxError code);

// The <Encrypt> of an XML envelope (§1.2, §1.3): root <xml>, element order irrelevant, text or
// CDATA. Outer plaintext fields (ToUserName, AgentID, compat-mode siblings) are not
// authenticated and are ignored. pugixml never loads external entities or DTDs (no XXE).
// False with `detail` when the body is not such an envelope (-40002).
bool ExtractXmlEncrypt(const std::string& body, std::string& encrypt, std::string& detail);

// Appends `value` as CDATA. C0 controls other than tab / LF / CR are not XML 1.0 characters and
// are dropped so the reply always parses. "]]>" cannot appear inside one section, so a '>' that
// follows "]]" starts a new one. That check looks at the bytes written, after the drop:
// "]]\x01>" must not close the section early and let the rest of the value be read as markup
// (tests/channels/fuzz_regressions_test.cc).
void AppendCdata(std::string& out, std::string_view value);
// <name><![CDATA[value]]></name>
void AppendCdataElement(std::string& out, std::string_view name, std::string_view value);

}  // namespace scrm::channels
