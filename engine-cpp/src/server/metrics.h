// Prometheus metrics without a client library (Debian has none for C++): counters and fixed-bucket
// histograms that the matching thread updates with relaxed atomic adds and no locks, and the text
// exposition format (version 0.0.4) they are scraped in.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hft::engine::server {

class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Upper bounds from 1 µs to 10 s in 1-2-5 steps: command latency sits at the bottom, fsync and
// snapshots further up.
std::vector<double> microsecond_buckets();

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds = microsecond_buckets());
  void observe(double value);
  // The same as observing each value, with one atomic add per bucket touched rather than two per
  // value: for a thread that times every command of a group.
  void observe_all(std::span<const double> values);

  struct Totals {
    std::vector<uint64_t> cumulative;  // per upper bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Totals totals() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative; the last is +Inf
  std::atomic<double> sum_{0};
};

// Builds one exposition: each family's HELP and TYPE once, then its samples.
class PrometheusText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  // `labels` is the inside of the braces, e.g. `type="new_order"`, or empty.
  void sample(std::string_view name, std::string_view labels, double value);
  void histogram(std::string_view name, std::string_view labels, const Histogram& histogram);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace hft::engine::server
