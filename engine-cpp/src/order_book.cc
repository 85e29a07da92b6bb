#include "hft/engine/order_book.h"

namespace hft::engine {

size_t BookSide::lower_bound(Price price) const {
  size_t lo = 0, hi = levels_.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (at_least_as_good(side_, levels_[mid].price, price))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

uint32_t BookSide::find(Price price) const {
  if (levels_.empty()) return kNoSlot;
  if (levels_.back().price == price) return levels_.back().level;  // most activity is at the top
  const size_t i = lower_bound(price);
  return i < levels_.size() && levels_[i].price == price ? levels_[i].level : kNoSlot;
}

uint32_t BookSide::find_or_add(LevelPool& levels, Price price) {
  if (!levels_.empty() && levels_.back().price == price) return levels_.back().level;
  const size_t i = lower_bound(price);
  if (i < levels_.size() && levels_[i].price == price) return levels_[i].level;
  const uint32_t slot = levels.acquire();
  levels[slot].price = price;
  levels_.insert(levels_.begin() + static_cast<std::ptrdiff_t>(i), Entry{price, slot});
  cache_best();
  return slot;
}

void BookSide::remove(LevelPool& levels, Price price) {
  size_t i = levels_.size() - 1;
  if (levels_[i].price != price) i = lower_bound(price);
  levels.release(levels_[i].level);
  levels_.erase(levels_.begin() + static_cast<std::ptrdiff_t>(i));
  cache_best();
}

void OrderBook::rest(OrderStore& store, uint32_t slot) {
  Order& order = store.orders[slot];
  BookSide& book_side = side(order.side);
  const uint32_t level_slot = book_side.find_or_add(store.levels, order.price);
  PriceLevel& level = store.levels[level_slot];
  touch(store, order.side, level);
  order.state = OrderState::Resting;
  order.level = level_slot;
  order.arrival = store.next_arrival++;
  level.push_back(store.orders, slot);
  resting_orders_ += 1;
}

void OrderBook::remove(OrderStore& store, uint32_t slot) {
  Order& order = store.orders[slot];
  if (order.state == OrderState::PendingTrigger) {
    stops_.remove(order.side, order.stop_price, order.id);
    order.state = OrderState::Incoming;
    return;
  }
  PriceLevel& level = store.levels[order.level];
  touch(store, order.side, level);
  level.unlink(store.orders, slot);
  if (level.empty()) side(order.side).remove(store.levels, order.price);
  order.level = kNoSlot;
  order.state = OrderState::Incoming;
  resting_orders_ -= 1;
}

void OrderBook::fill_resting(OrderStore& store, uint32_t slot, Quantity quantity) {
  Order& order = store.orders[slot];
  PriceLevel& level = store.levels[order.level];
  touch(store, order.side, level);
  order.leaves -= quantity;
  order.visible -= quantity;
  level.visible -= quantity;
  if (order.leaves == 0) {
    remove(store, slot);
    store.close(slot);
  } else if (order.visible == 0) {
    // Iceberg refresh: the next slice queues behind everything already at this price.
    remove(store, slot);
    order.visible = order.fresh_visible();
    rest(store, slot);
  }
}

void OrderBook::reduce_resting(OrderStore& store, uint32_t slot, Quantity leaves) {
  Order& order = store.orders[slot];
  PriceLevel& level = store.levels[order.level];
  touch(store, order.side, level);
  const Quantity visible = order.visible < leaves ? order.visible : leaves;
  level.visible -= order.visible - visible;
  order.visible = visible;
  order.leaves = leaves;
}

void OrderBook::add_stop(OrderStore& store, uint32_t slot) {
  Order& order = store.orders[slot];
  order.state = OrderState::PendingTrigger;
  stops_.add(order.side, order.stop_price, order.id, slot);
}

}  // namespace hft::engine
