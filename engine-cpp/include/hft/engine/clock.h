// The two clocks the engine's callers use: monotonic for durations and deadlines, wall-clock for
// the timestamps assigned at sequencing.
#pragma once

#include <chrono>
#include <cstdint>

namespace hft::engine {

inline int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace hft::engine
