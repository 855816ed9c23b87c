// Small ASCII text helpers shared by every module: case folding, character classes, trimming,
// splitting, hex and one-line printable text. Byte-wise and locale-free (protocol keys, header
// names, ids and config keys are ASCII; other bytes pass through unchanged).
//
// All functions are pure and thread-safe; returned views point into the argument.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scrm::core {

// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
char AsciiLower(char ch);
std::string AsciiLower(std::string_view text);

// Equal when ASCII letters are compared without case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

bool IsAsciiDigit(char ch);  // [0-9]
bool IsAsciiAlnum(char ch);  // [A-Za-z0-9]
// Non-empty and every byte is [0-9] (resp. [A-Za-z0-9]); "" is false.
bool AllAsciiDigits(std::string_view text);
bool AllAsciiAlnum(std::string_view text);

// `text` without leading and trailing spaces, tabs, CRs and LFs.
std::string_view TrimAscii(std::string_view text);

// The parts between occurrences of `separator`, empty parts included:
// Split("a__b", "__") = {"a", "b"}, Split("", ",") = {""}; an empty separator gives {text}.
std::vector<std::string> Split(std::string_view text, std::string_view separator);

// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);

// Untrusted text (a key, an id, a path) made safe for a one-line message: control bytes
// (< 0x20, 0x7f) become '?'; beyond `max_bytes` the text is cut and "..." appended. Bytes >= 0x80
// (UTF-8) are kept.
std::string Printable(std::string_view text, std::size_t max_bytes = std::string_view::npos);

}  // namespace scrm::core
