// Where the orders and price levels of all books live: the pools, the index from order id to
// slot, the arrival stamps that define time priority, and the levels the current command touched.
// Shared by the books and the matcher of one engine; the matching thread owns it.
#pragma once

#include "hft/engine/level_changes.h"
#include "hft/engine/order.h"
#include "hft/engine/order_index.h"
#include "hft/engine/price_level.h"

namespace hft::engine {

struct OrderStore {
  explicit OrderStore(size_t expected_orders) : orders(expected_orders), index(expected_orders) {}

  // Forgets an order that is off its book: drops it from the index and frees its slot.
  void close(uint32_t slot) {
    Order& order = orders[slot];
    if (order.indexed) index.erase(order.id, slot);
    orders.release(slot);
  }
  // Makes an order findable by id (cancel, replace); only orders that outlive their command are.
  void index_order(uint32_t slot) {
    Order& order = orders[slot];
    if (order.indexed) return;
    index.insert(order.id, slot);
    order.indexed = true;
  }

  OrderPool orders;
  LevelPool levels;
  OrderIndex index;
  LevelChanges changes;
  uint64_t next_arrival = 1;
};

}  // namespace hft::engine
