#include "hft/engine/matching_engine.h"

#include <algorithm>
#include <cstdlib>

namespace hft::engine {

MatchingEngine::MatchingEngine(EngineOptions options)
    : options_(std::move(options)),
      shard_(options_.shard_symbols.begin(), options_.shard_symbols.end()),
      pool_(options_.expected_orders),
      index_(options_.expected_orders * 2),
      next_order_id_(options_.first_order_id) {
  touched_.reserve(64);
}

bool MatchingEngine::owns(std::string_view symbol) const { return shard_.empty() || shard_.count(std::string(symbol)) > 0; }

const OrderBook* MatchingEngine::book(InstrumentId id) const {
  auto it = books_.find(id);
  return it == books_.end() ? nullptr : &it->second;
}

const LiveOrder* MatchingEngine::order(OrderId id) const {
  uint32_t slot = index_.find(id);
  return slot == OrderIndex::kMissing ? nullptr : &pool_[slot];
}

void MatchingEngine::apply(const Command& command, EventBuffer& out) {
  // 1. sequence: commands arrive in order, with no gap (a broken invariant, not an outcome)
  if (command.sequence != last_sequence_ + 1) std::abort();
  last_sequence_ = command.sequence;
  // 2. match: each command appends its events; level changes close the command
  switch (command.type) {
    case CommandType::NewOrder: new_order(command.new_order, out); break;
    case CommandType::CancelOrder: cancel_order(command.cancel, out); break;
    case CommandType::ReplaceOrder: replace_order(command.replace, out); break;
    case CommandType::MassCancel: mass_cancel(command.mass_cancel, out); break;
    case CommandType::DefineInstrument: define_instrument(command.define, out); break;
    case CommandType::EndTradingSession: end_trading_session(command.end_session, out); break;
    default: emit_reject(0, 0, 0, nullptr, RejectReason::MalformedCommand, out); break;
  }
  emit_level_changes(out);
}

// ------------------------------------------------------------------------------- new orders
RejectReason MatchingEngine::validate_new(const NewOrder& cmd, const OrderBook* book) const {
  if (book == nullptr) return RejectReason::UnknownInstrument;
  const InstrumentDefinition& def = book->definition;
  const bool is_stop = cmd.type == OrderType::Stop || cmd.type == OrderType::StopLimit;
  const bool has_limit = cmd.type == OrderType::Limit || cmd.type == OrderType::StopLimit;
  switch (cmd.type) {
    case OrderType::Limit: case OrderType::Market: case OrderType::Stop: case OrderType::StopLimit: break;
    default: return RejectReason::MalformedCommand;
  }
  if (cmd.side != Side::Buy && cmd.side != Side::Sell) return RejectReason::MalformedCommand;
  if (cmd.tif < TimeInForce::Gtc || cmd.tif > TimeInForce::Day) return RejectReason::MalformedCommand;
  if (static_cast<uint8_t>(cmd.stp) > 3) return RejectReason::MalformedCommand;
  // Market orders never rest; stop orders wait, so they must be allowed to; post-only only makes
  // sense for a resting limit order.
  if (cmd.type == OrderType::Market && (cmd.tif == TimeInForce::Gtc || cmd.tif == TimeInForce::Day)) return RejectReason::InvalidOrderTypeForTif;
  if (is_stop && (cmd.tif == TimeInForce::Ioc || cmd.tif == TimeInForce::Fok)) return RejectReason::InvalidOrderTypeForTif;
  if (cmd.post_only && (cmd.type != OrderType::Limit || cmd.tif == TimeInForce::Ioc || cmd.tif == TimeInForce::Fok)) return RejectReason::InvalidOrderTypeForTif;
  if (has_limit) {
    if (cmd.price <= 0) return RejectReason::InvalidPrice;
    if (cmd.price < def.band_low || cmd.price > def.band_high) return RejectReason::PriceOutOfBand;
  } else if (cmd.price != 0) {
    return RejectReason::InvalidPrice;
  }
  if (is_stop) {
    if (cmd.stop_price <= 0 || cmd.stop_price < def.band_low || cmd.stop_price > def.band_high) return RejectReason::InvalidStopPrice;
  } else if (cmd.stop_price != 0) {
    return RejectReason::InvalidStopPrice;
  }
  if (cmd.quantity <= 0) return RejectReason::InvalidQuantity;
  if (cmd.quantity < def.min_quantity) return RejectReason::QuantityBelowMin;
  if (cmd.quantity > def.max_quantity) return RejectReason::QuantityAboveMax;
  if (cmd.display_quantity < 0 || cmd.display_quantity > cmd.quantity) return RejectReason::InvalidDisplayQuantity;
  if (cmd.display_quantity > 0 && cmd.type != OrderType::Limit && cmd.type != OrderType::StopLimit) return RejectReason::InvalidDisplayQuantity;
  return RejectReason::None;
}

void MatchingEngine::new_order(const NewOrder& cmd, EventBuffer& out) {
  const OrderId id = next_order_id_++;
  auto it = books_.find(cmd.instrument);
  OrderBook* book = it == books_.end() ? nullptr : &it->second;
  RejectReason reason = validate_new(cmd, book);
  if (reason != RejectReason::None) {
    emit_reject(id, cmd.account, cmd.instrument, &cmd.client_order_id, reason, out);
    return;
  }
  const uint32_t slot = pool_.acquire();
  LiveOrder& o = pool_[slot];
  o.id = id;
  o.account = cmd.account;
  o.instrument = cmd.instrument;
  o.price = cmd.price;
  o.stop_price = cmd.stop_price;
  o.quantity = o.leaves = cmd.quantity;
  o.display = cmd.display_quantity;
  o.visible = cmd.display_quantity > 0 ? cmd.display_quantity : cmd.quantity;
  o.side = cmd.side;
  o.type = cmd.type;
  o.tif = cmd.tif;
  o.stp = cmd.stp;
  o.post_only = cmd.post_only;

  if (o.post_only && crosses(*book, o)) {
    pool_.release(slot);
    emit_reject(id, cmd.account, cmd.instrument, &cmd.client_order_id, RejectReason::PostOnlyWouldTake, out);
    return;
  }
  if (o.tif == TimeInForce::Fok && fillable_for_fok(*book, o) < o.quantity) {
    pool_.release(slot);
    emit_reject(id, cmd.account, cmd.instrument, &cmd.client_order_id, RejectReason::FokCannotFill, out);
    return;
  }

  const bool is_stop = o.type == OrderType::Stop || o.type == OrderType::StopLimit;
  Event& accepted = out.emplace_back();
  accepted.type = EventType::OrderAccepted;
  accepted.accepted = OrderAcceptedEvent{id, is_stop ? OrderStatus::PendingTrigger : OrderStatus::New, cmd};
  index_.insert(id, slot);

  if (is_stop) {
    o.pending_stop = true;
    ++pending_stops_;
    book->stops.push_back(slot);
    // A stop whose price the last trade already reached triggers at once.
    trigger_stops(*book, out);
    return;
  }
  execute(*book, slot, out);
  trigger_stops(*book, out);
}

bool MatchingEngine::crosses(const OrderBook& book, const LiveOrder& incoming) const {
  const BookSide& opposite_side = book.side(opposite(incoming.side));
  if (opposite_side.empty()) return false;
  if (incoming.type == OrderType::Market || incoming.type == OrderType::Stop) return true;
  return book.side(incoming.side).at_least_as_good(incoming.price, opposite_side.best().price);
}

// Quantity a fill-or-kill order could trade now. Same-account liquidity never counts when
// self-trade prevention is on; with CANCEL_INCOMING or CANCEL_BOTH, meeting it ends the count,
// because matching would stop there.
Quantity MatchingEngine::fillable_for_fok(const OrderBook& book, const LiveOrder& incoming) const {
  const BookSide& opposite_side = book.side(opposite(incoming.side));
  const bool market = incoming.type == OrderType::Market;
  Quantity total = 0;
  for (size_t i = 0; i < opposite_side.depth() && total < incoming.quantity; ++i) {
    const PriceLevel& level = opposite_side.level_from_best(i);
    if (!market && !book.side(incoming.side).at_least_as_good(incoming.price, level.price)) break;
    for (uint32_t s = level.head; s != kNoSlot; s = pool_[s].next) {
      const LiveOrder& resting = pool_[s];
      if (resting.account == incoming.account && incoming.stp != SelfTradePrevention::None) {
        if (incoming.stp == SelfTradePrevention::CancelResting) continue;
        return total;
      }
      total += resting.leaves;
    }
  }
  return total;
}

void MatchingEngine::execute(OrderBook& book, uint32_t slot, EventBuffer& out) {
  match(book, slot, out);
  LiveOrder& o = pool_[slot];
  if (o.leaves == 0) {
    forget(slot);
  } else if (o.type == OrderType::Market || o.type == OrderType::Stop) {
    emit_cancel(o, CancelReason::MarketNoLiquidity, out);
    forget(slot);
  } else if (o.tif == TimeInForce::Ioc || o.tif == TimeInForce::Fok) {
    emit_cancel(o, CancelReason::IocRemainder, out);
    forget(slot);
  } else {
    o.visible = o.display > 0 ? std::min(o.display, o.leaves) : o.leaves;
    rest(book, slot);
  }
}

void MatchingEngine::match(OrderBook& book, uint32_t slot, EventBuffer& out) {
  BookSide& makers = book.side(opposite(pool_[slot].side));
  while (pool_[slot].leaves > 0 && !makers.empty() && crosses(book, pool_[slot])) {
    PriceLevel& level = makers.best();
    const uint32_t maker_slot = level.head;
    LiveOrder& taker = pool_[slot];
    LiveOrder& maker = pool_[maker_slot];
    touch(book.definition.id, makers.side(), level.price);

    if (maker.account == taker.account && taker.stp != SelfTradePrevention::None) {
      const SelfTradePrevention mode = taker.stp;
      if (mode == SelfTradePrevention::CancelResting || mode == SelfTradePrevention::CancelBoth) {
        emit_cancel(maker, CancelReason::SelfTradePrevention, out);
        unrest(book, maker_slot);
        forget(maker_slot);
      }
      if (mode == SelfTradePrevention::CancelIncoming || mode == SelfTradePrevention::CancelBoth) {
        emit_cancel(pool_[slot], CancelReason::SelfTradePrevention, out);
        pool_[slot].leaves = 0;  // nothing left to rest or cancel
        return;
      }
      continue;
    }

    const Quantity quantity = std::min(taker.leaves, maker.visible);
    const Price price = level.price;
    taker.leaves -= quantity;
    maker.leaves -= quantity;
    maker.visible -= quantity;
    level.visible -= quantity;
    book.last_trade_price = price;
    book.trades += 1;
    book.volume += quantity;

    Event& e = out.emplace_back();
    e.type = EventType::Trade;
    e.trade = TradeEvent{next_trade_id_++, book.definition.id, price, quantity, taker.side,
                         maker.id, maker.account, maker.leaves, taker.id, taker.account, taker.leaves};

    if (maker.leaves == 0) {
      unrest(book, maker_slot);
      forget(maker_slot);
    } else if (maker.visible == 0) {
      // Iceberg: the next slice is shown with new time priority, at the back of the level.
      unrest(book, maker_slot);
      maker.visible = std::min(maker.display, maker.leaves);
      rest(book, maker_slot);
    }
  }
}

// Triggers pending stops whose price the last trade reached, in acceptance order, until none is
// left to trigger: a triggered stop may trade and move the last price, triggering others.
void MatchingEngine::trigger_stops(OrderBook& book, EventBuffer& out) {
  for (;;) {
    if (book.last_trade_price == 0) return;
    auto it = std::find_if(book.stops.begin(), book.stops.end(), [&](uint32_t s) {
      const LiveOrder& o = pool_[s];
      return o.side == Side::Buy ? book.last_trade_price >= o.stop_price : book.last_trade_price <= o.stop_price;
    });
    if (it == book.stops.end()) return;
    const uint32_t slot = *it;
    book.stops.erase(it);
    --pending_stops_;
    LiveOrder& o = pool_[slot];
    o.pending_stop = false;
    Event& e = out.emplace_back();
    e.type = EventType::StopTriggered;
    e.triggered = StopTriggeredEvent{o.id, o.account, o.instrument, book.last_trade_price};
    execute(book, slot, out);
  }
}

// -------------------------------------------------------------------------- cancel, replace
// The slot of the live order `order_id` when `account` owns it; otherwise rejects and returns kNoSlot.
uint32_t MatchingEngine::owned_order(OrderId order_id, AccountId account, EventBuffer& out) {
  const uint32_t slot = index_.find(order_id);
  if (slot == OrderIndex::kMissing) {
    emit_reject(order_id, account, 0, nullptr, RejectReason::UnknownOrder, out);
    return kNoSlot;
  }
  if (pool_[slot].account != account) {
    emit_reject(order_id, account, pool_[slot].instrument, nullptr, RejectReason::NotOrderOwner, out);
    return kNoSlot;
  }
  return slot;
}

void MatchingEngine::cancel_order(const CancelOrder& cmd, EventBuffer& out) {
  const uint32_t slot = owned_order(cmd.order_id, cmd.account, out);
  if (slot == kNoSlot) return;
  LiveOrder& o = pool_[slot];
  OrderBook& book = books_.at(o.instrument);
  emit_cancel(o, CancelReason::UserRequested, out);
  unrest(book, slot);
  forget(slot);
}

void MatchingEngine::replace_order(const ReplaceOrder& cmd, EventBuffer& out) {
  const uint32_t slot = owned_order(cmd.order_id, cmd.account, out);
  if (slot == kNoSlot) return;
  LiveOrder& o = pool_[slot];
  OrderBook& book = books_.at(o.instrument);
  const InstrumentDefinition& def = book.definition;
  const Price price = cmd.new_price == 0 ? o.price : cmd.new_price;
  const Quantity quantity = cmd.new_quantity == 0 ? o.quantity : cmd.new_quantity;
  const Quantity filled = o.quantity - o.leaves;

  RejectReason reason = RejectReason::None;
  if (o.pending_stop || (cmd.new_price == 0 && cmd.new_quantity == 0) || cmd.new_price < 0 || cmd.new_quantity < 0 || quantity <= filled)
    reason = RejectReason::InvalidReplace;
  else if (price < def.band_low || price > def.band_high) reason = RejectReason::PriceOutOfBand;
  else if (quantity < def.min_quantity) reason = RejectReason::QuantityBelowMin;
  else if (quantity > def.max_quantity) reason = RejectReason::QuantityAboveMax;
  else if (o.post_only && price != o.price) {
    LiveOrder probe = o;
    probe.price = price;
    if (crosses(book, probe)) reason = RejectReason::PostOnlyWouldTake;
  }
  if (reason != RejectReason::None) return emit_reject(cmd.order_id, cmd.account, o.instrument, nullptr, reason, out);

  const bool keeps_priority = price == o.price && quantity <= o.quantity;
  if (keeps_priority) {
    touch(o.instrument, o.side, o.price);
    PriceLevel* level = book.side(o.side).find(o.price);
    const Quantity visible = std::min(o.visible, quantity - filled);
    level->visible -= o.visible - visible;
    o.visible = visible;
    o.quantity = quantity;
    o.leaves = quantity - filled;
  } else {
    unrest(book, slot);
    o.price = price;
    o.quantity = quantity;
    o.leaves = quantity - filled;
    o.visible = o.display > 0 ? std::min(o.display, o.leaves) : o.leaves;
  }
  Event& e = out.emplace_back();
  e.type = EventType::OrderReplaced;
  e.replaced = OrderReplacedEvent{o.id, o.account, o.instrument, o.price, o.quantity, o.leaves, keeps_priority};
  if (!keeps_priority) {
    execute(book, slot, out);
    trigger_stops(book, out);
  }
}

// ------------------------------------------------------------------ mass cancel and sessions
std::vector<uint32_t> MatchingEngine::live_slots_sorted() const {
  std::vector<std::pair<OrderId, uint32_t>> live;
  for (const auto& [id, book] : books_) {
    for (const BookSide* side : {&book.bids, &book.asks})
      for (size_t i = 0; i < side->depth(); ++i)
        for (uint32_t s = side->level_from_best(i).head; s != kNoSlot; s = pool_[s].next) live.emplace_back(pool_[s].id, s);
    for (uint32_t s : book.stops) live.emplace_back(pool_[s].id, s);
  }
  std::sort(live.begin(), live.end());
  std::vector<uint32_t> slots;
  slots.reserve(live.size());
  for (const auto& entry : live) slots.push_back(entry.second);
  return slots;
}

void MatchingEngine::mass_cancel(const MassCancel& cmd, EventBuffer& out) {
  for (uint32_t slot : live_slots_sorted()) {
    const LiveOrder& o = pool_[slot];
    if (cmd.has_account && o.account != cmd.account) continue;
    if (cmd.has_instrument && o.instrument != cmd.instrument) continue;
    emit_cancel(o, CancelReason::MassCancel, out);
    unrest(books_.at(o.instrument), slot);
    forget(slot);
  }
}

void MatchingEngine::end_trading_session(const EndTradingSession& cmd, EventBuffer& out) {
  uint32_t expired = 0;
  for (uint32_t slot : live_slots_sorted()) {
    const LiveOrder& o = pool_[slot];
    if (o.tif != TimeInForce::Day || (cmd.has_instrument && o.instrument != cmd.instrument)) continue;
    Event& e = out.emplace_back();
    e.type = EventType::OrderExpired;
    e.expired = OrderExpiredEvent{o.id, o.account, o.instrument, o.leaves};
    unrest(books_.at(o.instrument), slot);
    forget(slot);
    ++expired;
  }
  Event& e = out.emplace_back();
  e.type = EventType::TradingSessionEnded;
  e.session_ended = TradingSessionEndedEvent{cmd.has_instrument, cmd.instrument, expired};
}

void MatchingEngine::define_instrument(const InstrumentDefinition& def, EventBuffer& out) {
  RejectReason reason = RejectReason::None;
  if (def.id == 0 || def.symbol.length == 0 || def.min_quantity <= 0 || def.max_quantity < def.min_quantity || def.band_low <= 0 ||
      def.band_high < def.band_low)
    reason = RejectReason::MalformedCommand;
  else if (!owns(def.symbol.view()))
    reason = RejectReason::InstrumentNotInShard;
  else
    for (const auto& [id, book] : books_)
      if ((id == def.id) != (book.definition.symbol == def.symbol)) reason = RejectReason::InstrumentConflict;
  if (reason != RejectReason::None) return emit_reject(0, 0, def.id, nullptr, reason, out);

  auto it = books_.find(def.id);
  if (it == books_.end())
    books_.emplace(def.id, OrderBook(def));
  else
    it->second.definition = def;  // new limits apply to new orders; resting orders stay
  Event& e = out.emplace_back();
  e.type = EventType::InstrumentDefined;
  e.defined = InstrumentDefinedEvent{def};
}

// ------------------------------------------------------------------------------- plumbing
void MatchingEngine::rest(OrderBook& book, uint32_t slot) {
  LiveOrder& o = pool_[slot];
  touch(o.instrument, o.side, o.price);
  o.priority = next_priority_++;
  book.side(o.side).append(pool_, slot);
  book.resting_orders += 1;
}

// Takes a live order off its level or the stop list (it stays in the pool and index).
void MatchingEngine::unrest(OrderBook& book, uint32_t slot) {
  LiveOrder& o = pool_[slot];
  if (o.pending_stop) {
    book.stops.erase(std::find(book.stops.begin(), book.stops.end(), slot));
    o.pending_stop = false;
    --pending_stops_;
    return;
  }
  touch(o.instrument, o.side, o.price);
  book.side(o.side).remove(pool_, slot);
  book.resting_orders -= 1;
}

void MatchingEngine::forget(uint32_t slot) {
  index_.erase(pool_[slot].id);
  pool_.release(slot);
}

void MatchingEngine::emit_cancel(const LiveOrder& o, CancelReason reason, EventBuffer& out) {
  Event& e = out.emplace_back();
  e.type = EventType::OrderCancelled;
  e.cancelled = OrderCancelledEvent{o.id, o.account, o.instrument, reason, o.leaves};
}

void MatchingEngine::emit_reject(OrderId order_id, AccountId account, InstrumentId instrument, const ClientOrderId* client_order_id,
                                 RejectReason reason, EventBuffer& out) {
  Event& e = out.emplace_back();
  e.type = EventType::OrderRejected;
  e.rejected = OrderRejectedEvent{order_id, account, instrument, client_order_id ? *client_order_id : ClientOrderId{}, reason};
}

void MatchingEngine::touch(InstrumentId instrument, Side side, Price price) {
  for (const TouchedLevel& t : touched_)
    if (t.price == price && t.side == side && t.instrument == instrument) return;
  const PriceLevel* level = books_.at(instrument).side(side).find(price);
  touched_.push_back({instrument, side, price, level ? level->visible : 0, level ? level->count : 0});
}

// One BookLevelChanged per level whose visible quantity or order count differs from before the
// command: by instrument, bids before asks, best price first.
void MatchingEngine::emit_level_changes(EventBuffer& out) {
  if (touched_.empty()) return;
  std::sort(touched_.begin(), touched_.end(), [](const TouchedLevel& a, const TouchedLevel& b) {
    if (a.instrument != b.instrument) return a.instrument < b.instrument;
    if (a.side != b.side) return a.side == Side::Buy;
    return a.side == Side::Buy ? a.price > b.price : a.price < b.price;
  });
  for (const TouchedLevel& t : touched_) {
    const PriceLevel* level = books_.at(t.instrument).side(t.side).find(t.price);
    const Quantity visible = level ? level->visible : 0;
    const uint32_t count = level ? level->count : 0;
    if (visible == t.visible_before && count == t.count_before) continue;
    Event& e = out.emplace_back();
    e.type = EventType::BookLevelChanged;
    e.level = BookLevelChangedEvent{t.instrument, t.side, t.price, visible, count};
  }
  touched_.clear();
}

}  // namespace hft::engine
