// One price on one side of a book: its orders in time priority as an intrusive doubly-linked list
// through the order pool, with the visible quantity and order count kept as orders come and go.
#pragma once

#include <cstdint>

#include "hft/engine/order.h"

namespace hft::engine {

struct PriceLevel {
  Price price = 0;
  Quantity visible = 0;  // sum of the orders' visible quantities
  uint32_t count = 0;
  uint32_t head = kNoSlot;  // oldest: the next to trade
  uint32_t tail = kNoSlot;
  uint64_t touched_in = 0;  // the LevelChanges round that last recorded this level

  bool empty() const { return count == 0; }
  // Links the order in last (it gets the lowest time priority) and adds its visible quantity.
  void push_back(OrderPool& orders, uint32_t slot);
  // Unlinks the order from wherever it is in the list and subtracts its visible quantity.
  void unlink(OrderPool& orders, uint32_t slot);
};

using LevelPool = SlabPool<PriceLevel>;

}  // namespace hft::engine
