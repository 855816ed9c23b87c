#include "campaigns/segments/segment_service.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "campaigns/segments/parser.h"

namespace scrm::segments {
namespace {

using core::Status;
using core::StatusOr;
using storage::StoredSegment;

using SegmentTexts = std::map<std::string, std::string, std::less<>>;  // name → query text

constexpr std::string_view kConnected = "relation:connected";

Status ErrAt(size_t pos, const std::string& what) {
  return core::InvalidArgumentError("at " + std::to_string(pos) + ": " + what);
}

void ShiftPositions(Node& node, size_t offset) {
  if (node.kind == Node::Kind::kPredicate) node.predicate.pos += offset;
  for (Node& child : node.children) ShiftPositions(child, offset);
}

// Replaces every segment:"name" of one query by the saved segment's tree (CompiledQuery).
class Expander {
 public:
  explicit Expander(const SegmentTexts& texts) : texts_(texts) {}

  // `self`: the name of the segment whose query `text` is ("" for a preview): a reference back
  // to it is a cycle.
  StatusOr<CompiledQuery> Run(std::string_view text, const std::string& self) {
    SCRM_ASSIGN_OR_RETURN(Query parsed, Parse(text));
    out_.query.text = parsed.text;
    out_.query.relation_filter = parsed.relation_filter;
    out_.query.segment_refs = parsed.segment_refs;
    std::vector<std::string> chain;
    if (!self.empty()) chain.push_back(self);
    SCRM_RETURN_IF_ERROR(Expand(parsed.root, 0, chain, std::nullopt));
    out_.query.root = std::move(parsed.root);
    return std::move(out_);
  }

 private:
  struct Block {
    size_t offset = 0;    // where the segment's text starts in out_.query.text
    size_t wrap_pos = 0;  // where its "relation:connected" starts, when it has one
  };

  // Appends the text of `name` once; later references share it.
  Block BlockOf(const std::string& name, const std::string& text, bool wrap) {
    if (const auto it = blocks_.find(name); it != blocks_.end()) return it->second;
    std::string& all = out_.query.text;
    Block block;
    all += '\n';
    block.offset = all.size();
    all += text;
    if (wrap) {
      all += '\n';
      block.wrap_pos = all.size();
      all += kConnected;
    }
    out_.spans.push_back(TextSpan{block.offset, all.size(), name});
    blocks_.emplace(name, block);
    return block;
  }

  static std::string Chain(const std::vector<std::string>& chain, const std::string& last) {
    std::string out;
    for (const auto& name : chain) out += "\"" + name + "\" → ";
    return out + "\"" + last + "\"";
  }

  // top_pos: where the outermost reference being expanded is in the compiled text (errors
  // inside a referenced segment are reported there).
  Status Expand(Node& node, int depth, std::vector<std::string>& chain,
                std::optional<size_t> top_pos) {
    if (node.kind != Node::Kind::kPredicate) {
      for (Node& child : node.children) {
        SCRM_RETURN_IF_ERROR(Expand(child, depth, chain, top_pos));
      }
      return core::OkStatus();
    }
    const Predicate& p = node.predicate;
    if (p.field != Field::kSegment) {
      if (++leaves_ > kMaxExpandedPredicates) {
        return ErrAt(top_pos.value_or(p.pos), "the query expands to more than " +
                                                  std::to_string(kMaxExpandedPredicates) +
                                                  " predicates");
      }
      return core::OkStatus();
    }
    const size_t at = top_pos.value_or(p.pos);
    const std::string name = p.name;
    if (std::find(chain.begin(), chain.end(), name) != chain.end()) {
      return ErrAt(at, "segment:\"" + name + "\" refers back to itself: " + Chain(chain, name));
    }
    if (depth + 1 > kMaxReferenceDepth) {
      return ErrAt(at, "saved segments nest deeper than " + std::to_string(kMaxReferenceDepth) +
                           ": " + Chain(chain, name));
    }
    const auto found = texts_.find(name);
    if (found == texts_.end()) return ErrAt(at, "no saved segment named \"" + name + "\"");
    auto inner = Parse(found->second);
    if (!inner.ok()) {
      return ErrAt(at,
                   "saved segment \"" + name + "\" does not parse: " + inner.status().message());
    }
    const bool wrap = inner->relation_filter == Query::RelationFilter::kConnected;
    const Block block = BlockOf(name, found->second, wrap);
    Node tree = std::move(inner->root);
    ShiftPositions(tree, block.offset);
    chain.push_back(name);
    SCRM_RETURN_IF_ERROR(Expand(tree, depth + 1, chain, at));
    chain.pop_back();
    if (!wrap) {
      node = std::move(tree);
      return core::OkStatus();
    }
    if (++leaves_ > kMaxExpandedPredicates) {
      return ErrAt(at, "the query expands to more than " + std::to_string(kMaxExpandedPredicates) +
                           " predicates");
    }
    Node connected;
    connected.predicate.field = Field::kRelation;
    connected.predicate.value = "connected";
    connected.predicate.pos = block.wrap_pos;
    connected.predicate.len = kConnected.size();
    Node both;
    both.kind = Node::Kind::kAnd;
    both.children.push_back(std::move(tree));
    both.children.push_back(std::move(connected));
    node = std::move(both);
    return core::OkStatus();
  }

  const SegmentTexts& texts_;
  CompiledQuery out_;
  std::map<std::string, Block, std::less<>> blocks_;
  size_t leaves_ = 0;
};

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// Whether `query` refers to `name` directly. A text that does not parse refers to nothing.
bool RefersTo(const std::string& query, const std::string& name) {
  auto parsed = Parse(query);
  if (!parsed.ok()) return false;
  const auto& refs = parsed->segment_refs;
  return std::find(refs.begin(), refs.end(), name) != refs.end();
}

// FailedPrecondition naming the first live segment (other than `id`) that refers to `name`.
Status NoReferrer(const std::vector<StoredSegment>& live, int64_t id, const std::string& name,
                  std::string_view action) {
  for (const auto& s : live) {
    if (s.id != id && RefersTo(s.query, name)) {
      return core::FailedPreconditionError("cannot " + std::string(action) + " segment \"" + name +
                                           "\": segment \"" + s.name + "\" (id " +
                                           std::to_string(s.id) + ") refers to it");
    }
  }
  return core::OkStatus();
}

}  // namespace

std::string CompiledQuery::SegmentAt(size_t pos) const {
  for (const auto& span : spans) {
    if (pos >= span.begin && pos < span.end) return span.segment;
  }
  return std::string();
}

Status SegmentService::ValidateInput(const SegmentInput& input) const {
  if (input.name.empty() || input.name.size() > kMaxSegmentNameBytes) {
    return core::InvalidArgumentError("name: must be 1.." + std::to_string(kMaxSegmentNameBytes) +
                                      " bytes");
  }
  if (HasControl(input.name)) {
    return core::InvalidArgumentError("name: must not contain control characters");
  }
  if (input.description.size() > kMaxDescriptionBytes) {
    return core::InvalidArgumentError("description: longer than " +
                                      std::to_string(kMaxDescriptionBytes) + " bytes");
  }
  return core::OkStatus();
}

Status SegmentService::ValidateAgainstOthers(int64_t id, const SegmentInput& input) const {
  SCRM_ASSIGN_OR_RETURN(const std::vector<StoredSegment> live, store_.List());
  SegmentTexts before;
  SegmentTexts after;
  for (const auto& s : live) {
    before[s.name] = s.query;
    if (s.id != id) after[s.name] = s.query;
  }
  after[input.name] = input.query;
  if (auto own = Expander(after).Run(input.query, input.name); !own.ok()) {
    return core::InvalidArgumentError("query: " + own.status().message());
  }
  for (const auto& s : live) {
    if (s.id == id) continue;
    auto now = Expander(after).Run(s.query, s.name);
    if (now.ok() || !Expander(before).Run(s.query, s.name).ok()) continue;
    return core::FailedPreconditionError("the change would break segment \"" + s.name + "\" (id " +
                                         std::to_string(s.id) + "): " + now.status().message());
  }
  return core::OkStatus();
}

StatusOr<StoredSegment> SegmentService::Create(const SegmentInput& input) {
  SCRM_RETURN_IF_ERROR(ValidateInput(input));
  std::lock_guard lock(save_mu_);
  SCRM_ASSIGN_OR_RETURN(const auto taken, store_.FindByName(input.name));
  if (taken.has_value()) {
    return core::AlreadyExistsError("name: a segment named \"" + input.name + "\" exists (id " +
                                    std::to_string(taken->id) + ")");
  }
  SCRM_RETURN_IF_ERROR(ValidateAgainstOthers(0, input));
  StoredSegment segment;
  segment.name = input.name;
  segment.description = input.description;
  segment.query = input.query;
  segment.created_at_ms = clock_.NowUnixMillis();
  segment.updated_at_ms = segment.created_at_ms;
  return store_.Insert(segment);
}

StatusOr<StoredSegment> SegmentService::Update(int64_t id, const SegmentInput& input,
                                               std::optional<int> expected_version) {
  SCRM_RETURN_IF_ERROR(ValidateInput(input));
  std::lock_guard lock(save_mu_);
  SCRM_ASSIGN_OR_RETURN(const StoredSegment current, store_.Get(id));
  if (expected_version.has_value() && *expected_version != current.version) {
    return core::FailedPreconditionError("version: segment " + std::to_string(id) +
                                         " is at version " + std::to_string(current.version) +
                                         ", not " + std::to_string(*expected_version));
  }
  SCRM_ASSIGN_OR_RETURN(const auto taken, store_.FindByName(input.name));
  if (taken.has_value() && taken->id != id) {
    return core::AlreadyExistsError("name: a segment named \"" + input.name + "\" exists (id " +
                                    std::to_string(taken->id) + ")");
  }
  if (input.name != current.name) {
    SCRM_ASSIGN_OR_RETURN(const auto live, store_.List());
    SCRM_RETURN_IF_ERROR(NoReferrer(live, id, current.name, "rename"));
  }
  SCRM_RETURN_IF_ERROR(ValidateAgainstOthers(id, input));
  StoredSegment segment = current;
  segment.name = input.name;
  segment.description = input.description;
  segment.query = input.query;
  segment.version = current.version + 1;
  segment.updated_at_ms = clock_.NowUnixMillis();
  SCRM_RETURN_IF_ERROR(store_.Update(segment, current.version));
  return segment;
}

Status SegmentService::Delete(int64_t id) {
  std::lock_guard lock(save_mu_);
  SCRM_ASSIGN_OR_RETURN(const StoredSegment current, store_.Get(id));
  SCRM_ASSIGN_OR_RETURN(const auto live, store_.List());
  SCRM_RETURN_IF_ERROR(NoReferrer(live, id, current.name, "delete"));
  return store_.Delete(id, clock_.NowUnixMillis());
}

StatusOr<StoredSegment> SegmentService::Get(int64_t id) const { return store_.Get(id); }

StatusOr<std::vector<StoredSegment>> SegmentService::List() const { return store_.List(); }

StatusOr<std::vector<StoredSegment>> SegmentService::ListVersions(int64_t id) const {
  SCRM_ASSIGN_OR_RETURN(auto versions, store_.ListVersions(id));
  if (versions.empty()) return core::NotFoundError("no segment with id " + std::to_string(id));
  return versions;
}

StatusOr<CompiledQuery> SegmentService::Compile(std::string_view text) const {
  SCRM_ASSIGN_OR_RETURN(const std::vector<StoredSegment> live, store_.List());
  return Compile(text, live);
}

StatusOr<CompiledQuery> SegmentService::Compile(std::string_view text,
                                                const std::vector<StoredSegment>& live) {
  SegmentTexts texts;
  for (const auto& s : live) texts[s.name] = s.query;
  return Expander(texts).Run(text, std::string());
}

}  // namespace scrm::segments
