// The pending stop orders of one book. A buy stop is reached when the last trade price is at or
// above its stop price, a sell stop when it is at or below.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/slab_pool.h"
#include "hft/engine/types.h"

namespace hft::engine {

class StopOrders {
 public:
  void add(Side side, Price stop_price, OrderId id, uint32_t slot);
  void remove(Side side, Price stop_price, OrderId id);
  // Removes every stop a last trade at `last` reaches and visits each as (id, slot); O(reached).
  template <typename Visit>
  void take_reached(Price last, Visit visit) {
    take_suffix(buys_, [last](Price stop) { return last >= stop; }, visit);
    take_suffix(sells_, [last](Price stop) { return last <= stop; }, visit);
  }

  size_t size() const { return buys_.size() + sells_.size(); }
  bool empty() const { return buys_.empty() && sells_.empty(); }
  // Slots of every pending stop in acceptance order (snapshots, hashes, checks).
  std::vector<uint32_t> in_acceptance_order() const;
  // Visits every pending stop's slot, in no particular order.
  template <typename Visit>
  void for_each_slot(Visit visit) const {
    for (const Entry& e : buys_) visit(e.slot);
    for (const Entry& e : sells_) visit(e.slot);
  }

 private:
  struct Entry {
    Price stop_price;
    OrderId id;
    uint32_t slot;
  };
  // Sorted so that the stops a price move reaches first sit at the back, where the triggered
  // ones are found and removed cheaply: buys by stop price descending, sells ascending; equal
  // stop prices by id descending.
  static bool before(Side side, const Entry& a, const Entry& b) {
    if (a.stop_price != b.stop_price) return side == Side::Buy ? a.stop_price > b.stop_price : a.stop_price < b.stop_price;
    return a.id > b.id;
  }
  std::vector<Entry>& entries(Side side) { return side == Side::Buy ? buys_ : sells_; }
  template <typename Reached, typename Visit>
  static void take_suffix(std::vector<Entry>& list, Reached reached, Visit visit) {
    size_t keep = list.size();
    while (keep > 0 && reached(list[keep - 1].stop_price)) --keep;
    for (size_t i = keep; i < list.size(); ++i) visit(list[i].id, list[i].slot);
    list.resize(keep);
  }

  std::vector<Entry> buys_;
  std::vector<Entry> sells_;
};

}  // namespace hft::engine
