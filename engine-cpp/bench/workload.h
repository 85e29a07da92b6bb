// A generated order flow for the replay benchmark: several instruments; passive limit orders
// that join or improve the touch or queue a few ticks behind it, a realistic share of cancels and
// replaces of live orders, and aggressive orders that cross the spread (prices move as they eat
// through levels). Cancels and replaces name
// orders that are really open, because the generator runs its own engine as it goes; the
// benchmark then replays the same commands on a fresh engine.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/commands.h"

namespace hft::engine::bench {

struct WorkloadOptions {
  uint64_t commands = 5'000'000;
  uint32_t instruments = 8;
  uint32_t accounts = 64;
  uint64_t seed = 1;
  // Shares in percent of the commands after the instrument definitions; the rest are passive
  // new limit orders.
  uint32_t cancel_percent = 38;
  uint32_t replace_percent = 6;
  uint32_t aggressive_percent = 5;  // marketable IOC limits and market orders
  uint32_t stop_percent = 1;
  // The books are kept between this many open orders (across instruments) and twice as many:
  // below, a cancel becomes a passive order (which also builds the books at the start); above,
  // a passive order becomes a cancel. The replay then runs against books of a realistic depth.
  uint64_t open_orders = 20'000;
};

struct WorkloadMix {
  uint64_t new_orders = 0, cancels = 0, replaces = 0, aggressive = 0, stops = 0, trades = 0;
};

// Sequenced commands (1..n), the definitions first. `mix` receives what was generated.
std::vector<Command> generate_workload(const WorkloadOptions& options, WorkloadMix& mix);

}  // namespace hft::engine::bench
