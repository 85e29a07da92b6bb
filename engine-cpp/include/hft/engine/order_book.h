// The book of one instrument: two sides of price levels, the pending stop orders, the last trade
// price and running statistics. Orders and levels live in the engine's OrderStore; the book keeps
// their order. Not thread-safe: the matching thread owns every book.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/engine/commands.h"
#include "hft/engine/order_store.h"
#include "hft/engine/stop_orders.h"

namespace hft::engine {

// One side of a book: its levels in a vector sorted so the best is last (activity at the top of
// the book moves few entries), with the best price cached for the crossing test. The vector only
// grows when the side has more levels than ever before, never per order.
class BookSide {
 public:
  explicit BookSide(Side side) : side_(side) { levels_.reserve(64); }

  Side side() const { return side_; }
  bool empty() const { return levels_.empty(); }
  size_t depth() const { return levels_.size(); }
  // The cached best price; meaningless when the side is empty.
  Price best_price() const { return best_price_; }
  uint32_t best_level() const { return levels_.back().level; }
  // The slot of the i-th level from the best (i = 0).
  uint32_t level_at(size_t i) const { return levels_[levels_.size() - 1 - i].level; }
  // The slot of the level at `price`, or kNoSlot.
  uint32_t find(Price price) const;
  // The slot of the level at `price`, adding an empty one when there is none.
  uint32_t find_or_add(LevelPool& levels, Price price);
  // Drops the (empty) level at `price` and frees its slot.
  void remove(LevelPool& levels, Price price);

 private:
  struct Entry {
    Price price;
    uint32_t level;
  };
  // Index of the first entry whose price is not worse than `price`.
  size_t lower_bound(Price price) const;
  void cache_best() { best_price_ = levels_.empty() ? 0 : levels_.back().price; }

  Side side_;
  std::vector<Entry> levels_;  // worst first, best last
  Price best_price_ = 0;
};

class OrderBook {
 public:
  OrderBook(const DefineInstrument& definition, uint32_t index) : definition_(definition), index_(index) {}
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;
  OrderBook(OrderBook&&) = default;
  OrderBook& operator=(OrderBook&&) = default;

  InstrumentId id() const { return definition_.id; }
  const DefineInstrument& definition() const { return definition_; }
  // New limits apply to orders that arrive from now on.
  void redefine(const DefineInstrument& definition) { definition_ = definition; }

  BookSide& side(Side s) { return s == Side::Buy ? bids_ : asks_; }
  const BookSide& side(Side s) const { return s == Side::Buy ? bids_ : asks_; }
  StopOrders& stops() { return stops_; }
  const StopOrders& stops() const { return stops_; }

  // Puts an order last in the level at its price (creating the level), showing `order.visible`.
  void rest(OrderStore& store, uint32_t slot);
  // Takes an order off its level (dropping the level when it empties) or out of the stops.
  void remove(OrderStore& store, uint32_t slot);
  // A resting order traded `quantity` of its visible slice. A filled order leaves the book and
  // is closed; an iceberg whose slice is used up shows a fresh slice at the back of its level.
  void fill_resting(OrderStore& store, uint32_t slot, Quantity quantity);
  // Lowers a resting order's open quantity in place: it keeps its time priority.
  void reduce_resting(OrderStore& store, uint32_t slot, Quantity leaves);
  // Waits a stop order for its trigger.
  void add_stop(OrderStore& store, uint32_t slot);

  void record_trade(Price price, Quantity quantity) {
    last_trade_price_ = price;
    trades_ += 1;
    volume_ += quantity;
  }
  Price last_trade_price() const { return last_trade_price_; }  // 0 before the first trade
  uint64_t trades() const { return trades_; }
  Quantity volume() const { return volume_; }
  uint64_t resting_orders() const { return resting_orders_; }
  void restore_statistics(Price last_trade_price, uint64_t trades, Quantity volume) {
    last_trade_price_ = last_trade_price;
    trades_ = trades;
    volume_ = volume;
  }

 private:
  void touch(OrderStore& store, Side side, PriceLevel& level) { store.changes.touch(definition_.id, index_, side, level); }

  DefineInstrument definition_;
  uint32_t index_;  // this book's index in the engine, stored in its orders
  BookSide bids_{Side::Buy};
  BookSide asks_{Side::Sell};
  StopOrders stops_;
  Price last_trade_price_ = 0;
  uint64_t trades_ = 0;
  Quantity volume_ = 0;
  uint64_t resting_orders_ = 0;
};

}  // namespace hft::engine
