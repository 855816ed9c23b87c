#include "channels/common/wx_callback.h"

#include <pugixml.hpp>

#include <charconv>
#include <system_error>

namespace scrm::channels {
namespace {

// A timestamp longer than this is never inside a window (and keeps now - ts far from overflow).
constexpr size_t kMaxTimestampDigits = 18;

}  // namespace

const std::string* QueryParam(const CallbackRequest& request, const char* name) {
  const auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return nullptr;
  return &it->second;
}

bool WithinWindow(std::string_view timestamp, int64_t now_s, int64_t window_s) {
  if (timestamp.empty() || timestamp.size() > kMaxTimestampDigits) return false;
  for (const char c : timestamp) {
    if (c < '0' || c > '9') return false;
  }
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return false;
  const int64_t skew = now_s >= ts ? now_s - ts : ts - now_s;
  return skew <= window_s;
}

RejectReason ReasonFor(wxcrypto::WxError code) {
  using wxcrypto::WxError;
  switch (code) {
    case WxError::kValidateSignature: return RejectReason::kBadSignature;
    case WxError::kDecodeBase64: return RejectReason::kBadBase64;
    case WxError::kDecryptAes: return RejectReason::kDecryptFailed;
    case WxError::kIllegalBuffer: return RejectReason::kBadFrame;
    case WxError::kValidateReceiveId: return RejectReason::kWrongReceiveId;
    // Decrypt() reports nothing else; an OpenSSL failure would be an AES-level failure too.
    default: return RejectReason::kDecryptFailed;
  }
}

bool ExtractXmlEncrypt(const std::string& body, std::string& encrypt, std::string& detail) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) {
    detail = std::string("envelope is not well-formed XML: ") + parsed.description() +
             " at offset " + std::to_string(parsed.offset);
    return false;
  }
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "xml") {
    detail = "envelope root element is not <xml>";
    return false;
  }
  const pugi::xml_node node = root.child("Encrypt");
  if (!node) {
    detail = "envelope has no <Encrypt>";
    return false;
  }
  if (node.next_sibling("Encrypt")) {
    // Two candidates: refuse instead of guessing which one the sender meant to sign.
    detail = "envelope has more than one <Encrypt>";
    return false;
  }
  encrypt = node.text().get();
  if (encrypt.empty()) {
    detail = "envelope <Encrypt> is empty";
    return false;
  }
  return true;
}

void AppendCdata(std::string& out, std::string_view value) {
  out += "<![CDATA[";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    // `out` ends with "<![CDATA[" or a byte of this value, so a trailing "]]" is the value's.
    if (c == '>' && out.ends_with("]]")) out += "]]><![CDATA[";
    out.push_back(c);
  }
  out += "]]>";
}

void AppendCdataElement(std::string& out, std::string_view name, std::string_view value) {
  out += '<';
  out += name;
  out += '>';
  AppendCdata(out, value);
  out += "</";
  out += name;
  out += '>';
}

}  // namespace scrm::channels
