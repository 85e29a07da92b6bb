// The matching engine: applies sequenced commands to the books of its shard and appends what
// happened to its EventBuffer, which the caller publishes and drains. Deterministic: the same
// commands give the same events and the same state_hash(), byte for byte.
// Not thread-safe: one matching thread owns the engine and everything in it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "hft/engine/events.h"
#include "hft/engine/matcher.h"
#include "hft/engine/order_book.h"

namespace hft::engine {

// The most slices an iceberg order may show in turn: its display quantity must be at least
// 1/kMaxIcebergSlices of its quantity (of what is left open, on a replace that raises it).
inline constexpr int64_t kMaxIcebergSlices = 1000;

struct EngineOptions {
  // Symbols this engine's shard owns; empty owns every symbol.
  std::vector<std::string> shard_symbols = {};
  // The first order id and the first trade id it assigns, so shards hand out disjoint ids of
  // both kinds from one setting. Must be > 0.
  OrderId first_order_id = 1;
  // Open orders the pools and the id index hold before they first grow (by doubling, amortised).
  // Size it for the open orders expected, not far beyond: every cancel and replace probes the
  // index, and an index larger than the cache costs a miss each time.
  size_t expected_orders = 1 << 16;
  // Events the buffer holds before it first grows.
  size_t event_capacity = 1 << 14;
};

// Aggregated state of one price level.
struct LevelView {
  Price price = 0;
  Quantity quantity = 0;  // visible
  uint32_t order_count = 0;
  bool operator==(const LevelView&) const = default;
};

class MatchingEngine {
 public:
  explicit MatchingEngine(EngineOptions options = {});
  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  // Applies one command and appends its events. Its sequence must be last_sequence() + 1;
  // anything else is a broken invariant of the caller and aborts.
  void apply(const Command& command);
  // Events of the commands applied since the caller last cleared it.
  EventBuffer& events() { return events_; }

  Sequence last_sequence() const { return last_sequence_; }
  OrderId next_order_id() const { return next_order_id_; }
  TradeId next_trade_id() const { return matcher_.next_trade_id(); }
  size_t open_orders() const { return store_.index.size(); }
  size_t pending_stops() const;
  bool owns(std::string_view symbol) const;
  const std::vector<std::string>& shard_symbols() const { return options_.shard_symbols; }

  // ---- read-only views (queries, snapshots, tests)
  const OrderBook* book(InstrumentId id) const;
  // Defined instruments in id order.
  std::vector<InstrumentId> instruments() const;
  // Levels of one side from the best, at most `depth` of them (0: all).
  std::vector<LevelView> levels(InstrumentId id, Side side, size_t depth = 0) const;
  // The open order with this id, or nullptr.
  const Order* order(OrderId id) const;
  // Open orders of one book: bids best to worst and asks best to worst, each level oldest first,
  // then pending stops in acceptance order. Re-adding them in this order rebuilds the book.
  std::vector<const Order*> orders_of(InstrumentId id) const;
  std::vector<const Order*> level_orders(InstrumentId id, Side side, Price price) const;

  // ---- test hooks
  // A hash of every book (definition, statistics, levels, orders in priority order with all
  // their fields, stops) and the counters: equal states hash equal, on any run.
  uint64_t state_hash() const;
  // Checks every structural invariant; returns what is broken, or an empty string.
  std::string validate_invariants() const;

  // ---- restoring from a snapshot, into an engine that has applied nothing
  void restore_counters(Sequence last_sequence, OrderId next_order_id, TradeId next_trade_id);
  void restore_book(const DefineInstrument& definition, Price last_trade_price, uint64_t trades, Quantity volume);
  // Adds an open order to its (restored) book: resting ones at the back of their level, so they
  // must come in the order orders_of() gives.
  void restore_order(const Order& order);

 private:
  void new_order(const NewOrder& command, Sequence sequence);
  void cancel_order(const CancelOrder& command, Sequence sequence);
  void replace_order(const ReplaceOrder& command, Sequence sequence);
  void mass_cancel(const MassCancel& command, Sequence sequence);
  void define_instrument(const DefineInstrument& command, Sequence sequence);
  void end_trading_session(const EndTradingSession& command, Sequence sequence);

  RejectReason validate(const NewOrder& command, const OrderBook* book) const;
  RejectReason validate(const DefineInstrument& command) const;
  RejectReason validate_replace(const Order& order, const OrderBook& book, const ReplaceOrder& command) const;
  // The slot of the open order `order_id` if `account` owns it; otherwise rejects and returns kNoSlot.
  uint32_t owned_order(OrderId order_id, AccountId account, Sequence sequence);
  // Index of the book of `id` in books_, or kNoSlot.
  uint32_t book_index(InstrumentId id) const;
  // Slots of the open orders that pass `filter`, in order id order.
  template <typename Filter>
  void collect_open_orders(std::optional<InstrumentId> instrument, Filter filter);
  void emit_level_changes(Sequence sequence);

  EngineOptions options_;
  OrderStore store_;
  EventBuffer events_;
  Matcher matcher_;
  std::deque<OrderBook> books_;  // in definition order, never moved; orders refer to them by index
  std::vector<std::pair<InstrumentId, uint32_t>> books_by_id_;  // (instrument, index in books_), sorted
  std::vector<std::pair<OrderId, uint32_t>> scratch_;  // reused by mass cancel and session end
  Sequence last_sequence_ = 0;
  OrderId next_order_id_;
};

}  // namespace hft::engine
