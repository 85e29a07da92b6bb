#include "hft/engine/level_changes.h"

#include <algorithm>

namespace hft::engine {

std::span<const LevelChanges::Touched> LevelChanges::in_report_order() {
  if (touched_.size() < 2) return touched_;
  const auto same_level = [](const Touched& a, const Touched& b) { return a.book == b.book && a.side == b.side && a.price == b.price; };
  // Stable: of two records of one level, the first (the state before the command) stays first.
  std::stable_sort(touched_.begin(), touched_.end(), [](const Touched& a, const Touched& b) {
    if (a.instrument != b.instrument) return a.instrument < b.instrument;
    if (a.side != b.side) return a.side == Side::Buy;
    return a.price != b.price && at_least_as_good(a.side, a.price, b.price);
  });
  touched_.erase(std::unique(touched_.begin(), touched_.end(), same_level), touched_.end());
  return touched_;
}

}  // namespace hft::engine
