// The price levels the current command touched, each with its visible quantity and order count
// from before the command. At the end of the command the engine reports every touched level
// whose state differs, in a fixed order, as BookLevelChanged.
#pragma once

#include <span>
#include <vector>

#include "hft/engine/price_level.h"

namespace hft::engine {

class LevelChanges {
 public:
  struct Touched {
    InstrumentId instrument;
    uint32_t book;
    Side side;
    Price price;
    Quantity visible_before;
    uint32_t count_before;
  };

  LevelChanges() { touched_.reserve(256); }

  // Records a level about to change, once per command: a mark on the level makes a repeat free.
  // A level removed and re-created within the command is recorded again; in_report_order()
  // keeps the first record, which holds the state before the command.
  void touch(InstrumentId instrument, uint32_t book, Side side, PriceLevel& level) {
    if (level.touched_in == round_) return;
    level.touched_in = round_;
    touched_.push_back({instrument, book, side, level.price, level.visible, level.count});
  }

  // The touched levels, one record each, in report order: by instrument, bids before asks,
  // best price first.
  std::span<const Touched> in_report_order();
  // Starts the next command's round.
  void clear() {
    touched_.clear();
    ++round_;
  }
  bool empty() const { return touched_.empty(); }

 private:
  std::vector<Touched> touched_;
  uint64_t round_ = 1;  // fresh levels carry 0: never taken for recorded
};

}  // namespace hft::engine
