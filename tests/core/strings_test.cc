#include "src/core/strings.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace scrm::core {
namespace {

TEST_CASE("AsciiLower folds ASCII letters only when given mixed text", "[unit]") {
  CHECK(AsciiLower('A') == 'a');
  CHECK(AsciiLower('z') == 'z');
  CHECK(AsciiLower('_') == '_');
  CHECK(AsciiLower("SCRMD_Http__Threads") == "scrmd_http__threads");
  // UTF-8 bytes pass through unchanged.
  CHECK(AsciiLower("VIP\xe4\xb8\xad") == "vip\xe4\xb8\xad");
  CHECK(AsciiLower("").empty());
}

TEST_CASE("EqualsIgnoreCase compares without ASCII case when lengths match", "[unit]") {
  CHECK(EqualsIgnoreCase("Content-Length", "content-length"));
  CHECK(EqualsIgnoreCase("", ""));
  CHECK_FALSE(EqualsIgnoreCase("chunked", "chunke"));
  CHECK_FALSE(EqualsIgnoreCase("corp1", "corp2"));
  // Only ASCII letters fold: '[' (0x5b) is not '{' (0x7b).
  CHECK_FALSE(EqualsIgnoreCase("[", "{"));
}

TEST_CASE("IsAsciiDigit and IsAsciiAlnum accept only their ASCII class when given a byte",
          "[unit]") {
  CHECK(IsAsciiDigit('0'));
  CHECK(IsAsciiDigit('9'));
  CHECK_FALSE(IsAsciiDigit('a'));
  CHECK(IsAsciiAlnum('a'));
  CHECK(IsAsciiAlnum('Z'));
  CHECK(IsAsciiAlnum('5'));
  CHECK_FALSE(IsAsciiAlnum('_'));
  CHECK_FALSE(IsAsciiAlnum('\xe4'));
}

TEST_CASE("AllAsciiDigits and AllAsciiAlnum refuse empty text and other bytes when given text",
          "[unit]") {
  CHECK(AllAsciiDigits("0123456789"));
  CHECK_FALSE(AllAsciiDigits(""));
  CHECK_FALSE(AllAsciiDigits("12a"));
  CHECK_FALSE(AllAsciiDigits("-1"));
  CHECK(AllAsciiAlnum("Tok123"));
  CHECK_FALSE(AllAsciiAlnum(""));
  CHECK_FALSE(AllAsciiAlnum("Tok-123"));
}

TEST_CASE("TrimAscii drops surrounding spaces, tabs and line ends when present", "[unit]") {
  CHECK(TrimAscii("  12\t\r\n") == "12");
  CHECK(TrimAscii("a b") == "a b");
  CHECK(TrimAscii(" \t\r\n").empty());
  CHECK(TrimAscii("").empty());
}

TEST_CASE("Split keeps empty parts when the separator repeats or ends the text", "[unit]") {
  CHECK(Split("log__level", "__") == std::vector<std::string>{"log", "level"});
  CHECK(Split("a____b", "__") == std::vector<std::string>{"a", "", "b"});
  CHECK(Split("a,", ",") == std::vector<std::string>{"a", ""});
  CHECK(Split("", ",") == std::vector<std::string>{""});
  CHECK(Split("abc", "") == std::vector<std::string>{"abc"});
}

TEST_CASE("HexEncode writes two lower-case digits per byte when given raw bytes", "[unit]") {
  CHECK(HexEncode(std::string("\x00\x0f\xab\xff", 4)) == "000fabff");
  CHECK(HexEncode("").empty());
}

TEST_CASE("Printable replaces control bytes and cuts long text when given untrusted text",
          "[unit]") {
  CHECK(Printable("a\nb\tc\x7f") == "a?b?c?");
  CHECK(Printable("\xe4\xb8\xad") == "\xe4\xb8\xad");
  CHECK(Printable("abcdef", 3) == "abc...");
  CHECK(Printable("abc", 3) == "abc");
  CHECK(Printable("").empty());
}

}  // namespace
}  // namespace scrm::core
