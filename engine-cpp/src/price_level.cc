#include "hft/engine/price_level.h"

namespace hft::engine {

void PriceLevel::push_back(OrderPool& orders, uint32_t slot) {
  Order& order = orders[slot];
  order.prev = tail;
  order.next = kNoSlot;
  if (tail == kNoSlot)
    head = slot;
  else
    orders[tail].next = slot;
  tail = slot;
  visible += order.visible;
  count += 1;
}

void PriceLevel::unlink(OrderPool& orders, uint32_t slot) {
  Order& order = orders[slot];
  if (order.prev == kNoSlot)
    head = order.next;
  else
    orders[order.prev].next = order.next;
  if (order.next == kNoSlot)
    tail = order.prev;
  else
    orders[order.next].prev = order.prev;
  order.prev = order.next = kNoSlot;
  visible -= order.visible;
  count -= 1;
}

}  // namespace hft::engine
