// Views of the engine's state for snapshots and tests: levels, hashes, invariants, restore.
#include <algorithm>
#include <sstream>

#include "hft/engine/matching_engine.h"

namespace hft::engine {

std::vector<LevelView> MatchingEngine::levels(InstrumentId id, Side side, size_t depth) const {
  std::vector<LevelView> result;
  const OrderBook* b = book(id);
  if (b == nullptr) return result;
  const BookSide& s = b->side(side);
  const size_t n = depth == 0 ? s.depth() : std::min(depth, s.depth());
  result.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const PriceLevel& level = s.level_from_best(i);
    result.push_back({level.price, level.visible, level.count});
  }
  return result;
}

std::vector<const LiveOrder*> MatchingEngine::level_orders(InstrumentId id, Side side, Price price) const {
  std::vector<const LiveOrder*> result;
  const OrderBook* b = book(id);
  const PriceLevel* level = b ? b->side(side).find(price) : nullptr;
  for (uint32_t s = level ? level->head : kNoSlot; s != kNoSlot; s = pool_[s].next) result.push_back(&pool_[s]);
  return result;
}

namespace {
// FNV-1a over the bytes of each field.
struct Hasher {
  uint64_t value = 1469598103934665603ull;
  template <typename T>
  void add(const T& field) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&field);
    for (size_t i = 0; i < sizeof(T); ++i) value = (value ^ bytes[i]) * 1099511628211ull;
  }
  void add_order(const LiveOrder& o) {
    add(o.id), add(o.account), add(o.instrument), add(o.price), add(o.stop_price), add(o.quantity), add(o.leaves);
    add(o.display), add(o.visible), add(o.side), add(o.type), add(o.tif), add(o.stp), add(o.post_only), add(o.pending_stop);
  }
};
}  // namespace

uint64_t MatchingEngine::state_hash() const {
  Hasher h;
  h.add(last_sequence_), h.add(next_order_id_), h.add(next_trade_id_);
  for (const auto& [id, b] : books_) {
    const InstrumentDefinition& d = b.definition;
    h.add(id), h.add(d.min_quantity), h.add(d.max_quantity), h.add(d.band_low), h.add(d.band_high);
    for (char c : d.symbol.view()) h.add(c);
    h.add(b.last_trade_price), h.add(b.trades), h.add(b.volume);
    for (const BookSide* side : {&b.bids, &b.asks}) {
      for (size_t i = 0; i < side->depth(); ++i) {
        const PriceLevel& level = side->level_from_best(i);
        h.add(level.price), h.add(level.visible), h.add(level.count);
        for (uint32_t s = level.head; s != kNoSlot; s = pool_[s].next) h.add_order(pool_[s]);
      }
    }
    for (uint32_t s : b.stops) h.add_order(pool_[s]);
  }
  return h.value;
}

std::string MatchingEngine::validate_invariants() const {
  std::ostringstream problems;
  size_t live = 0, stops = 0;
  for (const auto& [id, b] : books_) {
    if (!b.bids.empty() && !b.asks.empty() && b.bids.best().price >= b.asks.best().price)
      problems << "book " << id << " is crossed: bid " << b.bids.best().price << " >= ask " << b.asks.best().price << "\n";
    uint64_t resting = 0;
    for (const BookSide* side : {&b.bids, &b.asks}) {
      for (size_t i = 0; i < side->depth(); ++i) {
        const PriceLevel& level = side->level_from_best(i);
        // strictly better than the next: sorted and no duplicate levels
        if (i > 0 && (side->level_from_best(i - 1).price == level.price || !side->at_least_as_good(side->level_from_best(i - 1).price, level.price)))
          problems << "book " << id << " levels out of order at " << level.price << "\n";
        Quantity visible = 0;
        uint32_t count = 0;
        uint32_t prev = kNoSlot;
        for (uint32_t s = level.head; s != kNoSlot; prev = s, s = pool_[s].next) {
          const LiveOrder& o = pool_[s];
          visible += o.visible;
          ++count;
          if (o.prev != prev) problems << "order " << o.id << " has a broken back link\n";
          if (o.price != level.price || o.side != side->side() || o.instrument != id) problems << "order " << o.id << " sits on the wrong level\n";
          if (o.leaves <= 0 || o.visible <= 0 || o.visible > o.leaves || o.leaves > o.quantity) problems << "order " << o.id << " has bad quantities\n";
          if (o.display > 0 && o.visible > o.display) problems << "order " << o.id << " shows more than its display quantity\n";
          if (index_.find(o.id) != s) problems << "order " << o.id << " is not indexed at its slot\n";
          if (prev != kNoSlot && pool_[prev].priority >= o.priority) problems << "order " << o.id << " breaks FIFO within its level\n";
        }
        if (level.tail != prev) problems << "book " << id << " level " << level.price << " has a wrong tail\n";
        if (visible != level.visible || count != level.count || count == 0)
          problems << "book " << id << " level " << level.price << " totals " << level.visible << "/" << level.count << " but orders sum to "
                   << visible << "/" << count << "\n";
        resting += count;
      }
    }
    if (resting != b.resting_orders) problems << "book " << id << " counts " << b.resting_orders << " resting orders, has " << resting << "\n";
    live += resting;
    for (uint32_t s : b.stops) {
      if (!pool_[s].pending_stop || index_.find(pool_[s].id) != s) problems << "stop order " << pool_[s].id << " is inconsistent\n";
      ++stops;
    }
  }
  if (stops != pending_stops_) problems << "pending stop count " << pending_stops_ << " but " << stops << " stops listed\n";
  if (live + stops != index_.size()) problems << "index holds " << index_.size() << " orders, books hold " << live + stops << "\n";
  return problems.str();
}

void MatchingEngine::restore_counters(Sequence last_sequence, OrderId next_order_id, TradeId next_trade_id) {
  last_sequence_ = last_sequence;
  next_order_id_ = next_order_id;
  next_trade_id_ = next_trade_id;
}

void MatchingEngine::restore_book(const InstrumentDefinition& def, Price last_trade_price, uint64_t trades, Quantity volume) {
  OrderBook& b = books_.emplace(def.id, OrderBook(def)).first->second;
  b.last_trade_price = last_trade_price;
  b.trades = trades;
  b.volume = volume;
}

void MatchingEngine::restore_order(const LiveOrder& order) {
  const uint32_t slot = pool_.acquire();
  pool_[slot] = order;
  pool_[slot].prev = pool_[slot].next = kNoSlot;
  index_.insert(order.id, slot);
  OrderBook& b = books_.at(order.instrument);
  if (order.pending_stop) {
    b.stops.push_back(slot);
    ++pending_stops_;
  } else {
    pool_[slot].priority = next_priority_++;
    b.side(order.side).append(pool_, slot);
    b.resting_orders += 1;
  }
}

}  // namespace hft::engine
