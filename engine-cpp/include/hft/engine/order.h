// An open order as the books hold it. Orders live in a SlabPool and are linked into their price
// level through `prev`/`next` slots (an intrusive list), so resting, filling and cancelling never
// allocate.
#pragma once

#include <cstdint>

#include "hft/engine/commands.h"
#include "hft/engine/slab_pool.h"

namespace hft::engine {

enum class OrderState : uint8_t {
  Incoming = 0,        // being matched on arrival (or after a trigger or a price change)
  Resting = 1,         // on a price level of its book
  PendingTrigger = 2,  // a stop order waiting off the book for its stop price
};

struct Order {
  OrderId id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  uint32_t book = 0;      // index of its book in the engine
  Price price = 0;        // limit price; 0 for market and stop orders
  Price stop_price = 0;   // 0 unless a stop or stop-limit order
  Quantity quantity = 0;  // total quantity, filled part included
  Quantity leaves = 0;    // still open
  Quantity display = 0;   // iceberg slice; 0 displays everything
  Quantity visible = 0;   // shown on the level now (<= leaves)
  uint64_t arrival = 0;   // stamp of its latest entry into a level: FIFO order is checkable
  uint32_t level = kNoSlot;  // its price level's slot while resting
  uint32_t prev = kNoSlot;
  uint32_t next = kNoSlot;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GTC;
  SelfTradePrevention stp = SelfTradePrevention::None;
  OrderState state = OrderState::Incoming;
  bool post_only = false;
  bool indexed = false;  // in the id index: only orders that rest or wait for a trigger are

  Quantity filled() const { return quantity - leaves; }
  // What is shown when (re-)entering a level: one slice of an iceberg, else everything open.
  Quantity fresh_visible() const { return display > 0 && display < leaves ? display : leaves; }
};

using OrderPool = SlabPool<Order>;

}  // namespace hft::engine
