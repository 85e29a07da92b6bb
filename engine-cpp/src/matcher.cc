#include "hft/engine/matcher.h"

#include <algorithm>
#include <functional>

namespace hft::engine {

bool Matcher::would_take(const OrderBook& book, const Order& order) const {
  const BookSide& makers = book.side(opposite(order.side));
  return !makers.empty() && crosses(order, makers.best_price());
}

Quantity Matcher::fillable(const OrderBook& book, const Order& taker) const {
  const BookSide& makers = book.side(opposite(taker.side));
  const bool stp = taker.stp != SelfTradePrevention::None;
  const bool stops_at_own = stp && taker.stp != SelfTradePrevention::CancelResting;
  Quantity total = 0;
  for (size_t i = 0; i < makers.depth() && total < taker.quantity; ++i) {
    const PriceLevel& level = store_.levels[makers.level_at(i)];
    if (!crosses(taker, level.price)) break;
    // An iceberg's hidden reserve is reachable within this level only if matching never reaches
    // an own order that ends it; until then each order offers its visible slice.
    Quantity shown = 0, open = 0;
    for (uint32_t s = level.head; s != kNoSlot; s = store_.orders[s].next) {
      const Order& maker = store_.orders[s];
      if (stp && maker.account == taker.account) {
        if (stops_at_own) return total + std::min(shown, taker.quantity - total);
        continue;
      }
      shown += maker.visible;
      open += maker.leaves;
    }
    total += open;
  }
  return total;
}

void Matcher::execute(OrderBook& book, uint32_t slot, Sequence sequence) {
  match(book, slot, sequence);
  dispose_remainder(book, slot, sequence);
  trigger_stops(book, sequence);
}

void Matcher::match(OrderBook& book, uint32_t slot, Sequence sequence) {
  Order& taker = store_.orders[slot];
  BookSide& makers = book.side(opposite(taker.side));
  while (taker.leaves > 0 && !makers.empty() && crosses(taker, makers.best_price())) {
    const uint32_t maker_slot = store_.levels[makers.best_level()].head;
    Order& maker = store_.orders[maker_slot];
    if (maker.account == taker.account && taker.stp != SelfTradePrevention::None) {
      const SelfTradePrevention mode = taker.stp;
      if (mode != SelfTradePrevention::CancelIncoming) cancel(book, maker_slot, CancelReason::SelfTradePrevention, sequence);
      if (mode != SelfTradePrevention::CancelResting) {
        events_.emit(sequence, OrderCancelled{taker.id, taker.account, taker.instrument, CancelReason::SelfTradePrevention, taker.leaves});
        taker.leaves = 0;
        return;
      }
      continue;
    }
    const Quantity quantity = std::min(taker.leaves, maker.visible);
    const Price price = makers.best_price();
    taker.leaves -= quantity;
    events_.emit(sequence, Trade{next_trade_id_++, book.id(), price, quantity, taker.side, maker.id, maker.account,
                                 maker.leaves - quantity, taker.id, taker.account, taker.leaves});
    book.record_trade(price, quantity);
    book.fill_resting(store_, maker_slot, quantity);
  }
}

void Matcher::dispose_remainder(OrderBook& book, uint32_t slot, Sequence sequence) {
  Order& order = store_.orders[slot];
  if (order.leaves == 0) {
    store_.close(slot);
  } else if (is_market(order.type)) {
    events_.emit(sequence, OrderCancelled{order.id, order.account, order.instrument, CancelReason::MarketNoLiquidity, order.leaves});
    store_.close(slot);
  } else if (order.tif == TimeInForce::IOC || order.tif == TimeInForce::FOK) {
    events_.emit(sequence, OrderCancelled{order.id, order.account, order.instrument, CancelReason::IocRemainder, order.leaves});
    store_.close(slot);
  } else {
    order.visible = order.fresh_visible();
    book.rest(store_, slot);
    store_.index_order(slot);
  }
}

void Matcher::trigger_stops(OrderBook& book, Sequence sequence) {
  const auto later_first = std::greater<Triggered>();
  for (;;) {
    const Price last = book.last_trade_price();
    if (last != 0 && !book.stops().empty())
      book.stops().take_reached(last, [&](OrderId id, uint32_t slot) {
        store_.orders[slot].state = OrderState::Incoming;
        triggered_.push_back({id, slot, last});
        std::push_heap(triggered_.begin(), triggered_.end(), later_first);
      });
    if (triggered_.empty()) return;
    std::pop_heap(triggered_.begin(), triggered_.end(), later_first);
    const Triggered next = triggered_.back();
    triggered_.pop_back();
    const Order& order = store_.orders[next.slot];
    events_.emit(sequence, StopTriggered{order.id, order.account, order.instrument, next.last_trade_price});
    match(book, next.slot, sequence);
    dispose_remainder(book, next.slot, sequence);
  }
}

void Matcher::cancel(OrderBook& book, uint32_t slot, CancelReason reason, Sequence sequence) {
  const Order& order = store_.orders[slot];
  events_.emit(sequence, OrderCancelled{order.id, order.account, order.instrument, reason, order.leaves});
  book.remove(store_, slot);
  store_.close(slot);
}

}  // namespace hft::engine
