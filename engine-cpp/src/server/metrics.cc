#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hft::engine::server {

std::vector<double> microsecond_buckets() {
  std::vector<double> bounds;
  for (double decade = 1; decade <= 1e7; decade *= 10)
    for (double step : {1.0, 2.0, 5.0})
      if (decade * step <= 1e7) bounds.push_back(decade * step);
  return bounds;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  const size_t bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::observe_all(std::span<const double> values) {
  if (values.empty()) return;
  std::vector<uint64_t> counts(upper_bounds_.size() + 1);
  double sum = 0;
  for (double value : values) {
    ++counts[std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin()];
    sum += value;
  }
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) buckets_[i].fetch_add(counts[i], std::memory_order_relaxed);
  sum_.fetch_add(sum, std::memory_order_relaxed);
}

Histogram::Totals Histogram::totals() const {
  Totals totals;
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    totals.cumulative.push_back(running);
  }
  totals.count = running;
  totals.sum = sum_.load(std::memory_order_relaxed);
  return totals;
}

namespace {

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  // Integers (every counter) print exactly; others with enough digits to round-trip.
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  else
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::sample(std::string_view name, std::string_view labels, double value) {
  text_.append(name);
  if (!labels.empty()) text_.append("{").append(labels).append("}");
  text_.append(" ").append(format_number(value)).append("\n");
}

void PrometheusText::histogram(std::string_view name, std::string_view labels, const Histogram& histogram) {
  const Histogram::Totals totals = histogram.totals();
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  for (size_t i = 0; i < totals.cumulative.size(); ++i) {
    const double bound = i < histogram.upper_bounds().size() ? histogram.upper_bounds()[i] : INFINITY;
    sample(bucket, prefix + "le=\"" + format_number(bound) + "\"", static_cast<double>(totals.cumulative[i]));
  }
  sample(std::string(name) + "_sum", labels, totals.sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(totals.count));
}

}  // namespace hft::engine::server
