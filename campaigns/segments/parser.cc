#include "campaigns/segments/parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "src/model/interaction.h"
#include "src/model/tag_rule.h"

namespace scrm::segments {
namespace {

using core::Status;
using core::StatusOr;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr size_t kMaxNumberBytes = 40;
constexpr double kMaxNumber = 1e15;  // |number|: fen totals, counts and scores fit with room
constexpr size_t kShownTokenBytes = 40;

// Bytes that end a bare word (everything else, UTF-8 included, belongs to it).
bool IsSpecial(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '(':
    case ')':
    case '"':
    case ':':
    case ',':
    case '<':
    case '>':
    case '=':
    case '!': return true;
    default: return false;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The offset of the first byte that is not well-formed UTF-8 (no overlongs, no surrogates,
// nothing above U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto c = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : 0x80;
      const unsigned char max = k == 1 ? hi : 0xBF;
      if (c < min || c > max) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

enum class Tok { kEnd, kWord, kString, kLParen, kRParen, kColon, kComma, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;
  size_t len = 0;
  std::string value;  // a word as written, a string unescaped
  Op op = Op::kEq;
};

constexpr std::string_view OpText(Op op) {
  switch (op) {
    case Op::kEq: return "=";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
  }
  return "=";
}

// Which comparisons a field takes (Parse's "operators allowed per field").
enum class Ops { kAll, kOrdering, kEquality };

struct FieldSpec {
  std::string_view name;
  Field field;
  bool colon;  // field:value (else a comparison follows the field)
};

constexpr std::array<FieldSpec, 17> kFields = {{
    {"tag", Field::kTag, true},
    {"tag_score", Field::kTagScore, true},
    {"stage", Field::kStage, true},
    {"platform", Field::kPlatform, true},
    {"account", Field::kAccount, true},
    {"owner", Field::kOwner, true},
    {"follower", Field::kFollower, true},
    {"attr", Field::kAttr, true},
    {"channel", Field::kChannel, true},
    {"last_active", Field::kLastActive, false},
    {"created", Field::kCreated, false},
    {"segment", Field::kSegment, true},
    {"orders.count", Field::kOrdersCount, false},
    {"orders.total", Field::kOrdersTotal, false},
    {"bought", Field::kBought, true},
    {"bought_category", Field::kBoughtCategory, true},
    {"relation", Field::kRelation, true},
}};
constexpr std::string_view kFieldList =
    "tag, tag_score, stage, platform, account, owner, follower, attr, channel, last_active, "
    "created, count(...), segment, orders.count, orders.total, bought, bought_category or "
    "relation";

std::string_view FieldName(Field field) {
  if (field == Field::kCount) return "count";
  for (const auto& spec : kFields) {
    if (spec.field == field) return spec.name;
  }
  return "?";
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  StatusOr<Query> Run() {
    Query query;
    query.text = std::string(text_);
    SCRM_RETURN_IF_ERROR(Advance());
    SCRM_ASSIGN_OR_RETURN(query.root, ParseOr(0));
    if (cur_.kind != Tok::kEnd) {
      return Expected("\"and\", \"or\" or the end of the query", std::string_view());
    }
    query.relation_filter =
        saw_relation_ ? Query::RelationFilter::kAny : Query::RelationFilter::kConnected;
    query.segment_refs = std::move(refs_);
    return query;
  }

 private:
  static Status Err(size_t pos, const std::string& what) {
    return core::InvalidArgumentError("at " + std::to_string(pos) + ": " + what);
  }

  // The current token as an error shows it.
  std::string Describe() const {
    if (cur_.kind == Tok::kEnd) return "end of query";
    std::string_view shown = text_.substr(cur_.pos, cur_.len);
    if (shown.size() > kShownTokenBytes) {
      size_t cut = kShownTokenBytes;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
      return std::string(shown.substr(0, cut)) + "...";
    }
    return std::string(shown);
  }

  // "at <pos of the current token>: expected <what> [after <clause so far>], found <token>".
  Status Expected(std::string_view what, std::string_view so_far) const {
    std::string message = "expected " + std::string(what);
    if (!so_far.empty()) message += " after " + std::string(so_far);
    message += ", found " + Describe();
    return Err(cur_.pos, message);
  }

  std::string_view SoFar(size_t start) const { return text_.substr(start, prev_end_ - start); }

  Status Advance() {
    prev_end_ = cur_.pos + cur_.len;  // 0 before the first token
    size_t i = prev_end_;
    while (i < text_.size() && IsSpace(text_[i])) ++i;
    Token t;
    t.pos = i;
    if (i >= text_.size()) {
      t.kind = Tok::kEnd;
      t.pos = text_.size();
      cur_ = std::move(t);
      return core::OkStatus();
    }
    const char c = text_[i];
    const char next = i + 1 < text_.size() ? text_[i + 1] : '\0';
    switch (c) {
      case '(':
        t.kind = Tok::kLParen;
        t.len = 1;
        break;
      case ')':
        t.kind = Tok::kRParen;
        t.len = 1;
        break;
      case ':':
        t.kind = Tok::kColon;
        t.len = 1;
        break;
      case ',':
        t.kind = Tok::kComma;
        t.len = 1;
        break;
      case '=':
        t.kind = Tok::kOp;
        t.op = Op::kEq;
        t.len = 1;
        break;
      case '<':
        t.kind = Tok::kOp;
        t.op = next == '=' ? Op::kLe : Op::kLt;
        t.len = next == '=' ? 2 : 1;
        break;
      case '>':
        t.kind = Tok::kOp;
        t.op = next == '=' ? Op::kGe : Op::kGt;
        t.len = next == '=' ? 2 : 1;
        break;
      case '!':
        if (next != '=') return Err(i, "expected \"!=\", found a lone \"!\"");
        t.kind = Tok::kOp;
        t.op = Op::kNe;
        t.len = 2;
        break;
      case '"': SCRM_RETURN_IF_ERROR(LexString(i, t)); break;
      default: {
        size_t end = i;
        while (end < text_.size() && !IsSpecial(text_[end])) {
          // Format could not write such a word back (strings refuse raw control characters).
          const auto b = static_cast<unsigned char>(text_[end]);
          if (b < 0x20 || b == 0x7F) return Err(end, "a control character outside a string");
          ++end;
        }
        t.kind = Tok::kWord;
        t.len = end - i;
        t.value = std::string(text_.substr(i, t.len));
      }
    }
    cur_ = std::move(t);
    return core::OkStatus();
  }

  // A double-quoted string from `start` (the quote): \" \\ \n \t are its escapes; raw control
  // characters are refused (Format writes them as escapes).
  Status LexString(size_t start, Token& t) {
    std::string value;
    size_t i = start + 1;
    while (true) {
      if (i >= text_.size()) return Err(start, "a string that is never closed (missing \")");
      const char c = text_[i];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return Err(i, "a control character in a string; write \\n or \\t");
      }
      if (c == '\\') {
        const char e = i + 1 < text_.size() ? text_[i + 1] : '\0';
        switch (e) {
          case '"': value += '"'; break;
          case '\\': value += '\\'; break;
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          default: return Err(i, "expected one of the escapes \\\" \\\\ \\n \\t");
        }
        i += 2;
        continue;
      }
      value += c;
      ++i;
    }
    if (value.size() > kMaxValueBytes) {
      return Err(start, "a string longer than " + std::to_string(kMaxValueBytes) + " bytes");
    }
    t.kind = Tok::kString;
    t.len = i + 1 - start;
    t.value = std::move(value);
    return core::OkStatus();
  }

  bool AtWord(std::string_view word) const { return cur_.kind == Tok::kWord && cur_.value == word; }

  StatusOr<Node> ParseOr(int depth) { return ParseChain(depth, "or", Node::Kind::kOr); }

  StatusOr<Node> ParseAnd(int depth) { return ParseChain(depth, "and", Node::Kind::kAnd); }

  // operand { keyword operand }: `or` over `and` over unary, so `and` binds tighter.
  StatusOr<Node> ParseChain(int depth, std::string_view keyword, Node::Kind kind) {
    const bool is_or = kind == Node::Kind::kOr;
    SCRM_ASSIGN_OR_RETURN(Node first, is_or ? ParseAnd(depth) : ParseUnary(depth));
    if (!AtWord(keyword)) return first;
    Node node;
    node.kind = kind;
    node.children.push_back(std::move(first));
    while (AtWord(keyword)) {
      SCRM_RETURN_IF_ERROR(Advance());
      SCRM_ASSIGN_OR_RETURN(Node next, is_or ? ParseAnd(depth) : ParseUnary(depth));
      node.children.push_back(std::move(next));
    }
    return node;
  }

  StatusOr<Node> ParseUnary(int depth) {
    if (AtWord("not") || cur_.kind == Tok::kLParen) {
      if (depth + 1 > kMaxDepth) {
        return Err(cur_.pos, "nested deeper than " + std::to_string(kMaxDepth) +
                                 " levels of parentheses and not");
      }
    }
    if (AtWord("not")) {
      SCRM_RETURN_IF_ERROR(Advance());
      SCRM_ASSIGN_OR_RETURN(Node child, ParseUnary(depth + 1));
      Node node;
      node.kind = Node::Kind::kNot;
      node.children.push_back(std::move(child));
      return node;
    }
    if (cur_.kind == Tok::kLParen) {
      const size_t open = cur_.pos;
      SCRM_RETURN_IF_ERROR(Advance());
      SCRM_ASSIGN_OR_RETURN(Node inner, ParseOr(depth + 1));
      if (cur_.kind != Tok::kRParen) {
        return Expected("\"and\", \"or\" or \")\" to close the \"(\" at " + std::to_string(open),
                        std::string_view());
      }
      SCRM_RETURN_IF_ERROR(Advance());
      return inner;
    }
    if (cur_.kind != Tok::kWord || AtWord("and") || AtWord("or")) {
      return Expected("a predicate, \"(\" or \"not\"", std::string_view());
    }
    SCRM_ASSIGN_OR_RETURN(Predicate predicate, ParsePredicate());
    Node node;
    node.kind = Node::Kind::kPredicate;
    node.predicate = std::move(predicate);
    return node;
  }

  StatusOr<Predicate> ParsePredicate() {
    if (++predicates_ > kMaxPredicates) {
      return Err(cur_.pos, "more than " + std::to_string(kMaxPredicates) + " predicates");
    }
    const size_t start = cur_.pos;
    Predicate p;
    p.pos = start;
    if (cur_.value == "count") {
      SCRM_RETURN_IF_ERROR(ParseCount(start, p));
    } else {
      const auto spec = std::find_if(kFields.begin(), kFields.end(),
                                     [&](const FieldSpec& f) { return f.name == cur_.value; });
      if (spec == kFields.end()) return Expected(std::string(kFieldList), std::string_view());
      p.field = spec->field;
      SCRM_RETURN_IF_ERROR(Advance());
      if (spec->colon) {
        SCRM_RETURN_IF_ERROR(ParseColonField(start, p));
      } else {
        SCRM_RETURN_IF_ERROR(ParseComparisonField(start, p));
      }
    }
    p.len = prev_end_ - start;
    return p;
  }

  // A word or a string, non-empty; `what` names it in errors. Consumes it.
  StatusOr<std::string> ParseValue(size_t start, std::string_view what) {
    if (cur_.kind != Tok::kWord && cur_.kind != Tok::kString) return Expected(what, SoFar(start));
    if (cur_.value.empty()) return Err(cur_.pos, "expected " + std::string(what) + ", found \"\"");
    if (cur_.value.size() > kMaxValueBytes) {
      return Err(cur_.pos, "a value longer than " + std::to_string(kMaxValueBytes) + " bytes");
    }
    std::string value = cur_.value;
    SCRM_RETURN_IF_ERROR(Advance());
    return value;
  }

  Status ExpectColon(size_t start) {
    if (cur_.kind != Tok::kColon) return Expected("\":\"", SoFar(start));
    return Advance();
  }

  // One of `allowed`, or an error naming the field and its comparisons.
  StatusOr<Op> ParseOp(size_t start, Ops allowed, std::string_view field) {
    std::string_view list = "<, <=, >, >=, =, !=";
    if (allowed == Ops::kOrdering) list = "<, <=, > or >=";
    if (allowed == Ops::kEquality) list = "= or !=";
    const std::string what = "a comparison (" + std::string(list) + ")";
    if (cur_.kind != Tok::kOp) return Expected(what, SoFar(start));
    const Op op = cur_.op;
    const bool ordering = op != Op::kEq && op != Op::kNe;
    if ((allowed == Ops::kOrdering && !ordering) || (allowed == Ops::kEquality && ordering)) {
      return Err(cur_.pos, std::string(field) + " takes " + std::string(list) + ", found " +
                               std::string(OpText(op)));
    }
    SCRM_RETURN_IF_ERROR(Advance());
    return op;
  }

  // -?digits(.digits)?, finite, |x| <= kMaxNumber; `integer`: a whole number >= 0.
  StatusOr<double> ParseNumber(size_t start, bool integer) {
    const std::string_view what = integer ? "a whole number >= 0" : "a number";
    if (cur_.kind != Tok::kWord) return Expected(what, SoFar(start));
    const std::string& s = cur_.value;
    size_t i = s.starts_with('-') ? 1 : 0;
    const size_t digits_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    bool ok = i > digits_start && s.size() <= kMaxNumberBytes;
    if (ok && i < s.size()) {
      ok = s[i] == '.' && i + 1 < s.size();
      for (size_t k = i + 1; ok && k < s.size(); ++k) ok = s[k] >= '0' && s[k] <= '9';
    }
    double value = 0;
    if (ok) {
      const auto [ptr, ec] =
          std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::fixed);
      ok = ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(value);
    }
    if (!ok) return Expected(what, SoFar(start));
    if (std::fabs(value) > kMaxNumber) return Err(cur_.pos, "a number above 10^15");
    if (integer && (value < 0 || value != std::floor(value))) {
      return Expected(what, SoFar(start));
    }
    SCRM_RETURN_IF_ERROR(Advance());
    return value;
  }

  // Nm / Nh / Nd, N >= 1, at most `max_ms`.
  StatusOr<int64_t> ParseWindow(size_t start, int64_t max_ms, std::string_view field) {
    constexpr std::string_view what = "a window (a number then m, h or d: 30d)";
    if (cur_.kind != Tok::kWord) return Expected(what, SoFar(start));
    const std::string& s = cur_.value;
    if (s.size() < 2 || s.size() > 8) return Expected(what, SoFar(start));
    int64_t n = 0;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return Expected(what, SoFar(start));
      n = n * 10 + (s[i] - '0');
    }
    int64_t unit = 0;
    switch (s.back()) {
      case 'm': unit = kMinuteMs; break;
      case 'h': unit = kHourMs; break;
      case 'd': unit = kDayMs; break;
      default: return Expected(what, SoFar(start));
    }
    if (n == 0) return Err(cur_.pos, "a window must be at least 1" + std::string(1, s.back()));
    const int64_t ms = n * unit;
    if (ms > max_ms) {
      return Err(cur_.pos, "the window of " + std::string(field) + " must be at most " +
                               std::to_string(max_ms / kDayMs) + "d, found " + s);
    }
    SCRM_RETURN_IF_ERROR(Advance());
    return ms;
  }

  Status ParseCount(size_t start, Predicate& p) {
    p.field = Field::kCount;
    SCRM_RETURN_IF_ERROR(Advance());
    if (cur_.kind != Tok::kLParen) return Expected("\"(\"", SoFar(start));
    SCRM_RETURN_IF_ERROR(Advance());
    const size_t kind_pos = cur_.pos;
    SCRM_ASSIGN_OR_RETURN(p.name, ParseValue(start, "an interaction kind (message.text)"));
    if (!model::ParseKind(p.name).has_value()) {
      return Err(kind_pos, "unknown interaction kind \"" + p.name +
                               "\"; expected a kind such as message.text or oa.subscribe");
    }
    if (cur_.kind != Tok::kComma) return Expected("\",\"", SoFar(start));
    SCRM_RETURN_IF_ERROR(Advance());
    SCRM_ASSIGN_OR_RETURN(p.window_ms, ParseWindow(start, kMaxCountWindowMs, "count"));
    if (cur_.kind != Tok::kRParen) return Expected("\")\"", SoFar(start));
    SCRM_RETURN_IF_ERROR(Advance());
    SCRM_ASSIGN_OR_RETURN(p.op, ParseOp(start, Ops::kAll, "count"));
    SCRM_ASSIGN_OR_RETURN(p.number, ParseNumber(start, true));
    return core::OkStatus();
  }

  Status ParseComparisonField(size_t start, Predicate& p) {
    const std::string_view name = FieldName(p.field);
    if (p.field == Field::kLastActive || p.field == Field::kCreated) {
      SCRM_ASSIGN_OR_RETURN(p.op, ParseOp(start, Ops::kOrdering, name));
      SCRM_ASSIGN_OR_RETURN(p.window_ms, ParseWindow(start, kMaxWindowMs, name));
      return core::OkStatus();
    }
    // orders.count, orders.total (fen): whole numbers.
    SCRM_ASSIGN_OR_RETURN(p.op, ParseOp(start, Ops::kAll, name));
    SCRM_ASSIGN_OR_RETURN(p.number, ParseNumber(start, true));
    return core::OkStatus();
  }

  // "group/name", both parts non-empty.
  static bool IsTagPath(const std::string& path) {
    const size_t slash = path.find('/');
    return slash != std::string::npos && slash > 0 && slash + 1 < path.size();
  }

  Status ParseColonField(size_t start, Predicate& p) {
    SCRM_RETURN_IF_ERROR(ExpectColon(start));
    const size_t value_pos = cur_.pos;
    switch (p.field) {
      case Field::kTag:
      case Field::kTagScore: {
        SCRM_ASSIGN_OR_RETURN(p.name, ParseValue(start, "a tag as \"group/name\""));
        if (!IsTagPath(p.name)) {
          return Err(value_pos,
                     "expected a tag as \"group/name\" (both non-empty), found \"" + p.name + "\"");
        }
        if (p.field == Field::kTagScore) {
          SCRM_ASSIGN_OR_RETURN(p.op, ParseOp(start, Ops::kAll, "tag_score"));
          SCRM_ASSIGN_OR_RETURN(p.number, ParseNumber(start, false));
        }
        return core::OkStatus();
      }
      case Field::kAttr: {
        SCRM_ASSIGN_OR_RETURN(p.name, ParseValue(start, "an attribute name"));
        SCRM_ASSIGN_OR_RETURN(p.op, ParseOp(start, Ops::kEquality, "attr"));
        SCRM_ASSIGN_OR_RETURN(p.value, ParseValue(start, "a value"));
        return core::OkStatus();
      }
      case Field::kSegment: {
        SCRM_ASSIGN_OR_RETURN(p.name, ParseValue(start, "a saved segment's name"));
        if (std::find(refs_.begin(), refs_.end(), p.name) == refs_.end()) refs_.push_back(p.name);
        return core::OkStatus();
      }
      case Field::kStage: {
        SCRM_ASSIGN_OR_RETURN(p.value, ParseValue(start, "a stage"));
        if (!model::ParseLifecycleStage(p.value).has_value()) {
          return Err(value_pos, "unknown stage \"" + p.value +
                                    "\"; expected new, engaged, customer, repeat, at_risk or lost");
        }
        return core::OkStatus();
      }
      case Field::kPlatform: {
        SCRM_ASSIGN_OR_RETURN(p.value, ParseValue(start, "a platform"));
        if (p.value != "wecom" && p.value != "oa") {
          return Err(value_pos, "unknown platform \"" + p.value + "\"; expected wecom or oa");
        }
        return core::OkStatus();
      }
      case Field::kRelation: {
        SCRM_ASSIGN_OR_RETURN(p.value, ParseValue(start, "a relation"));
        if (p.value != "connected" && p.value != "any" && p.value != "ended") {
          return Err(value_pos,
                     "unknown relation \"" + p.value + "\"; expected connected, any or ended");
        }
        saw_relation_ = true;
        return core::OkStatus();
      }
      default: {
        // account, owner, follower, channel, bought, bought_category: one value.
        SCRM_ASSIGN_OR_RETURN(p.value, ParseValue(start, "a value"));
        return core::OkStatus();
      }
    }
  }

  std::string_view text_;
  Token cur_;
  size_t prev_end_ = 0;
  size_t predicates_ = 0;
  bool saw_relation_ = false;
  std::vector<std::string> refs_;
};

// ---- Format

bool IsBare(std::string_view value) {
  if (value.empty()) return false;
  if (value == "and" || value == "or" || value == "not") return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string Quoted(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::string Value(std::string_view value) {
  return IsBare(value) ? std::string(value) : Quoted(value);
}

std::string Number(double value) {
  std::array<char, 64> buf{};
  const auto [ptr, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  if (ec != std::errc()) return "0";  // cannot happen for |value| <= 1e15 in 64 bytes
  return std::string(buf.data(), ptr);
}

std::string Window(int64_t ms) {
  if (ms % kDayMs == 0) return std::to_string(ms / kDayMs) + "d";
  if (ms % kHourMs == 0) return std::to_string(ms / kHourMs) + "h";
  return std::to_string(ms / kMinuteMs) + "m";
}

std::string Comparison(Op op) { return " " + std::string(OpText(op)) + " "; }

std::string FormatPredicate(const Predicate& p) {
  const std::string field(FieldName(p.field));
  switch (p.field) {
    case Field::kTag: return "tag:" + Quoted(p.name);
    case Field::kTagScore:
      return "tag_score:" + Quoted(p.name) + Comparison(p.op) + Number(p.number);
    case Field::kAttr: return "attr:" + Value(p.name) + Comparison(p.op) + Quoted(p.value);
    case Field::kSegment: return "segment:" + Quoted(p.name);
    case Field::kLastActive:
    case Field::kCreated: return field + Comparison(p.op) + Window(p.window_ms);
    case Field::kCount:
      return "count(" + Value(p.name) + ", " + Window(p.window_ms) + ")" + Comparison(p.op) +
             Number(p.number);
    case Field::kOrdersCount:
    case Field::kOrdersTotal: return field + Comparison(p.op) + Number(p.number);
    default: return field + ":" + Value(p.value);
  }
}

std::string FormatChild(const Node& child) {
  const bool group = child.kind == Node::Kind::kAnd || child.kind == Node::Kind::kOr;
  return group ? "(" + FormatNode(child) + ")" : FormatNode(child);
}

}  // namespace

StatusOr<Query> Parse(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return core::InvalidArgumentError("at " + std::to_string(kMaxQueryBytes) +
                                      ": the query is longer than " +
                                      std::to_string(kMaxQueryBytes) + " bytes");
  }
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return core::InvalidArgumentError("at " + std::to_string(bad) + ": not UTF-8");
  }
  return Parser(text).Run();
}

std::string FormatNode(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kPredicate: return FormatPredicate(node.predicate);
    case Node::Kind::kNot:
      return node.children.empty() ? std::string("not ()") : "not " + FormatChild(node.children[0]);
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      const std::string joiner = node.kind == Node::Kind::kAnd ? " and " : " or ";
      std::string out;
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out += joiner;
        out += FormatChild(node.children[i]);
      }
      return out;
    }
  }
  return std::string();
}

std::string Format(const Query& query) { return FormatNode(query.root); }

}  // namespace scrm::segments
