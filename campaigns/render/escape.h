// Escaping of variable values by where they land in a message (docs/templates.md "Escaping"):
// percent-encoding inside URL fields, HTML escaping inside fields the channel renders as HTML,
// nothing in plain-text fields. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace scrm::render {

// How a template field is shown by the channel, hence how a variable's value is escaped in it.
enum class FieldKind {
  kPlain,   // plain text: the value as typed (a customer named "<b>" stays "<b>")
  kUrl,     // a URL or mini-program path: values are percent-encoded (RFC 3986 unreserved kept)
  kHtml,    // text the channel renders with markup (OA customer-service text: <a href>)
  kStatic,  // an id or code (media_id, appid, template_id, colour): no variables allowed
};

// Every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex): a value becomes one URL component,
// so "a&b=c d" cannot add a parameter.
std::string UrlEncode(std::string_view value);
// & < > " ' as entities.
std::string HtmlEscape(std::string_view value);
// `value` escaped for `kind` (kStatic: unchanged).
std::string EscapeFor(FieldKind kind, std::string_view value);

// Whether `url` is an absolute http(s) URL without spaces or control bytes: what a URL field
// must hold after rendering, and what the {{link}} placeholder must be (it is inserted as is
// into URL fields).
bool IsHttpUrl(std::string_view url);

}  // namespace scrm::render
