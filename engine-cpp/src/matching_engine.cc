#include "hft/engine/matching_engine.h"

#include <algorithm>
#include <cstdlib>

namespace hft::engine {

MatchingEngine::MatchingEngine(EngineOptions options)
    : options_(std::move(options)),
      store_(options_.expected_orders),
      events_(options_.event_capacity),
      matcher_(store_, events_),
      next_order_id_(std::max<OrderId>(options_.first_order_id, 1)) {
  matcher_.restore_next_trade_id(next_order_id_);
  scratch_.reserve(1024);
}

bool MatchingEngine::owns(std::string_view symbol) const {
  if (options_.shard_symbols.empty()) return true;
  return std::find(options_.shard_symbols.begin(), options_.shard_symbols.end(), symbol) != options_.shard_symbols.end();
}

uint32_t MatchingEngine::book_index(InstrumentId id) const {
  auto at = std::lower_bound(books_by_id_.begin(), books_by_id_.end(), std::pair<InstrumentId, uint32_t>{id, 0});
  return at != books_by_id_.end() && at->first == id ? at->second : kNoSlot;
}

void MatchingEngine::apply(const Command& command) {
  if (command.sequence != last_sequence_ + 1) std::abort();  // the sequencer skipped or repeated one
  const Sequence sequence = last_sequence_ = command.sequence;
  switch (command.type) {
    case CommandType::NewOrder: new_order(command.new_order, sequence); break;
    case CommandType::CancelOrder: cancel_order(command.cancel_order, sequence); break;
    case CommandType::ReplaceOrder: replace_order(command.replace_order, sequence); break;
    case CommandType::MassCancel: mass_cancel(command.mass_cancel, sequence); break;
    case CommandType::DefineInstrument: define_instrument(command.define_instrument, sequence); break;
    case CommandType::EndTradingSession: end_trading_session(command.end_trading_session, sequence); break;
    default: events_.emit(sequence, OrderRejected{0, 0, 0, {}, RejectReason::MalformedCommand}); break;
  }
  emit_level_changes(sequence);
}

// ----------------------------------------------------------------------------------- new orders
namespace {
// An iceberg trades one slice at a time, each refresh a trade event of its own: without a bound
// one command could meet a 10^7-lot iceberg showing 1 lot and emit 10^7 trades. Its slices are
// at most kMaxIcebergSlices, so a command's events stay bounded by the orders it meets.
bool too_many_slices(Quantity quantity, Quantity display) {
  return quantity / display + (quantity % display != 0) > kMaxIcebergSlices;
}
}  // namespace

// Checks in this order: instrument, enum ranges, type/time-in-force/post-only combination, price,
// stop price, quantity, display quantity. The first failing check names the reason.
RejectReason MatchingEngine::validate(const NewOrder& c, const OrderBook* book) const {
  if (book == nullptr) return RejectReason::UnknownInstrument;
  if (c.side != Side::Buy && c.side != Side::Sell) return RejectReason::MalformedCommand;
  if (c.type < OrderType::Limit || c.type > OrderType::StopLimit) return RejectReason::MalformedCommand;
  if (c.tif < TimeInForce::GTC || c.tif > TimeInForce::DAY) return RejectReason::MalformedCommand;
  if (c.stp > SelfTradePrevention::CancelBoth) return RejectReason::MalformedCommand;
  const bool rests_possibly = c.tif == TimeInForce::GTC || c.tif == TimeInForce::DAY;
  // A market order never rests; a stop order waits, so it must be allowed to; post-only only
  // means something for a limit order that may rest.
  if (c.type == OrderType::Market && rests_possibly) return RejectReason::InvalidOrderTypeForTif;
  if (is_stop(c.type) && !rests_possibly) return RejectReason::InvalidOrderTypeForTif;
  if (c.post_only && (c.type != OrderType::Limit || !rests_possibly)) return RejectReason::InvalidOrderTypeForTif;
  const DefineInstrument& d = book->definition();
  const bool has_limit = c.type == OrderType::Limit || c.type == OrderType::StopLimit;
  if (has_limit) {
    if (c.price <= 0) return RejectReason::InvalidPrice;
    if (c.price < d.band_low || c.price > d.band_high) return RejectReason::PriceOutOfBand;
  } else if (c.price != 0) {
    return RejectReason::InvalidPrice;
  }
  if (is_stop(c.type) ? c.stop_price < d.band_low || c.stop_price > d.band_high : c.stop_price != 0) return RejectReason::InvalidStopPrice;
  if (c.quantity <= 0) return RejectReason::InvalidQuantity;
  if (c.quantity < d.min_quantity) return RejectReason::QuantityBelowMin;
  if (c.quantity > d.max_quantity) return RejectReason::QuantityAboveMax;
  if (c.display_quantity < 0 || c.display_quantity > c.quantity || (c.display_quantity > 0 && (!has_limit || too_many_slices(c.quantity, c.display_quantity))))
    return RejectReason::InvalidDisplayQuantity;
  return RejectReason::None;
}

void MatchingEngine::new_order(const NewOrder& c, Sequence sequence) {
  const OrderId id = next_order_id_++;  // assigned to rejected orders too: every new order has one
  const uint32_t book_at = book_index(c.instrument);
  OrderBook* book = book_at == kNoSlot ? nullptr : &books_[book_at];
  RejectReason reason = validate(c, book);
  if (reason != RejectReason::None) return events_.emit(sequence, OrderRejected{id, c.account, c.instrument, c.client_order_id, reason});

  const uint32_t slot = store_.orders.acquire();
  Order& o = store_.orders[slot];
  o.id = id;
  o.account = c.account;
  o.instrument = c.instrument;
  o.book = book_at;
  o.price = c.price;
  o.stop_price = c.stop_price;
  o.quantity = o.leaves = c.quantity;
  o.display = c.display_quantity;
  o.side = c.side;
  o.type = c.type;
  o.tif = c.tif;
  o.stp = c.stp;
  o.post_only = c.post_only;
  if (o.post_only && matcher_.would_take(*book, o))
    reason = RejectReason::PostOnlyWouldTake;
  else if (o.tif == TimeInForce::FOK && matcher_.fillable(*book, o) < o.quantity)
    reason = RejectReason::FokCannotFill;
  if (reason != RejectReason::None) {
    store_.orders.release(slot);
    return events_.emit(sequence, OrderRejected{id, c.account, c.instrument, c.client_order_id, reason});
  }

  events_.emit(sequence, OrderAccepted{id, c, is_stop(c.type)});
  if (is_stop(c.type)) {
    book->add_stop(store_, slot);
    store_.index_order(slot);
    matcher_.trigger_stops(*book, sequence);  // the last trade may have reached it already
    return;
  }
  matcher_.execute(*book, slot, sequence);
}

// ------------------------------------------------------------------------- cancel and replace
uint32_t MatchingEngine::owned_order(OrderId order_id, AccountId account, Sequence sequence) {
  const uint32_t slot = store_.index.find(order_id, store_.orders);
  if (slot == kNoSlot) {
    events_.emit(sequence, OrderRejected{order_id, account, 0, {}, RejectReason::UnknownOrder});
    return kNoSlot;
  }
  const Order& order = store_.orders[slot];
  if (order.account != account) {
    events_.emit(sequence, OrderRejected{order_id, account, order.instrument, {}, RejectReason::NotOrderOwner});
    return kNoSlot;
  }
  return slot;
}

void MatchingEngine::cancel_order(const CancelOrder& c, Sequence sequence) {
  const uint32_t slot = owned_order(c.order_id, c.account, sequence);
  if (slot == kNoSlot) return;
  matcher_.cancel(books_[store_.orders[slot].book], slot, CancelReason::UserRequested, sequence);
}

// A replace is checked only on what it changes: a band narrowed since the order arrived does not
// stop a quantity change at the old price.
RejectReason MatchingEngine::validate_replace(const Order& o, const OrderBook& book, const ReplaceOrder& c) const {
  const Price price = c.new_price == 0 ? o.price : c.new_price;
  const Quantity quantity = c.new_quantity == 0 ? o.quantity : c.new_quantity;
  if (o.state != OrderState::Resting || (c.new_price == 0 && c.new_quantity == 0) || c.new_price < 0 || c.new_quantity < 0 ||
      quantity <= o.filled())
    return RejectReason::InvalidReplace;
  const DefineInstrument& d = book.definition();
  if (price != o.price && (price < d.band_low || price > d.band_high)) return RejectReason::PriceOutOfBand;
  if (quantity != o.quantity && quantity < d.min_quantity) return RejectReason::QuantityBelowMin;
  if (quantity != o.quantity && quantity > d.max_quantity) return RejectReason::QuantityAboveMax;
  if (quantity > o.quantity && o.display > 0 && too_many_slices(quantity - o.filled(), o.display)) return RejectReason::InvalidDisplayQuantity;
  if (o.post_only && price != o.price) {
    Order moved = o;
    moved.price = price;
    if (matcher_.would_take(book, moved)) return RejectReason::PostOnlyWouldTake;
  }
  return RejectReason::None;
}

void MatchingEngine::replace_order(const ReplaceOrder& c, Sequence sequence) {
  const uint32_t slot = owned_order(c.order_id, c.account, sequence);
  if (slot == kNoSlot) return;
  Order& o = store_.orders[slot];
  OrderBook& book = books_[o.book];
  const RejectReason reason = validate_replace(o, book, c);
  if (reason != RejectReason::None) return events_.emit(sequence, OrderRejected{c.order_id, c.account, o.instrument, {}, reason});

  const Price price = c.new_price == 0 ? o.price : c.new_price;
  const Quantity quantity = c.new_quantity == 0 ? o.quantity : c.new_quantity;
  const Quantity leaves = quantity - o.filled();
  const bool keeps_priority = price == o.price && quantity <= o.quantity;
  if (keeps_priority) {
    book.reduce_resting(store_, slot, leaves);
    o.quantity = quantity;
  } else {
    book.remove(store_, slot);
    o.price = price;
    o.quantity = quantity;
    o.leaves = leaves;
  }
  events_.emit(sequence, OrderReplaced{o.id, o.account, o.instrument, o.price, o.quantity, o.leaves, keeps_priority});
  if (!keeps_priority) matcher_.execute(book, slot, sequence);  // to the back of its level, or trades if it now crosses
}

// ------------------------------------------------------------- mass cancel and session end
template <typename Filter>
void MatchingEngine::collect_open_orders(std::optional<InstrumentId> instrument, Filter filter) {
  scratch_.clear();
  auto visit = [&](uint32_t slot) {
    const Order& order = store_.orders[slot];
    if (filter(order)) scratch_.emplace_back(order.id, slot);
  };
  auto visit_book = [&](const OrderBook& book) {
    for (Side s : {Side::Buy, Side::Sell}) {
      const BookSide& side = book.side(s);
      for (size_t i = 0; i < side.depth(); ++i)
        for (uint32_t slot = store_.levels[side.level_at(i)].head; slot != kNoSlot; slot = store_.orders[slot].next) visit(slot);
    }
    book.stops().for_each_slot(visit);
  };
  if (instrument)
    visit_book(books_[book_index(*instrument)]);
  else
    for (const OrderBook& book : books_) visit_book(book);
  std::sort(scratch_.begin(), scratch_.end());
}

void MatchingEngine::mass_cancel(const MassCancel& c, Sequence sequence) {
  if (c.instrument && book_index(*c.instrument) == kNoSlot)
    return events_.emit(sequence, OrderRejected{0, c.account.value_or(0), *c.instrument, {}, RejectReason::UnknownInstrument});
  collect_open_orders(c.instrument, [&](const Order& o) { return !c.account || o.account == *c.account; });
  for (const auto& [id, slot] : scratch_) matcher_.cancel(books_[store_.orders[slot].book], slot, CancelReason::MassCancel, sequence);
}

void MatchingEngine::end_trading_session(const EndTradingSession& c, Sequence sequence) {
  if (c.instrument && book_index(*c.instrument) == kNoSlot)
    return events_.emit(sequence, OrderRejected{0, 0, *c.instrument, {}, RejectReason::UnknownInstrument});
  collect_open_orders(c.instrument, [](const Order& o) { return o.tif == TimeInForce::DAY; });
  for (const auto& [id, slot] : scratch_) {
    const Order& o = store_.orders[slot];
    events_.emit(sequence, OrderExpired{o.id, o.account, o.instrument, o.leaves});
    books_[o.book].remove(store_, slot);
    store_.close(slot);
  }
  events_.emit(sequence, TradingSessionEnded{c.instrument, static_cast<uint32_t>(scratch_.size())});
}

// ------------------------------------------------------------------------------ instruments
RejectReason MatchingEngine::validate(const DefineInstrument& c) const {
  if (c.id == 0 || c.symbol.empty() || c.min_quantity <= 0 || c.max_quantity < c.min_quantity || c.band_low <= 0 || c.band_high < c.band_low)
    return RejectReason::MalformedCommand;
  if (!owns(c.symbol.view())) return RejectReason::InstrumentNotInShard;
  for (const OrderBook& book : books_)
    if ((book.id() == c.id) != (book.definition().symbol == c.symbol)) return RejectReason::InstrumentConflict;
  return RejectReason::None;
}

void MatchingEngine::define_instrument(const DefineInstrument& c, Sequence sequence) {
  const RejectReason reason = validate(c);
  if (reason != RejectReason::None) return events_.emit(sequence, OrderRejected{0, 0, c.id, {}, reason});
  const uint32_t existing = book_index(c.id);
  if (existing != kNoSlot) {
    books_[existing].redefine(c);  // new limits apply to new orders; resting orders stay
  } else {
    const uint32_t index = static_cast<uint32_t>(books_.size());
    books_.emplace_back(c, index);
    books_by_id_.insert(std::lower_bound(books_by_id_.begin(), books_by_id_.end(), std::pair<InstrumentId, uint32_t>{c.id, 0}), {c.id, index});
  }
  events_.emit(sequence, InstrumentDefined{c});
}

// --------------------------------------------------------------------------- level changes
// Closes every command: one BookLevelChanged per touched level whose visible quantity or order
// count differs from before the command.
void MatchingEngine::emit_level_changes(Sequence sequence) {
  if (store_.changes.empty()) return;
  for (const LevelChanges::Touched& t : store_.changes.in_report_order()) {
    const uint32_t slot = books_[t.book].side(t.side).find(t.price);
    const Quantity visible = slot == kNoSlot ? 0 : store_.levels[slot].visible;
    const uint32_t count = slot == kNoSlot ? 0 : store_.levels[slot].count;
    if (visible != t.visible_before || count != t.count_before)
      events_.emit(sequence, BookLevelChanged{t.instrument, t.side, t.price, visible, count});
  }
  store_.changes.clear();
}

}  // namespace hft::engine
