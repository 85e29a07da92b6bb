// Latency percentile line shared by the benchmarks: p50, p90, p99, p99.9, p99.99 and max of a
// set of samples, so every benchmark reports its distribution the same way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <vector>

namespace hft::engine::bench {

// Sorts `samples` (raw ticks) and prints one line; a sample is divided by `ticks_per_unit`
// (the TSC rate for ns, 1000 for ns samples shown in us) and shown with `decimals` digits.
template <typename T>
void print_percentiles(const char* what, std::vector<T> samples, double ticks_per_unit, const char* unit = "ns", int decimals = 0) {
  if (samples.empty()) {
    std::printf("  %-34s no samples\n", what);
    return;
  }
  std::sort(samples.begin(), samples.end());
  // The sample at index floor(q * n); with fewer than 10^4 samples p99.99 is simply the max.
  auto at = [&](double q) { return static_cast<double>(samples[std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()))]) / ticks_per_unit; };
  std::printf("  %-34s p50 %9.*f %s  p90 %9.*f  p99 %9.*f  p99.9 %9.*f  p99.99 %9.*f  max %11.*f\n", what, decimals, at(0.5), unit, decimals,
              at(0.9), decimals, at(0.99), decimals, at(0.999), decimals, at(0.9999), decimals,
              static_cast<double>(samples.back()) / ticks_per_unit);
}

}  // namespace hft::engine::bench
