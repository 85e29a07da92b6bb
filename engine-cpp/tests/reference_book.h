// A deliberately simple reference implementation of the engine's semantics (ENGINE.md): every
// order in one vector, every decision a linear scan. Slow and obviously right, it is the oracle
// of the differential test. It shares no code with the engine except the value types.
#pragma once

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "hft/engine/types.h"

namespace hft::engine::testing {

class ReferenceBook {
 public:
  struct Order {
    OrderId id;
    AccountId account;
    InstrumentId instrument;
    Side side;
    OrderType type;
    TimeInForce tif;
    SelfTradePrevention stp;
    bool post_only;
    Price price, stop_price;
    Quantity quantity, leaves, display, visible;
    uint64_t priority;
    bool pending_stop;
    OrderId stop_seq = 0;  // acceptance order of a pending stop
  };
  using LevelKey = std::tuple<InstrumentId, Side, Price>;
  using LevelTotals = std::map<LevelKey, std::pair<Quantity, uint32_t>>;

  std::vector<Event> apply(const Command& c) {
    out_.clear();
    const LevelTotals before = levels();
    switch (c.type) {
      case CommandType::NewOrder: new_order(c.new_order); break;
      case CommandType::CancelOrder: cancel(c.cancel); break;
      case CommandType::ReplaceOrder: replace(c.replace); break;
      case CommandType::MassCancel: mass_cancel(c.mass_cancel); break;
      case CommandType::DefineInstrument: define(c.define); break;
      case CommandType::EndTradingSession: end_session(c.end_session); break;
    }
    emit_level_diffs(before, levels());
    return out_;
  }

  LevelTotals levels() const {
    LevelTotals totals;
    for (const Order& o : orders_)
      if (!o.pending_stop) {
        auto& t = totals[{o.instrument, o.side, o.price}];
        t.first += o.visible;
        t.second += 1;
      }
    return totals;
  }

 private:
  struct Instrument {
    InstrumentDefinition def;
    Price last = 0;
  };

  Order* find(OrderId id) {
    for (Order& o : orders_)
      if (o.id == id) return &o;
    return nullptr;
  }
  void erase(OrderId id) {
    orders_.erase(std::remove_if(orders_.begin(), orders_.end(), [&](const Order& o) { return o.id == id; }), orders_.end());
  }
  Event& emit(EventType type) {
    Event& e = out_.emplace_back();
    e.type = type;
    return e;
  }
  void reject(OrderId id, AccountId account, InstrumentId instrument, ClientOrderId coid, RejectReason reason) {
    emit(EventType::OrderRejected).rejected = {id, account, instrument, coid, reason};
  }
  void cancelled(const Order& o, CancelReason reason) {
    emit(EventType::OrderCancelled).cancelled = {o.id, o.account, o.instrument, reason, o.leaves};
  }

  RejectReason validate(const NewOrder& c) const {
    auto it = instruments_.find(c.instrument);
    if (it == instruments_.end()) return RejectReason::UnknownInstrument;
    const InstrumentDefinition& d = it->second.def;
    bool stop = c.type == OrderType::Stop || c.type == OrderType::StopLimit;
    bool limit = c.type == OrderType::Limit || c.type == OrderType::StopLimit;
    if (c.type == OrderType::Market && (c.tif == TimeInForce::Gtc || c.tif == TimeInForce::Day)) return RejectReason::InvalidOrderTypeForTif;
    if (stop && (c.tif == TimeInForce::Ioc || c.tif == TimeInForce::Fok)) return RejectReason::InvalidOrderTypeForTif;
    if (c.post_only && (c.type != OrderType::Limit || c.tif == TimeInForce::Ioc || c.tif == TimeInForce::Fok)) return RejectReason::InvalidOrderTypeForTif;
    if (limit && c.price <= 0) return RejectReason::InvalidPrice;
    if (limit && (c.price < d.band_low || c.price > d.band_high)) return RejectReason::PriceOutOfBand;
    if (!limit && c.price != 0) return RejectReason::InvalidPrice;
    if (stop && (c.stop_price <= 0 || c.stop_price < d.band_low || c.stop_price > d.band_high)) return RejectReason::InvalidStopPrice;
    if (!stop && c.stop_price != 0) return RejectReason::InvalidStopPrice;
    if (c.quantity <= 0) return RejectReason::InvalidQuantity;
    if (c.quantity < d.min_quantity) return RejectReason::QuantityBelowMin;
    if (c.quantity > d.max_quantity) return RejectReason::QuantityAboveMax;
    if (c.display_quantity < 0 || c.display_quantity > c.quantity) return RejectReason::InvalidDisplayQuantity;
    if (c.display_quantity > 0 && !limit) return RejectReason::InvalidDisplayQuantity;
    return RejectReason::None;
  }

  static bool better_or_equal(Side side, Price a, Price b) { return side == Side::Buy ? a >= b : a <= b; }
  bool is_market(const Order& o) const { return o.type == OrderType::Market || o.type == OrderType::Stop; }
  bool acceptable(const Order& taker, Price maker_price) const { return is_market(taker) || better_or_equal(taker.side, taker.price, maker_price); }

  // The best maker for `taker`: best price, then lowest priority.
  Order* best_maker(const Order& taker) {
    Order* best = nullptr;
    for (Order& o : orders_) {
      if (o.pending_stop || o.instrument != taker.instrument || o.side == taker.side || o.id == taker.id) continue;
      if (best == nullptr || (o.price != best->price ? better_or_equal(o.side, o.price, best->price) : o.priority < best->priority)) best = &o;
    }
    return best;
  }

  Quantity fok_fillable(const Order& taker) {
    std::vector<const Order*> makers;
    for (const Order& o : orders_)
      if (!o.pending_stop && o.instrument == taker.instrument && o.side != taker.side && acceptable(taker, o.price)) makers.push_back(&o);
    std::sort(makers.begin(), makers.end(), [](const Order* a, const Order* b) {
      return a->price != b->price ? better_or_equal(a->side, a->price, b->price) : a->priority < b->priority;
    });
    Quantity total = 0;
    for (const Order* m : makers) {
      if (total >= taker.quantity) break;
      if (m->account == taker.account && taker.stp != SelfTradePrevention::None) {
        if (taker.stp == SelfTradePrevention::CancelResting) continue;
        return total;
      }
      total += m->leaves;
    }
    return total;
  }

  // Matches order `id` (already in orders_, not resting) and disposes of what is left.
  void execute(OrderId id) {
    Instrument& inst = instruments_.at(find(id)->instrument);
    for (;;) {
      Order* taker = find(id);
      if (taker->leaves == 0) break;
      Order* maker = best_maker(*taker);
      if (maker == nullptr || !acceptable(*taker, maker->price)) break;
      if (maker->account == taker->account && taker->stp != SelfTradePrevention::None) {
        SelfTradePrevention mode = taker->stp;
        if (mode != SelfTradePrevention::CancelIncoming) {
          cancelled(*maker, CancelReason::SelfTradePrevention);
          erase(maker->id);
          taker = find(id);
        }
        if (mode != SelfTradePrevention::CancelResting) {
          cancelled(*taker, CancelReason::SelfTradePrevention);
          taker->leaves = 0;
          break;
        }
        continue;
      }
      Quantity q = std::min(taker->leaves, maker->visible);
      taker->leaves -= q;
      maker->leaves -= q;
      maker->visible -= q;
      inst.last = maker->price;
      emit(EventType::Trade).trade = {next_trade_++, taker->instrument, maker->price, q, taker->side, maker->id, maker->account,
                                      maker->leaves, taker->id, taker->account, taker->leaves};
      if (maker->leaves == 0)
        erase(maker->id);
      else if (maker->visible == 0) {
        maker->visible = std::min(maker->display, maker->leaves);
        maker->priority = next_priority_++;
      }
    }
    Order* o = find(id);
    if (o->leaves == 0) {
      erase(id);
    } else if (is_market(*o)) {
      cancelled(*o, CancelReason::MarketNoLiquidity);
      erase(id);
    } else if (o->tif == TimeInForce::Ioc || o->tif == TimeInForce::Fok) {
      cancelled(*o, CancelReason::IocRemainder);
      erase(id);
    } else {
      o->visible = o->display > 0 ? std::min(o->display, o->leaves) : o->leaves;
      o->priority = next_priority_++;
    }
  }

  void trigger_stops(InstrumentId instrument) {
    for (;;) {
      Price last = instruments_.at(instrument).last;
      if (last == 0) return;
      Order* next = nullptr;
      for (Order& o : orders_)
        if (o.pending_stop && o.instrument == instrument && (o.side == Side::Buy ? last >= o.stop_price : last <= o.stop_price) &&
            (next == nullptr || o.stop_seq < next->stop_seq))
          next = &o;
      if (next == nullptr) return;
      next->pending_stop = false;
      emit(EventType::StopTriggered).triggered = {next->id, next->account, instrument, last};
      execute(next->id);
    }
  }

  void new_order(const NewOrder& c) {
    OrderId id = next_id_++;
    RejectReason reason = validate(c);
    if (reason != RejectReason::None) return reject(id, c.account, c.instrument, c.client_order_id, reason);
    Order o{id, c.account, c.instrument, c.side, c.type, c.tif, c.stp, c.post_only, c.price, c.stop_price, c.quantity, c.quantity,
            c.display_quantity, c.display_quantity > 0 ? c.display_quantity : c.quantity, 0, false};
    if (o.post_only) {
      Order* m = best_maker(o);
      if (m != nullptr && acceptable(o, m->price)) return reject(id, c.account, c.instrument, c.client_order_id, RejectReason::PostOnlyWouldTake);
    }
    if (o.tif == TimeInForce::Fok && fok_fillable(o) < o.quantity) return reject(id, c.account, c.instrument, c.client_order_id, RejectReason::FokCannotFill);
    bool stop = o.type == OrderType::Stop || o.type == OrderType::StopLimit;
    emit(EventType::OrderAccepted).accepted = {id, stop ? OrderStatus::PendingTrigger : OrderStatus::New, c};
    if (stop) {
      o.pending_stop = true;
      o.stop_seq = id;
      orders_.push_back(o);
    } else {
      orders_.push_back(o);
      execute(id);
    }
    trigger_stops(c.instrument);
  }

  void cancel(const CancelOrder& c) {
    Order* o = find(c.order_id);
    if (o == nullptr) return reject(c.order_id, c.account, 0, {}, RejectReason::UnknownOrder);
    if (o->account != c.account) return reject(c.order_id, c.account, o->instrument, {}, RejectReason::NotOrderOwner);
    cancelled(*o, CancelReason::UserRequested);
    erase(c.order_id);
  }

  void replace(const ReplaceOrder& c) {
    Order* o = find(c.order_id);
    if (o == nullptr) return reject(c.order_id, c.account, 0, {}, RejectReason::UnknownOrder);
    if (o->account != c.account) return reject(c.order_id, c.account, o->instrument, {}, RejectReason::NotOrderOwner);
    const InstrumentDefinition& d = instruments_.at(o->instrument).def;
    Price price = c.new_price == 0 ? o->price : c.new_price;
    Quantity qty = c.new_quantity == 0 ? o->quantity : c.new_quantity;
    Quantity filled = o->quantity - o->leaves;
    RejectReason r = RejectReason::None;
    if (o->pending_stop || (c.new_price == 0 && c.new_quantity == 0) || c.new_price < 0 || c.new_quantity < 0 || qty <= filled) r = RejectReason::InvalidReplace;
    else if (price < d.band_low || price > d.band_high) r = RejectReason::PriceOutOfBand;
    else if (qty < d.min_quantity) r = RejectReason::QuantityBelowMin;
    else if (qty > d.max_quantity) r = RejectReason::QuantityAboveMax;
    else if (o->post_only && price != o->price) {
      Order probe = *o;
      probe.price = price;
      Order* m = best_maker(probe);
      if (m != nullptr && acceptable(probe, m->price)) r = RejectReason::PostOnlyWouldTake;
    }
    if (r != RejectReason::None) return reject(c.order_id, c.account, o->instrument, {}, r);
    bool kept = price == o->price && qty <= o->quantity;
    if (kept) {
      o->visible = std::min(o->visible, qty - filled);
    } else {
      o->price = price;
      o->visible = o->display > 0 ? std::min(o->display, qty - filled) : qty - filled;
    }
    o->quantity = qty;
    o->leaves = qty - filled;
    emit(EventType::OrderReplaced).replaced = {o->id, o->account, o->instrument, o->price, o->quantity, o->leaves, kept};
    if (!kept) {
      InstrumentId instrument = o->instrument;
      execute(o->id);
      trigger_stops(instrument);
    }
  }

  std::vector<OrderId> live_ids() const {
    std::vector<OrderId> ids;
    for (const Order& o : orders_) ids.push_back(o.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  void mass_cancel(const MassCancel& c) {
    for (OrderId id : live_ids()) {
      Order* o = find(id);
      if ((c.has_account && o->account != c.account) || (c.has_instrument && o->instrument != c.instrument)) continue;
      cancelled(*o, CancelReason::MassCancel);
      erase(id);
    }
  }

  void end_session(const EndTradingSession& c) {
    uint32_t n = 0;
    for (OrderId id : live_ids()) {
      Order* o = find(id);
      if (o->tif != TimeInForce::Day || (c.has_instrument && o->instrument != c.instrument)) continue;
      emit(EventType::OrderExpired).expired = {o->id, o->account, o->instrument, o->leaves};
      erase(id);
      ++n;
    }
    emit(EventType::TradingSessionEnded).session_ended = {c.has_instrument, c.instrument, n};
  }

  void define(const InstrumentDefinition& d) {
    for (const auto& [id, inst] : instruments_)
      if ((id == d.id) != (inst.def.symbol == d.symbol)) return reject(0, 0, d.id, {}, RejectReason::InstrumentConflict);
    instruments_[d.id].def = d;
    emit(EventType::InstrumentDefined).defined = {d};
  }

  void emit_level_diffs(const LevelTotals& before, const LevelTotals& after) {
    std::vector<std::tuple<InstrumentId, int, Price, Side>> keys;  // sort key: instrument, side, best first
    auto add = [&](const LevelKey& k) {
      auto [inst, side, price] = k;
      keys.emplace_back(inst, side == Side::Buy ? 0 : 1, side == Side::Buy ? -price : price, side);
    };
    for (const auto& [k, v] : before)
      if (!after.count(k) || after.at(k) != v) add(k);
    for (const auto& [k, v] : after)
      if (!before.count(k)) add(k);
    std::sort(keys.begin(), keys.end());
    for (const auto& [inst, side_rank, sort_price, side] : keys) {
      Price price = side == Side::Buy ? -sort_price : sort_price;
      auto it = after.find({inst, side, price});
      Quantity q = it == after.end() ? 0 : it->second.first;
      uint32_t n = it == after.end() ? 0 : it->second.second;
      emit(EventType::BookLevelChanged).level = {inst, side, price, q, n};
    }
  }

  std::map<InstrumentId, Instrument> instruments_;
  std::vector<Order> orders_;
  std::vector<Event> out_;
  OrderId next_id_ = 1;
  TradeId next_trade_ = 1;
  uint64_t next_priority_ = 1;
};

}  // namespace hft::engine::testing
