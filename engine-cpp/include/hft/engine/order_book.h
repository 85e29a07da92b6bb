// The book of one instrument: price levels per side with intrusive FIFO lists of orders that live
// in a shared pool. Not thread-safe: the matching thread owns every book.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/types.h"

namespace hft::engine {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

// An order while it can still trade: resting on a level, or waiting for its stop price.
struct LiveOrder {
  OrderId id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Price price = 0;       // limit price; 0 for market
  Price stop_price = 0;  // trigger price while pending
  Quantity quantity = 0;  // total quantity, filled included
  Quantity leaves = 0;    // what is left to fill
  Quantity display = 0;   // iceberg slice; 0 displays everything
  Quantity visible = 0;   // displayed now (<= leaves)
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  SelfTradePrevention stp = SelfTradePrevention::None;
  bool post_only = false;
  bool pending_stop = false;
  uint64_t priority = 0;  // rises with every entry into a level: FIFO is checkable
  uint32_t prev = kNoSlot;
  uint32_t next = kNoSlot;
};

// Orders of all books, reused through a free list: the hot path allocates only when the pool
// outgrows its capacity (amortised doubling), never per order.
class OrderPool {
 public:
  explicit OrderPool(size_t capacity) { slots_.reserve(capacity); }
  uint32_t acquire() {
    if (!free_.empty()) {
      uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  void release(uint32_t slot) {
    slots_[slot] = LiveOrder{};
    free_.push_back(slot);
  }
  LiveOrder& operator[](uint32_t slot) { return slots_[slot]; }
  const LiveOrder& operator[](uint32_t slot) const { return slots_[slot]; }

 private:
  std::vector<LiveOrder> slots_;
  std::vector<uint32_t> free_;
};

struct PriceLevel {
  Price price = 0;
  Quantity visible = 0;  // sum of the orders' visible quantities
  uint32_t count = 0;
  uint32_t head = kNoSlot;
  uint32_t tail = kNoSlot;
};

// One side of a book. Levels are sorted so that the best is at the back: inserting and removing
// near the top of the book moves few elements.
class BookSide {
 public:
  explicit BookSide(Side side) : side_(side) {}

  Side side() const { return side_; }
  bool empty() const { return levels_.empty(); }
  PriceLevel& best() { return levels_.back(); }
  const PriceLevel& best() const { return levels_.back(); }
  // Levels from best to worst.
  size_t depth() const { return levels_.size(); }
  const PriceLevel& level_from_best(size_t i) const { return levels_[levels_.size() - 1 - i]; }
  PriceLevel& level_from_best(size_t i) { return levels_[levels_.size() - 1 - i]; }

  // True when `price` is at least as good as `other` for this side.
  bool at_least_as_good(Price price, Price other) const { return side_ == Side::Buy ? price >= other : price <= other; }

  PriceLevel* find(Price price);
  const PriceLevel* find(Price price) const;
  // Appends the order at the back of its price level, creating the level if needed.
  void append(OrderPool& pool, uint32_t slot);
  // Unlinks the order from its level, removing the level when it empties.
  void remove(OrderPool& pool, uint32_t slot);

 private:
  size_t lower_bound(Price price) const;

  Side side_;
  std::vector<PriceLevel> levels_;
};

// The book of one instrument.
struct OrderBook {
  explicit OrderBook(const InstrumentDefinition& def) : definition(def) {}
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;
  OrderBook(OrderBook&&) = default;
  OrderBook& operator=(OrderBook&&) = default;

  BookSide& side(Side s) { return s == Side::Buy ? bids : asks; }
  const BookSide& side(Side s) const { return s == Side::Buy ? bids : asks; }

  InstrumentDefinition definition;
  BookSide bids{Side::Buy};
  BookSide asks{Side::Sell};
  std::vector<uint32_t> stops;  // pending stop orders, in acceptance order
  Price last_trade_price = 0;   // 0 before the first trade
  uint64_t resting_orders = 0;
  uint64_t trades = 0;
  Quantity volume = 0;
};

}  // namespace hft::engine
