// Price-time matching of one incoming order against its book, and the stop cascade its trades
// may start. Trades happen at the resting order's price: best level first, oldest order first
// within a level. Self-trade prevention follows the incoming order's mode. Everything that
// happens is appended to the event buffer; the matcher never calls out.
#pragma once

#include <vector>

#include "hft/engine/events.h"
#include "hft/engine/order_book.h"

namespace hft::engine {

class Matcher {
 public:
  Matcher(OrderStore& store, EventBuffer& events) : store_(store), events_(events) {}
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // True when the order would trade at once if it arrived now (the post-only test).
  bool would_take(const OrderBook& book, const Order& order) const;
  // How much of the order the book could fill now, counted the way matching would go: with
  // self-trade prevention on, the account's own orders are not counted, and under
  // CancelIncoming or CancelBoth the count ends where matching would meet the first of them.
  Quantity fillable(const OrderBook& book, const Order& order) const;

  // Matches an incoming order; then rests what is left (limit GTC/DAY), or cancels it (IOC,
  // FOK, market), or closes a filled order; then runs the stop cascade.
  void execute(OrderBook& book, uint32_t slot, Sequence sequence);
  // Runs the stop cascade of a book: every pending stop the last trade price has reached is
  // triggered (and stays triggered, even if later trades move the price back); the triggered
  // stops execute one at a time, the earliest accepted first (order ids rank acceptance), each as
  // a market (stop) or limit (stop-limit) order; after each, stops its trades reach join them.
  // A loop over a heap, not recursion: any cascade depth runs in constant stack and
  // O(k log k) for k stops.
  void trigger_stops(OrderBook& book, Sequence sequence);
  // Reports an open order cancelled, takes it off its book and closes it.
  void cancel(OrderBook& book, uint32_t slot, CancelReason reason, Sequence sequence);

  TradeId next_trade_id() const { return next_trade_id_; }
  void restore_next_trade_id(TradeId id) { next_trade_id_ = id; }

 private:
  bool crosses(const Order& taker, Price maker_price) const {
    return is_market(taker.type) || at_least_as_good(taker.side, taker.price, maker_price);
  }
  void match(OrderBook& book, uint32_t slot, Sequence sequence);
  void dispose_remainder(OrderBook& book, uint32_t slot, Sequence sequence);

  struct Triggered {
    OrderId id;
    uint32_t slot;
    Price last_trade_price;  // the price that reached it
    bool operator>(const Triggered& other) const { return id > other.id; }
  };

  OrderStore& store_;
  EventBuffer& events_;
  TradeId next_trade_id_ = 1;
  std::vector<Triggered> triggered_;  // a min-heap by id; empty between commands
};

}  // namespace hft::engine
