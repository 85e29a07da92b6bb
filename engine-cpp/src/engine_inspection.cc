// The engine seen from outside: read-only views, the state hash, the invariant check, and the
// restore path snapshots use. None of it is on the matching hot path.
#include <cstdlib>
#include <sstream>

#include "hft/engine/matching_engine.h"

namespace hft::engine {

const OrderBook* MatchingEngine::book(InstrumentId id) const {
  const uint32_t index = book_index(id);
  return index == kNoSlot ? nullptr : &books_[index];
}

std::vector<InstrumentId> MatchingEngine::instruments() const {
  std::vector<InstrumentId> ids;
  for (const auto& [id, index] : books_by_id_) ids.push_back(id);
  return ids;
}

size_t MatchingEngine::pending_stops() const {
  size_t stops = 0;
  for (const OrderBook& b : books_) stops += b.stops().size();
  return stops;
}

std::vector<LevelView> MatchingEngine::levels(InstrumentId id, Side side, size_t depth) const {
  std::vector<LevelView> result;
  const OrderBook* b = book(id);
  if (b == nullptr) return result;
  const BookSide& s = b->side(side);
  const size_t n = depth == 0 ? s.depth() : std::min(depth, s.depth());
  for (size_t i = 0; i < n; ++i) {
    const PriceLevel& level = store_.levels[s.level_at(i)];
    result.push_back({level.price, level.visible, level.count});
  }
  return result;
}

const Order* MatchingEngine::order(OrderId id) const {
  const uint32_t slot = store_.index.find(id, store_.orders);
  return slot == kNoSlot ? nullptr : &store_.orders[slot];
}

std::vector<const Order*> MatchingEngine::level_orders(InstrumentId id, Side side, Price price) const {
  std::vector<const Order*> result;
  const OrderBook* b = book(id);
  const uint32_t level = b == nullptr ? kNoSlot : b->side(side).find(price);
  for (uint32_t s = level == kNoSlot ? kNoSlot : store_.levels[level].head; s != kNoSlot; s = store_.orders[s].next)
    result.push_back(&store_.orders[s]);
  return result;
}

std::vector<const Order*> MatchingEngine::orders_of(InstrumentId id) const {
  std::vector<const Order*> result;
  const OrderBook* b = book(id);
  if (b == nullptr) return result;
  for (Side side : {Side::Buy, Side::Sell})
    for (size_t i = 0; i < b->side(side).depth(); ++i)
      for (uint32_t s = store_.levels[b->side(side).level_at(i)].head; s != kNoSlot; s = store_.orders[s].next)
        result.push_back(&store_.orders[s]);
  for (uint32_t s : b->stops().in_acceptance_order()) result.push_back(&store_.orders[s]);
  return result;
}

namespace {

// FNV-1a over the bytes of each field added.
class StateHasher {
 public:
  template <typename T>
  void add(const T& field) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &field, sizeof(T));
    for (unsigned char b : bytes) value_ = (value_ ^ b) * 1099511628211ull;
  }
  void add_text(std::string_view text) {
    add(text.size());
    for (char c : text) add(c);
  }
  void add_order(const Order& o) {
    add(o.id), add(o.account), add(o.instrument), add(o.price), add(o.stop_price), add(o.quantity), add(o.leaves);
    add(o.display), add(o.visible), add(o.side), add(o.type), add(o.tif), add(o.stp), add(o.state), add(o.post_only);
  }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 1469598103934665603ull;
};

}  // namespace

uint64_t MatchingEngine::state_hash() const {
  StateHasher h;
  h.add(last_sequence_), h.add(next_order_id_), h.add(next_trade_id());
  for (InstrumentId id : instruments()) {
    const OrderBook& b = *book(id);
    const DefineInstrument& d = b.definition();
    h.add(d.id), h.add_text(d.symbol.view()), h.add_text(d.tick_size.view()), h.add_text(d.lot_size.view());
    h.add(d.min_quantity), h.add(d.max_quantity), h.add(d.band_low), h.add(d.band_high);
    h.add(b.last_trade_price()), h.add(b.trades()), h.add(b.volume());
    for (Side side : {Side::Buy, Side::Sell}) {
      h.add(b.side(side).depth());
      for (size_t i = 0; i < b.side(side).depth(); ++i) {
        const PriceLevel& level = store_.levels[b.side(side).level_at(i)];
        h.add(level.price), h.add(level.visible), h.add(level.count);
        for (uint32_t s = level.head; s != kNoSlot; s = store_.orders[s].next) h.add_order(store_.orders[s]);
      }
    }
    h.add(b.stops().size());
    for (uint32_t s : b.stops().in_acceptance_order()) h.add_order(store_.orders[s]);
  }
  return h.value();
}

std::string MatchingEngine::validate_invariants() const {
  std::ostringstream problems;
  size_t resting_total = 0, stops_total = 0, levels_total = 0;
  for (uint32_t book_at = 0; book_at < books_.size(); ++book_at) {
    const OrderBook& b = books_[book_at];
    const InstrumentId id = b.id();
    if (book_index(id) != book_at) problems << "book " << id << " is not indexed at " << book_at << "\n";
    const BookSide &bids = b.side(Side::Buy), &asks = b.side(Side::Sell);
    if (!bids.empty() && !asks.empty() && bids.best_price() >= asks.best_price())
      problems << "book " << id << " is crossed: bid " << bids.best_price() << " >= ask " << asks.best_price() << "\n";
    uint64_t resting = 0;
    for (const BookSide* side : {&bids, &asks}) {
      levels_total += side->depth();
      if (!side->empty() && side->best_price() != store_.levels[side->best_level()].price)
        problems << "book " << id << " caches best " << side->best_price() << " but its best level is " << store_.levels[side->best_level()].price << "\n";
      for (size_t i = 0; i < side->depth(); ++i) {
        const PriceLevel& level = store_.levels[side->level_at(i)];
        if (i > 0 && at_least_as_good(side->side(), level.price, store_.levels[side->level_at(i - 1)].price))
          problems << "book " << id << " levels out of order at " << level.price << "\n";
        if (side->find(level.price) != side->level_at(i)) problems << "book " << id << " cannot find its level " << level.price << "\n";
        Quantity visible = 0;
        uint32_t count = 0;
        uint32_t prev = kNoSlot;
        for (uint32_t s = level.head; s != kNoSlot; prev = s, s = store_.orders[s].next) {
          const Order& o = store_.orders[s];
          visible += o.visible;
          ++count;
          if (o.prev != prev) problems << "order " << o.id << " has a broken back link\n";
          if (o.state != OrderState::Resting || o.level != side->level_at(i) || o.price != level.price || o.side != side->side() ||
              o.instrument != id || o.book != book_at)
            problems << "order " << o.id << " does not belong on level " << level.price << " of book " << id << "\n";
          if (o.leaves <= 0 || o.leaves > o.quantity || o.visible <= 0 || o.visible > o.leaves || o.visible != (o.display > 0 ? o.visible : o.leaves) ||
              (o.display > 0 && o.visible > o.display))
            problems << "order " << o.id << " has inconsistent quantities\n";
          if (!o.indexed || store_.index.find(o.id, store_.orders) != s) problems << "order " << o.id << " is not indexed at its slot\n";
          if (prev != kNoSlot && store_.orders[prev].arrival >= o.arrival) problems << "order " << o.id << " breaks arrival order in its level\n";
        }
        if (level.tail != prev) problems << "book " << id << " level " << level.price << " has a wrong tail\n";
        if (count == 0 || visible != level.visible || count != level.count)
          problems << "book " << id << " level " << level.price << " totals " << level.visible << "/" << level.count << " but its orders sum to "
                   << visible << "/" << count << "\n";
        resting += count;
      }
    }
    if (resting != b.resting_orders()) problems << "book " << id << " counts " << b.resting_orders() << " resting orders but has " << resting << "\n";
    resting_total += resting;
    for (uint32_t s : b.stops().in_acceptance_order()) {
      const Order& o = store_.orders[s];
      if (o.state != OrderState::PendingTrigger || !is_stop(o.type) || o.book != book_at || !o.indexed || store_.index.find(o.id, store_.orders) != s)
        problems << "stop order " << o.id << " is inconsistent\n";
      ++stops_total;
    }
  }
  if (resting_total + stops_total != store_.index.size())
    problems << "the index holds " << store_.index.size() << " orders, the books " << resting_total + stops_total << "\n";
  if (store_.orders.in_use() != store_.index.size()) problems << store_.orders.in_use() << " order slots in use for " << store_.index.size() << " open orders\n";
  if (store_.levels.in_use() != levels_total) problems << store_.levels.in_use() << " level slots in use for " << levels_total << " levels\n";
  if (!store_.changes.empty()) problems << "level changes left over from the last command\n";
  return problems.str();
}

void MatchingEngine::restore_counters(Sequence last_sequence, OrderId next_order_id, TradeId next_trade_id) {
  last_sequence_ = last_sequence;
  next_order_id_ = next_order_id;
  matcher_.restore_next_trade_id(next_trade_id);
}

void MatchingEngine::restore_book(const DefineInstrument& definition, Price last_trade_price, uint64_t trades, Quantity volume) {
  define_instrument(definition, last_sequence_);
  events_.clear();
  books_[book_index(definition.id)].restore_statistics(last_trade_price, trades, volume);
}

void MatchingEngine::restore_order(const Order& order) {
  const uint32_t book_at = book_index(order.instrument);
  if (book_at == kNoSlot) std::abort();  // the snapshot reader checks every order's instrument first
  const uint32_t slot = store_.orders.acquire();
  Order& o = store_.orders[slot];
  o = order;
  o.book = book_at;
  o.level = o.prev = o.next = kNoSlot;
  o.indexed = false;
  if (o.state == OrderState::PendingTrigger)
    books_[book_at].add_stop(store_, slot);
  else
    books_[book_at].rest(store_, slot);
  store_.index_order(slot);
  store_.changes.clear();
}

}  // namespace hft::engine
