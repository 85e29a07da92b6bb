#include "hft/engine/order_book.h"

#include <cstddef>

namespace hft::engine {

// Index of the first level whose price is not better than... in storage order: bids ascend,
// asks descend, so "best at the back" holds for both.
size_t BookSide::lower_bound(Price price) const {
  size_t lo = 0, hi = levels_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    bool before = side_ == Side::Buy ? levels_[mid].price < price : levels_[mid].price > price;
    if (before)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

PriceLevel* BookSide::find(Price price) {
  // Most activity is at the top of the book: look there first.
  if (!levels_.empty() && levels_.back().price == price) return &levels_.back();
  size_t i = lower_bound(price);
  return i < levels_.size() && levels_[i].price == price ? &levels_[i] : nullptr;
}

const PriceLevel* BookSide::find(Price price) const { return const_cast<BookSide*>(this)->find(price); }

void BookSide::append(OrderPool& pool, uint32_t slot) {
  LiveOrder& order = pool[slot];
  PriceLevel* level = find(order.price);
  if (level == nullptr) {
    size_t i = lower_bound(order.price);
    level = &*levels_.insert(levels_.begin() + static_cast<std::ptrdiff_t>(i), PriceLevel{order.price, 0, 0, kNoSlot, kNoSlot});
  }
  order.prev = level->tail;
  order.next = kNoSlot;
  if (level->tail == kNoSlot)
    level->head = slot;
  else
    pool[level->tail].next = slot;
  level->tail = slot;
  level->visible += order.visible;
  level->count += 1;
}

void BookSide::remove(OrderPool& pool, uint32_t slot) {
  LiveOrder& order = pool[slot];
  PriceLevel* level = find(order.price);
  if (order.prev == kNoSlot)
    level->head = order.next;
  else
    pool[order.prev].next = order.next;
  if (order.next == kNoSlot)
    level->tail = order.prev;
  else
    pool[order.next].prev = order.prev;
  order.prev = order.next = kNoSlot;
  level->visible -= order.visible;
  level->count -= 1;
  if (level->count == 0) levels_.erase(levels_.begin() + (level - levels_.data()));
}

}  // namespace hft::engine
