// Metrics: counters and histograms with labels, rendered in the Prometheus text format.
// Lives in core so that every module can count what it does without depending on the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace scrm::core {

// A family of counters sharing a name and label names; one child per label-value tuple.
// Thread-safe; Inc is a map lookup under a mutex plus an atomic add.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  // label_values must have as many entries as label_names (a broken invariant otherwise).
  void Inc(const std::vector<std::string>& label_values, uint64_t by = 1);
  uint64_t Value(const std::vector<std::string>& label_values) const;
  void Render(std::string& out) const;
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<std::atomic<uint64_t>>> children_;
};

// A family of gauges: values that go up and down (a queue's length, the age of its oldest item).
// Thread-safe; Set is a map lookup under a mutex.
class GaugeFamily {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  // label_values must have as many entries as label_names (a broken invariant otherwise).
  void Set(const std::vector<std::string>& label_values, double value);
  double Value(const std::vector<std::string>& label_values) const;
  void Render(std::string& out) const;
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> children_;
};

// A family of histograms (cumulative buckets, _sum, _count). Thread-safe.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> upper_bounds);
  void Observe(const std::vector<std::string>& label_values, double value);
  uint64_t Count(const std::vector<std::string>& label_values) const;
  void Render(std::string& out) const;
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  struct Child {
    std::vector<uint64_t> buckets;  // per upper bound, non-cumulative; +Inf is count
    uint64_t count = 0;
    double sum = 0;
  };
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Child> children_;
};

// Owns every family; families live as long as the registry (returned references stay valid).
// Thread-safe. Created in main and passed by reference.
class MetricsRegistry {
 public:
  // Counter/Histogram return the family called `name`, creating it on first use; a later call
  // with the same name gets the same family and must pass the same label names. Names and label
  // names come from code and must be valid Prometheus names (broken invariant otherwise).
  // Histogram upper bounds are finite and strictly increasing; +Inf is implicit.
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names);
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             std::vector<double> upper_bounds);
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names);
  // A gauge fixed at 1 with constant labels (e.g. scrmd_build_info{version="0.1.0"}); setting
  // the same name again replaces it.
  void SetInfo(const std::string& name, const std::string& help,
               std::vector<std::pair<std::string, std::string>> labels);
  // Prometheus text exposition format 0.0.4, families in name order, infos last.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_;
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_;
  std::map<std::string, std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::string> infos_;  // pre-rendered
};

}  // namespace scrm::core
