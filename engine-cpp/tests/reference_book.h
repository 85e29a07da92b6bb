// A deliberately simple reference implementation of the engine's semantics (ENGINE.md): every
// open order in one vector, every decision a linear scan, fill-or-kill decided by running the
// match on a copy. Slow and plainly right, it is the oracle of the differential test; it shares
// nothing with the engine but the command and event types.
#pragma once

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "hft/engine/events.h"

namespace hft::engine::testing {

class ReferenceBook {
 public:
  struct Order {
    OrderId id = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    TimeInForce tif = TimeInForce::GTC;
    SelfTradePrevention stp = SelfTradePrevention::None;
    bool post_only = false;
    Price price = 0, stop_price = 0;
    Quantity quantity = 0, leaves = 0, display = 0, visible = 0;
    uint64_t priority = 0;  // smaller trades first within a price
    bool pending = false;   // a stop waiting for its trigger
    Price triggered_at = 0;  // once a trade reached its stop price: that price (it stays triggered)
  };
  using LevelKey = std::tuple<InstrumentId, Side, Price>;
  using LevelTotals = std::map<LevelKey, std::pair<Quantity, uint32_t>>;

  std::vector<Event> apply(const Command& c) {
    out_.clear();
    sequence_ = c.sequence;
    const LevelTotals before = levels();
    switch (c.type) {
      case CommandType::NewOrder: new_order(c.new_order); break;
      case CommandType::CancelOrder: cancel(c.cancel_order); break;
      case CommandType::ReplaceOrder: replace(c.replace_order); break;
      case CommandType::MassCancel: mass_cancel(c.mass_cancel); break;
      case CommandType::DefineInstrument: define(c.define_instrument); break;
      case CommandType::EndTradingSession: end_session(c.end_trading_session); break;
    }
    emit_level_diffs(before, levels());
    return out_;
  }

  LevelTotals levels() const {
    LevelTotals totals;
    for (const Order& o : orders_)
      if (!o.pending) {
        auto& t = totals[{o.instrument, o.side, o.price}];
        t.first += o.visible;
        t.second += 1;
      }
    return totals;
  }
  // Resting orders of one side in matching order: best price first, then priority.
  std::vector<Order> queue(InstrumentId instrument, Side side) const {
    std::vector<Order> result;
    for (const Order& o : orders_)
      if (!o.pending && o.instrument == instrument && o.side == side) result.push_back(o);
    std::sort(result.begin(), result.end(), [](const Order& a, const Order& b) { return better(a, b); });
    return result;
  }
  std::vector<OrderId> pending_stops(InstrumentId instrument) const {
    std::vector<OrderId> ids;
    for (const Order& o : orders_)
      if (o.pending && o.instrument == instrument) ids.push_back(o.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

 private:
  struct Instrument {
    DefineInstrument def;
    Price last = 0;
  };

  static bool better(const Order& a, const Order& b) {
    if (a.price != b.price) return a.side == Side::Buy ? a.price > b.price : a.price < b.price;
    return a.priority < b.priority;
  }
  static bool market_like(const Order& o) { return o.type == OrderType::Market || o.type == OrderType::Stop; }
  static bool acceptable(const Order& taker, Price maker_price) {
    return market_like(taker) || (taker.side == Side::Buy ? taker.price >= maker_price : taker.price <= maker_price);
  }
  static Order* find(std::vector<Order>& orders, OrderId id) {
    for (Order& o : orders)
      if (o.id == id) return &o;
    return nullptr;
  }
  static void erase(std::vector<Order>& orders, OrderId id) {
    orders.erase(std::remove_if(orders.begin(), orders.end(), [&](const Order& o) { return o.id == id; }), orders.end());
  }
  static Order* best_maker(std::vector<Order>& orders, const Order& taker) {
    Order* best = nullptr;
    for (Order& o : orders)
      if (!o.pending && o.instrument == taker.instrument && o.side != taker.side && (best == nullptr || better(o, *best))) best = &o;
    return best;
  }

  template <typename Body>
  void emit(const Body& body) {
    out_.emplace_back(sequence_, body);
  }

  // Matches `taker` (not in `book`) against `book`; returns the quantity it traded. A dry run
  // (the fill-or-kill test) changes only the copy it is given and reports nothing.
  Quantity match(std::vector<Order>& book, Order& taker, bool dry) {
    Quantity traded = 0;
    uint64_t dry_priority = next_priority_;
    while (taker.leaves > 0) {
      Order* maker = best_maker(book, taker);
      if (maker == nullptr || !acceptable(taker, maker->price)) break;
      if (maker->account == taker.account && taker.stp != SelfTradePrevention::None) {
        if (taker.stp != SelfTradePrevention::CancelIncoming) {
          if (!dry) emit(OrderCancelled{maker->id, maker->account, maker->instrument, CancelReason::SelfTradePrevention, maker->leaves});
          erase(book, maker->id);
        }
        if (taker.stp != SelfTradePrevention::CancelResting) {
          if (!dry) emit(OrderCancelled{taker.id, taker.account, taker.instrument, CancelReason::SelfTradePrevention, taker.leaves});
          taker.leaves = 0;
        }
        continue;
      }
      const Quantity q = std::min(taker.leaves, maker->visible);
      taker.leaves -= q;
      maker->leaves -= q;
      maker->visible -= q;
      traded += q;
      if (!dry) {
        instruments_.at(taker.instrument).last = maker->price;
        emit(Trade{next_trade_++, taker.instrument, maker->price, q, taker.side, maker->id, maker->account, maker->leaves, taker.id,
                   taker.account, taker.leaves});
      }
      if (maker->leaves == 0) {
        erase(book, maker->id);
      } else if (maker->visible == 0) {
        maker->visible = std::min(maker->display, maker->leaves);
        maker->priority = dry ? dry_priority++ : next_priority_++;
      }
    }
    return traded;
  }

  // What happens to an incoming order after matching: it rests, is cancelled, or is done.
  void dispose(Order taker) {
    if (taker.leaves == 0) return;
    if (market_like(taker)) return emit(OrderCancelled{taker.id, taker.account, taker.instrument, CancelReason::MarketNoLiquidity, taker.leaves});
    if (taker.tif == TimeInForce::IOC || taker.tif == TimeInForce::FOK)
      return emit(OrderCancelled{taker.id, taker.account, taker.instrument, CancelReason::IocRemainder, taker.leaves});
    taker.visible = taker.display > 0 ? std::min(taker.display, taker.leaves) : taker.leaves;
    taker.priority = next_priority_++;
    orders_.push_back(taker);
  }

  void run(Order taker) {
    match(orders_, taker, false);
    dispose(taker);
    trigger_stops(taker.instrument);
  }

  void trigger_stops(InstrumentId instrument) {
    for (;;) {
      const Price last = instruments_.at(instrument).last;
      const Order* next = nullptr;
      for (Order& o : orders_) {
        if (!o.pending || o.instrument != instrument) continue;
        if (o.triggered_at == 0 && last != 0 && (o.side == Side::Buy ? last >= o.stop_price : last <= o.stop_price)) o.triggered_at = last;
        if (o.triggered_at != 0 && (next == nullptr || o.id < next->id)) next = &o;
      }
      if (next == nullptr) return;
      Order taker = *next;
      erase(orders_, taker.id);
      taker.pending = false;
      emit(StopTriggered{taker.id, taker.account, instrument, taker.triggered_at});
      match(orders_, taker, false);
      dispose(taker);
    }
  }

  RejectReason validate(const NewOrder& c) const {
    auto it = instruments_.find(c.instrument);
    if (it == instruments_.end()) return RejectReason::UnknownInstrument;
    const int side = static_cast<int>(c.side), type = static_cast<int>(c.type), tif = static_cast<int>(c.tif), stp = static_cast<int>(c.stp);
    if (side < 1 || side > 2 || type < 1 || type > 4 || tif < 1 || tif > 4 || stp > 3) return RejectReason::MalformedCommand;
    const DefineInstrument& d = it->second.def;
    const bool stop = c.type == OrderType::Stop || c.type == OrderType::StopLimit;
    const bool limit = c.type == OrderType::Limit || c.type == OrderType::StopLimit;
    const bool may_rest = c.tif == TimeInForce::GTC || c.tif == TimeInForce::DAY;
    if (c.type == OrderType::Market && may_rest) return RejectReason::InvalidOrderTypeForTif;
    if (stop && !may_rest) return RejectReason::InvalidOrderTypeForTif;
    if (c.post_only && (c.type != OrderType::Limit || !may_rest)) return RejectReason::InvalidOrderTypeForTif;
    if (limit && c.price <= 0) return RejectReason::InvalidPrice;
    if (limit && (c.price < d.band_low || c.price > d.band_high)) return RejectReason::PriceOutOfBand;
    if (!limit && c.price != 0) return RejectReason::InvalidPrice;
    if (stop && (c.stop_price < d.band_low || c.stop_price > d.band_high)) return RejectReason::InvalidStopPrice;
    if (!stop && c.stop_price != 0) return RejectReason::InvalidStopPrice;
    if (c.quantity <= 0) return RejectReason::InvalidQuantity;
    if (c.quantity < d.min_quantity) return RejectReason::QuantityBelowMin;
    if (c.quantity > d.max_quantity) return RejectReason::QuantityAboveMax;
    if (c.display_quantity < 0 || c.display_quantity > c.quantity || (c.display_quantity > 0 && !limit)) return RejectReason::InvalidDisplayQuantity;
    return RejectReason::None;
  }

  void new_order(const NewOrder& c) {
    const OrderId id = next_id_++;
    RejectReason reason = validate(c);
    Order o{id, c.account, c.instrument, c.side, c.type, c.tif, c.stp, c.post_only, c.price, c.stop_price, c.quantity, c.quantity,
            c.display_quantity, 0, 0, false};
    if (reason == RejectReason::None && o.post_only) {
      Order* m = best_maker(orders_, o);
      if (m != nullptr && acceptable(o, m->price)) reason = RejectReason::PostOnlyWouldTake;
    }
    if (reason == RejectReason::None && o.tif == TimeInForce::FOK) {
      std::vector<Order> copy = orders_;
      Order probe = o;
      if (match(copy, probe, true) < o.quantity) reason = RejectReason::FokCannotFill;
    }
    if (reason != RejectReason::None) return emit(OrderRejected{id, c.account, c.instrument, c.client_order_id, reason});
    const bool stop = c.type == OrderType::Stop || c.type == OrderType::StopLimit;
    emit(OrderAccepted{id, c, stop});
    if (stop) {
      o.pending = true;
      orders_.push_back(o);
      return trigger_stops(c.instrument);
    }
    run(o);
  }

  // The open order the command names, if the account owns it; otherwise rejects.
  Order* owned(OrderId id, AccountId account) {
    Order* o = find(orders_, id);
    if (o == nullptr) emit(OrderRejected{id, account, 0, {}, RejectReason::UnknownOrder});
    else if (o->account != account) emit(OrderRejected{id, account, o->instrument, {}, RejectReason::NotOrderOwner});
    return o != nullptr && o->account == account ? o : nullptr;
  }

  void cancel(const CancelOrder& c) {
    Order* o = owned(c.order_id, c.account);
    if (o == nullptr) return;
    emit(OrderCancelled{o->id, o->account, o->instrument, CancelReason::UserRequested, o->leaves});
    erase(orders_, c.order_id);
  }

  void replace(const ReplaceOrder& c) {
    Order* o = owned(c.order_id, c.account);
    if (o == nullptr) return;
    const DefineInstrument& d = instruments_.at(o->instrument).def;
    const Price price = c.new_price == 0 ? o->price : c.new_price;
    const Quantity qty = c.new_quantity == 0 ? o->quantity : c.new_quantity;
    const Quantity filled = o->quantity - o->leaves;
    RejectReason r = RejectReason::None;
    if (o->pending || (c.new_price == 0 && c.new_quantity == 0) || c.new_price < 0 || c.new_quantity < 0 || qty <= filled)
      r = RejectReason::InvalidReplace;
    else if (price != o->price && (price < d.band_low || price > d.band_high))
      r = RejectReason::PriceOutOfBand;
    else if (qty != o->quantity && qty < d.min_quantity)
      r = RejectReason::QuantityBelowMin;
    else if (qty != o->quantity && qty > d.max_quantity)
      r = RejectReason::QuantityAboveMax;
    else if (o->post_only && price != o->price) {
      Order probe = *o;
      probe.price = price;
      Order* m = best_maker(orders_, probe);
      if (m != nullptr && acceptable(probe, m->price)) r = RejectReason::PostOnlyWouldTake;
    }
    if (r != RejectReason::None) return emit(OrderRejected{c.order_id, c.account, o->instrument, {}, r});
    const bool kept = price == o->price && qty <= o->quantity;
    if (kept) {
      o->visible = std::min(o->visible, qty - filled);
      o->quantity = qty;
      o->leaves = qty - filled;
      return emit(OrderReplaced{o->id, o->account, o->instrument, o->price, o->quantity, o->leaves, true});
    }
    Order moved = *o;
    erase(orders_, moved.id);
    moved.price = price;
    moved.quantity = qty;
    moved.leaves = qty - filled;
    emit(OrderReplaced{moved.id, moved.account, moved.instrument, moved.price, moved.quantity, moved.leaves, false});
    run(moved);
  }

  std::vector<OrderId> open_ids() const {
    std::vector<OrderId> ids;
    for (const Order& o : orders_) ids.push_back(o.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  void mass_cancel(const MassCancel& c) {
    if (c.instrument && !instruments_.count(*c.instrument))
      return emit(OrderRejected{0, c.account.value_or(0), *c.instrument, {}, RejectReason::UnknownInstrument});
    for (OrderId id : open_ids()) {
      const Order o = *find(orders_, id);
      if ((c.account && o.account != *c.account) || (c.instrument && o.instrument != *c.instrument)) continue;
      emit(OrderCancelled{o.id, o.account, o.instrument, CancelReason::MassCancel, o.leaves});
      erase(orders_, id);
    }
  }

  void end_session(const EndTradingSession& c) {
    if (c.instrument && !instruments_.count(*c.instrument)) return emit(OrderRejected{0, 0, *c.instrument, {}, RejectReason::UnknownInstrument});
    uint32_t expired = 0;
    for (OrderId id : open_ids()) {
      const Order o = *find(orders_, id);
      if (o.tif != TimeInForce::DAY || (c.instrument && o.instrument != *c.instrument)) continue;
      emit(OrderExpired{o.id, o.account, o.instrument, o.leaves});
      erase(orders_, id);
      ++expired;
    }
    emit(TradingSessionEnded{c.instrument, expired});
  }

  void define(const DefineInstrument& d) {
    if (d.id == 0 || d.symbol.length == 0 || d.min_quantity <= 0 || d.max_quantity < d.min_quantity || d.band_low <= 0 || d.band_high < d.band_low)
      return emit(OrderRejected{0, 0, d.id, {}, RejectReason::MalformedCommand});
    for (const auto& [id, instrument] : instruments_)
      if ((id == d.id) != (instrument.def.symbol == d.symbol)) return emit(OrderRejected{0, 0, d.id, {}, RejectReason::InstrumentConflict});
    instruments_[d.id].def = d;
    emit(InstrumentDefined{d});
  }

  void emit_level_diffs(const LevelTotals& before, const LevelTotals& after) {
    std::vector<LevelKey> changed;
    for (const auto& [key, totals] : before)
      if (!after.count(key) || after.at(key) != totals) changed.push_back(key);
    for (const auto& [key, totals] : after)
      if (!before.count(key)) changed.push_back(key);
    std::sort(changed.begin(), changed.end(), [](const LevelKey& a, const LevelKey& b) {
      const auto& [ia, sa, pa] = a;
      const auto& [ib, sb, pb] = b;
      if (ia != ib) return ia < ib;
      if (sa != sb) return sa == Side::Buy;
      return sa == Side::Buy ? pa > pb : pa < pb;
    });
    for (const LevelKey& key : changed) {
      auto it = after.find(key);
      const auto& [instrument, side, price] = key;
      emit(BookLevelChanged{instrument, side, price, it == after.end() ? 0 : it->second.first, it == after.end() ? 0u : it->second.second});
    }
  }

  std::map<InstrumentId, Instrument> instruments_;
  std::vector<Order> orders_;
  std::vector<Event> out_;
  Sequence sequence_ = 0;
  OrderId next_id_ = 1;
  TradeId next_trade_ = 1;
  uint64_t next_priority_ = 1;
};

}  // namespace hft::engine::testing
