#include "src/core/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <string_view>
#include <utility>

#include "src/core/status.h"

namespace scrm::core {
namespace {

// Exposition format 0.0.4:
// https://github.com/prometheus/docs/blob/main/content/docs/instrumenting/exposition_formats.md
bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Label names are metric names without ':'; a leading "__" is reserved for Prometheus itself.
bool IsLabelName(std::string_view name) {
  return IsMetricName(name) && name.find(':') == std::string_view::npos &&
         name.substr(0, 2) != "__";
}

void CheckLabelNames(const std::vector<std::string>& label_names) {
  for (const auto& label : label_names) {
    // Label names come from code, never from input: a bad one is a programming error.
    SCRM_CHECK(IsLabelName(label));
  }
}

// HELP text escapes backslash and newline; label values additionally escape the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"': out += escape_quote ? "\\\"" : "\""; break;
      default: out.push_back(c);
    }
  }
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  AppendEscaped(out, help, /*escape_quote=*/false);
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

// `{a="x",b="y"}`, plus an optional trailing extra pair (the histogram's `le`); nothing at all
// when there are no labels.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  auto append_pair = [&](std::string_view name, std::string_view value) {
    if (!first) out.push_back(',');
    first = false;
    out += name;
    out += "=\"";
    AppendEscaped(out, value, /*escape_quote=*/true);
    out.push_back('"');
  };
  for (size_t i = 0; i < names.size(); ++i) append_pair(names[i], values[i]);
  if (!extra_name.empty()) append_pair(extra_name, extra_value);
  out.push_back('}');
}

void AppendUint(std::string& out, uint64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// Shortest representation that round-trips, in %g style like the Go client ("0.0005", not
// "5e-04": `le` is a string label that queries match literally). Prometheus spells the
// specials +Inf, -Inf, NaN.
void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general);
    out.append(buf, result.ptr);
  }
}

std::string FormatDouble(double value) {
  std::string out;
  AppendDouble(out, value);
  return out;
}

}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  SCRM_CHECK(IsMetricName(name_));
  CheckLabelNames(label_names_);
  // A family without labels has exactly one series; render it as 0 from the start so that a
  // dashboard sees "nothing happened" rather than "no data".
  if (label_names_.empty()) {
    children_.emplace(std::vector<std::string>{}, std::make_unique<std::atomic<uint64_t>>(0));
  }
}

void CounterFamily::Inc(const std::vector<std::string>& label_values, uint64_t by) {
  SCRM_CHECK(label_values.size() == label_names_.size());
  std::atomic<uint64_t>* child = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = children_.find(label_values);
    if (it == children_.end()) {
      it = children_.emplace(label_values, std::make_unique<std::atomic<uint64_t>>(0)).first;
    }
    child = it->second.get();
  }
  // Children are never removed, so the pointer stays valid after the lock is released.
  child->fetch_add(by, std::memory_order_relaxed);
}

uint64_t CounterFamily::Value(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  const auto it = children_.find(label_values);
  return it == children_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

void CounterFamily::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "counter");
  std::lock_guard lock(mu_);
  for (const auto& [values, counter] : children_) {
    out += name_;
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendUint(out, counter->load(std::memory_order_relaxed));
    out.push_back('\n');
  }
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  SCRM_CHECK(IsMetricName(name_));
  CheckLabelNames(label_names_);
  if (label_names_.empty()) children_.emplace(std::vector<std::string>{}, 0.0);
}

void GaugeFamily::Set(const std::vector<std::string>& label_values, double value) {
  SCRM_CHECK(label_values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  children_[label_values] = value;
}

double GaugeFamily::Value(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  const auto it = children_.find(label_values);
  return it == children_.end() ? 0 : it->second;
}

void GaugeFamily::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "gauge");
  std::lock_guard lock(mu_);
  for (const auto& [values, value] : children_) {
    out += name_;
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendDouble(out, value);
    out.push_back('\n');
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {
  SCRM_CHECK(IsMetricName(name_));
  CheckLabelNames(label_names_);
  for (const auto& label : label_names_) SCRM_CHECK(label != "le");  // reserved for buckets
  // The +Inf bucket is implicit (it equals _count); drop an explicit one.
  if (!upper_bounds_.empty() && std::isinf(upper_bounds_.back()) && upper_bounds_.back() > 0) {
    upper_bounds_.pop_back();
  }
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    SCRM_CHECK(std::isfinite(upper_bounds_[i]));
    SCRM_CHECK(i == 0 || upper_bounds_[i - 1] < upper_bounds_[i]);  // strictly increasing
  }
  if (label_names_.empty()) {
    children_.emplace(std::vector<std::string>{},
                      Child{std::vector<uint64_t>(upper_bounds_.size(), 0), 0, 0});
  }
}

void HistogramFamily::Observe(const std::vector<std::string>& label_values, double value) {
  SCRM_CHECK(label_values.size() == label_names_.size());
  // A NaN would poison _sum for the life of the process and belongs in no bucket.
  if (std::isnan(value)) return;
  // Buckets are "less than or equal": the first bound >= value takes the observation.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  std::lock_guard lock(mu_);
  auto it = children_.find(label_values);
  if (it == children_.end()) {
    it =
        children_.emplace(label_values, Child{std::vector<uint64_t>(upper_bounds_.size(), 0), 0, 0})
            .first;
  }
  Child& child = it->second;
  if (bucket < child.buckets.size()) ++child.buckets[bucket];
  ++child.count;
  child.sum += value;
}

uint64_t HistogramFamily::Count(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  const auto it = children_.find(label_values);
  return it == children_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "histogram");
  std::vector<std::string> bounds;
  bounds.reserve(upper_bounds_.size());
  for (double bound : upper_bounds_) bounds.push_back(FormatDouble(bound));

  std::lock_guard lock(mu_);
  for (const auto& [values, child] : children_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += child.buckets[i];
      out += name_;
      out += "_bucket";
      AppendLabels(out, label_names_, values, "le", bounds[i]);
      out.push_back(' ');
      AppendUint(out, cumulative);
      out.push_back('\n');
    }
    out += name_;
    out += "_bucket";
    AppendLabels(out, label_names_, values, "le", "+Inf");
    out.push_back(' ');
    AppendUint(out, child.count);
    out.push_back('\n');

    out += name_;
    out += "_sum";
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendDouble(out, child.sum);
    out.push_back('\n');

    out += name_;
    out += "_count";
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendUint(out, child.count);
    out.push_back('\n');
  }
}

CounterFamily& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  // One name is one family: a second registration (two servers sharing a registry) gets the
  // first family, and must agree on its labels; a name reused for another kind is a bug.
  SCRM_CHECK(histograms_.find(name) == histograms_.end() && gauges_.find(name) == gauges_.end());
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    it =
        counters_.emplace(name, std::make_unique<CounterFamily>(name, help, std::move(label_names)))
            .first;
  } else {
    SCRM_CHECK(it->second->label_names() == label_names);
  }
  return *it->second;
}

HistogramFamily& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> upper_bounds) {
  std::lock_guard lock(mu_);
  SCRM_CHECK(counters_.find(name) == counters_.end() && gauges_.find(name) == gauges_.end());
  auto it = histograms_.find(name);
  if (it == histograms_.end()) {
    it = histograms_
             .emplace(name, std::make_unique<HistogramFamily>(name, help, std::move(label_names),
                                                              std::move(upper_bounds)))
             .first;
  } else {
    SCRM_CHECK(it->second->label_names() == label_names);
  }
  return *it->second;
}

GaugeFamily& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  SCRM_CHECK(counters_.find(name) == counters_.end() &&
             histograms_.find(name) == histograms_.end());
  auto it = gauges_.find(name);
  if (it == gauges_.end()) {
    it = gauges_.emplace(name, std::make_unique<GaugeFamily>(name, help, std::move(label_names)))
             .first;
  } else {
    SCRM_CHECK(it->second->label_names() == label_names);
  }
  return *it->second;
}

void MetricsRegistry::SetInfo(const std::string& name, const std::string& help,
                              std::vector<std::pair<std::string, std::string>> labels) {
  SCRM_CHECK(IsMetricName(name));
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (auto& [label, value] : labels) {
    SCRM_CHECK(IsLabelName(label));
    names.push_back(std::move(label));
    values.push_back(std::move(value));
  }
  std::string text;
  AppendHeader(text, name, help, "gauge");
  text += name;
  AppendLabels(text, names, values);
  text += " 1\n";

  const std::string prefix = "# HELP " + name + " ";
  std::lock_guard lock(mu_);
  SCRM_CHECK(counters_.find(name) == counters_.end() &&
             histograms_.find(name) == histograms_.end() && gauges_.find(name) == gauges_.end());
  // Setting the same info again (a reload) replaces it rather than adding a second family.
  for (auto& info : infos_) {
    if (info.compare(0, prefix.size(), prefix) == 0) {
      info = std::move(text);
      return;
    }
  }
  infos_.push_back(std::move(text));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  // Families in name order regardless of kind, so the output is stable and diffable.
  std::map<std::string_view, std::function<void()>> ordered;
  for (const auto& [name, family] : counters_) {
    ordered.emplace(name, [&out, f = family.get()] { f->Render(out); });
  }
  for (const auto& [name, family] : histograms_) {
    ordered.emplace(name, [&out, f = family.get()] { f->Render(out); });
  }
  for (const auto& [name, family] : gauges_) {
    ordered.emplace(name, [&out, f = family.get()] { f->Render(out); });
  }
  for (const auto& [name, render] : ordered) render();
  for (const auto& info : infos_) out += info;
  return out;
}

}  // namespace scrm::core
