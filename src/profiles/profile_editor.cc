#include "src/profiles/profile_editor.h"

#include "src/storage/profile_store.h"

#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "src/profiles/profile_ops.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {
namespace {

using core::Status;
using core::StatusOr;
using internal::CheckActive;
using internal::InTransaction;
using internal::kMaxTagNameBytes;
using internal::ToTagView;
using internal::Txn;
using internal::ValidateTagRef;

constexpr double kMaxManualWeight = 1000;
constexpr int kMaxHalfLifeDays = 3650;
constexpr size_t kMaxPlatformTagIdBytes = 128;  // a WeCom corp tag id ("et..." ~ 32 bytes)
constexpr int64_t kMaxOaTagId = 2147483647;     // OA tag ids are 32-bit (tags/create)

Status ValidateMappingChange(const TagMappingChange& change) {
  if (!change.wecom_tag_id.has_value() && !change.oa_tag_id.has_value()) {
    return core::InvalidArgumentError("a mapping change must set wecom_tag_id or oa_tag_id");
  }
  if (change.wecom_tag_id.has_value() && change.wecom_tag_id->size() > kMaxPlatformTagIdBytes) {
    return core::InvalidArgumentError("wecom_tag_id must be at most 128 bytes");
  }
  if (change.oa_tag_id.has_value() && (*change.oa_tag_id < 0 || *change.oa_tag_id > kMaxOaTagId)) {
    return core::InvalidArgumentError("oa_tag_id must be within 0..2147483647");
  }
  return core::OkStatus();
}

}  // namespace

ProfileEditor::ProfileEditor(storage::ProfileStore& store, const core::Clock& clock,
                             const ChangeSinks& sinks, ProfileServiceOptions options)
    : store_(store), clock_(clock), sinks_(sinks), options_(std::move(options)) {}

Status ProfileEditor::AddManualTagIn(Txn& txn, int64_t customer_id, const model::TagRef& ref,
                                     double weight, bool decay, int64_t now_ms,
                                     TagView& view) const {
  SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                        txn.store.customers.Get(txn.write, customer_id));
  SCRM_RETURN_IF_ERROR(CheckActive(customer));
  SCRM_ASSIGN_OR_RETURN(
      model::TagDetail tag,
      txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
  SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> stored,
                        txn.store.customer_tags.Get(txn.write, customer_id, tag.tag.id));
  if (stored.has_value() && stored->source == model::TagSource::kManual) {
    TagView current = ToTagView(model::CustomerTagDetail{*stored, tag}, now_ms);
    if (current.held) {
      // Adding a manual tag the customer holds already changes nothing (idempotent).
      view = std::move(current);
      view.unchanged = true;
      return core::OkStatus();
    }
  }
  SCRM_ASSIGN_OR_RETURN(
      model::CustomerTag row,
      internal::ApplyTagDelta(
          txn, sinks_, customer_id, tag,
          internal::TagDelta{weight, now_ms, model::TagSource::kManual, 0, 0, 0, /*decays=*/decay},
          now_ms));
  view = ToTagView(model::CustomerTagDetail{row, tag}, now_ms);
  return core::OkStatus();
}

namespace {

Status ValidateManualTag(const model::TagRef& ref, double weight) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  if (!std::isfinite(weight) || weight == 0 || std::fabs(weight) > kMaxManualWeight) {
    return core::InvalidArgumentError("weight must be non-zero and within -1000..1000");
  }
  return core::OkStatus();
}

}  // namespace

StatusOr<TagView> ProfileEditor::AddManualTag(int64_t customer_id, const model::TagRef& ref,
                                              double weight, bool decay) {
  SCRM_RETURN_IF_ERROR(ValidateManualTag(ref, weight));
  TagView view;
  const int64_t now_ms = clock_.NowUnixMillis();
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    return AddManualTagIn(txn, customer_id, ref, weight, decay, now_ms, view);
  });
  if (!status.ok()) return status;
  return view;
}

StatusOr<TagView> ProfileEditor::AddManualTag(storage::WriteTxn& write, int64_t customer_id,
                                              const model::TagRef& ref, double weight, bool decay) {
  SCRM_RETURN_IF_ERROR(ValidateManualTag(ref, weight));
  TagView view;
  Txn txn{write, store_};
  SCRM_RETURN_IF_ERROR(
      AddManualTagIn(txn, customer_id, ref, weight, decay, clock_.NowUnixMillis(), view));
  return view;
}

Status ProfileEditor::RemoveTag(int64_t customer_id, const model::TagRef& ref) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::TagDetail> tag,
                          txn.store.tags.Find(txn.write, ref.group, ref.name));
    if (!tag.has_value()) return core::NotFoundError("no tag " + ref.group + "/" + ref.name);
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> before,
                          txn.store.customer_tags.Get(txn.write, customer_id, tag->tag.id));
    SCRM_ASSIGN_OR_RETURN(const bool deleted,
                          txn.store.customer_tags.Delete(txn.write, customer_id, tag->tag.id));
    if (!deleted) {
      return core::NotFoundError("customer " + std::to_string(customer_id) + " does not have " +
                                 ref.group + "/" + ref.name);
    }
    return internal::Emit(
        sinks_, txn, customer_id, clock_.NowUnixMillis(),
        TagScoreChanged{&*tag, before.has_value() ? &*before : nullptr, nullptr, false});
  });
}
Status ProfileEditor::SyncPlatformTags(int64_t customer_id,
                                       std::span<const model::PlatformTag> tags) {
  const int64_t now_ms = clock_.NowUnixMillis();
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    std::set<int64_t> present;
    for (const model::PlatformTag& platform_tag : tags) {
      // Only 企业标签 are the corp's tag library; personal and rule-group tags are not ours.
      if (platform_tag.type != 1 || platform_tag.tag_id.empty()) continue;
      SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag,
                            txn.store.tags.FindByWecomId(txn.write, platform_tag.tag_id));
      if (!tag.has_value()) {
        const model::TagRef ref{platform_tag.group_name, platform_tag.tag_name};
        if (!ValidateTagRef(ref).ok()) continue;  // a name we cannot store: skip, not fail
        SCRM_ASSIGN_OR_RETURN(
            model::TagDetail local,
            txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
        if (local.tag.wecom_tag_id.empty()) {
          local.tag.wecom_tag_id = platform_tag.tag_id;
          SCRM_RETURN_IF_ERROR(txn.store.tags.Update(txn.write, local.tag));
        }
        tag = std::move(local);
      }
      present.insert(tag->tag.id);
      SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> current,
                            txn.store.customer_tags.Get(txn.write, customer_id, tag->tag.id));
      const double decayed =
          current.has_value() ? tagger::DecayedScore(current->score, current->updated_at_ms, now_ms,
                                                     HalfLifeMs(tag->group, current->decays))
                              : 0;
      if (current.has_value() && tagger::IsHeld(decayed, tag->Threshold())) continue;
      model::CustomerTag row;
      row.customer_id = customer_id;
      row.tag_id = tag->tag.id;
      row.score = tag->Threshold();
      row.updated_at_ms = now_ms;
      row.source = model::TagSource::kPlatform;
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, row));
      SCRM_RETURN_IF_ERROR(internal::Emit(
          sinks_, txn, customer_id, now_ms,
          TagScoreChanged{&*tag, current.has_value() ? &*current : nullptr, &row, true}));
    }
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                          txn.store.customer_tags.List(txn.write, customer_id));
    for (const model::CustomerTag& row : rows) {
      if (row.source != model::TagSource::kPlatform || present.contains(row.tag_id)) continue;
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Delete(txn.write, customer_id, row.tag_id));
      if (sinks_.empty()) continue;
      SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag, txn.store.tags.Get(txn.write, row.tag_id));
      SCRM_RETURN_IF_ERROR(internal::Emit(sinks_, txn, customer_id, now_ms,
                                          TagScoreChanged{&tag, &row, nullptr, true}));
    }
    return core::OkStatus();
  });
}

Status ProfileEditor::SetAttributes(int64_t customer_id,
                                    const std::map<std::string, std::string>& attributes) {
  constexpr size_t kMaxKeyBytes = 64;
  constexpr size_t kMaxValueBytes = 1024;
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return core::InvalidArgumentError("attribute key must be 1..64 bytes");
    }
    if (value.size() > kMaxValueBytes) {
      return core::InvalidArgumentError("attribute " + key + " is longer than 1024 bytes");
    }
  }
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    const model::Customer before = customer;
    for (const auto& [key, value] : attributes) {
      if (value.empty()) {
        customer.attributes.erase(key);
      } else {
        customer.attributes[key] = value;
      }
    }
    if (customer == before) return core::OkStatus();  // a repeated enrichment changes nothing
    customer.updated_at_ms = clock_.NowUnixMillis();
    SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, customer));
    for (const auto& [key, value] : attributes) {
      const auto was = before.attributes.find(key);
      const bool changed = value.empty() ? was != before.attributes.end()
                                         : was == before.attributes.end() || was->second != value;
      if (!changed) continue;
      SCRM_RETURN_IF_ERROR(internal::Emit(sinks_, txn, customer_id, customer.updated_at_ms,
                                          AttributeChanged{key, value}));
    }
    return core::OkStatus();
  });
}

StatusOr<model::TagDetail> ProfileEditor::MapTag(const model::TagRef& ref, std::string wecom_tag_id,
                                                 int64_t oa_tag_id) {
  TagMappingChange change;
  change.wecom_tag_id = std::move(wecom_tag_id);
  change.oa_tag_id = oa_tag_id;
  SCRM_ASSIGN_OR_RETURN(MappedTag mapped, UpdateTagMapping(ref, change));
  return std::move(mapped.tag);
}

StatusOr<MappedTag> ProfileEditor::UpdateTagMapping(storage::WriteTxn& write, model::TagDetail tag,
                                                    const TagMappingChange& change) const {
  Txn txn{write, store_};
  const int64_t now_ms = clock_.NowUnixMillis();
  model::TagDetail newly = tag;  // only the mappings this change adds or replaces
  newly.tag.wecom_tag_id.clear();
  newly.tag.oa_tag_id = 0;
  if (change.wecom_tag_id.has_value()) {
    if (*change.wecom_tag_id != tag.tag.wecom_tag_id) newly.tag.wecom_tag_id = *change.wecom_tag_id;
    tag.tag.wecom_tag_id = *change.wecom_tag_id;
  }
  if (change.oa_tag_id.has_value()) {
    if (*change.oa_tag_id != tag.tag.oa_tag_id) newly.tag.oa_tag_id = *change.oa_tag_id;
    tag.tag.oa_tag_id = *change.oa_tag_id;
  }
  // AlreadyExists when the WeCom id is another tag's (tags_wecom is UNIQUE).
  if (Status updated = txn.store.tags.Update(txn.write, tag.tag); !updated.ok()) {
    if (updated.code() != core::StatusCode::kAlreadyExists) return updated;
    return core::AlreadyExistsError("wecom_tag_id: the WeCom corp tag \"" + tag.tag.wecom_tag_id +
                                    "\" is mapped to another tag; unmap it there first");
  }
  MappedTag result;
  // The sinks that queue work for the holders count them (the tag push enqueuer: pushes).
  SCRM_RETURN_IF_ERROR(
      internal::Emit(sinks_, txn, 0, now_ms, TagMapped{&newly, &result.pushes_queued}));
  result.tag = std::move(tag);
  return result;
}

StatusOr<MappedTag> ProfileEditor::UpdateTagMapping(const model::TagRef& ref,
                                                    const TagMappingChange& change) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  SCRM_RETURN_IF_ERROR(ValidateMappingChange(change));
  MappedTag result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        model::TagDetail tag,
        txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
    SCRM_ASSIGN_OR_RETURN(result, UpdateTagMapping(txn.write, std::move(tag), change));
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<MappedTag> ProfileEditor::UpdateTagMapping(int64_t tag_id,
                                                    const TagMappingChange& change) {
  SCRM_RETURN_IF_ERROR(ValidateMappingChange(change));
  MappedTag result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::TagDetail tag, txn.store.tags.Get(txn.write, tag_id));  // NotFound
    SCRM_ASSIGN_OR_RETURN(result, UpdateTagMapping(txn.write, std::move(tag), change));
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<model::TagGroup> ProfileEditor::ConfigureTagGroup(std::string_view name,
                                                           int half_life_days, double threshold) {
  return ConfigureTagGroup(name, TagGroupChange{half_life_days, threshold});
}

StatusOr<model::TagGroup> ProfileEditor::ConfigureTagGroup(std::string_view name,
                                                           const TagGroupChange& change) {
  if (name.empty() || name.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag group must be 1..64 bytes");
  }
  if (!change.half_life_days.has_value() && !change.threshold.has_value()) {
    return core::InvalidArgumentError("a group change must set half_life_days or threshold");
  }
  if (change.half_life_days.has_value() &&
      (*change.half_life_days < 0 || *change.half_life_days > kMaxHalfLifeDays)) {
    return core::InvalidArgumentError("half_life_days must be within 0..3650");
  }
  if (change.threshold.has_value() && !std::isfinite(*change.threshold)) {
    return core::InvalidArgumentError("threshold must be finite");
  }
  model::TagGroup result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        result, txn.store.tags.GetOrCreateGroup(txn.write, name, options_.default_tag_group));
    if (change.half_life_days.has_value()) result.half_life_days = *change.half_life_days;
    if (change.threshold.has_value()) result.threshold = *change.threshold;
    SCRM_RETURN_IF_ERROR(txn.store.tags.UpdateGroup(txn.write, result));
    return internal::Emit(sinks_, txn, 0, clock_.NowUnixMillis(), TagGroupConfigured{&result});
  });
  if (!status.ok()) return status;
  return result;
}

Status ProfileEditor::SetTaskStatus(int64_t task_id, model::TaskStatus status) {
  return InTransaction(
      store_, [&](Txn& txn) { return txn.store.tasks.UpdateStatus(txn.write, task_id, status); });
}

}  // namespace scrm::profiles
