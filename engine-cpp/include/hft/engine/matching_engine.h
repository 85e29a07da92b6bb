// The matching engine: applies sequenced commands to the books of its shard and appends the
// resulting events to a buffer the caller publishes. Deterministic: the same commands give the
// same events, byte for byte. Not thread-safe: one matching thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "hft/engine/order_book.h"
#include "hft/engine/order_index.h"
#include "hft/engine/types.h"

namespace hft::engine {

using EventBuffer = std::vector<Event>;

struct EngineOptions {
  // Symbols this process owns; empty owns every symbol.
  std::vector<std::string> shard_symbols;
  // The first order id assigned (lets shards hand out disjoint ids).
  OrderId first_order_id = 1;
  // Initial capacity of the order pool and index.
  size_t expected_orders = 1 << 16;
};

// Aggregated view of one level, for snapshots and tests.
struct LevelView {
  Price price;
  Quantity quantity;
  uint32_t order_count;
  bool operator==(const LevelView&) const = default;
};

class MatchingEngine {
 public:
  explicit MatchingEngine(EngineOptions options = {});
  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  // Applies one command; its sequence must follow the last one applied. Events are appended.
  void apply(const Command& command, EventBuffer& out);

  Sequence last_sequence() const { return last_sequence_; }
  OrderId next_order_id() const { return next_order_id_; }
  TradeId next_trade_id() const { return next_trade_id_; }
  uint64_t resting_orders() const { return index_.size() - pending_stops_; }
  uint64_t pending_stops() const { return pending_stops_; }
  bool owns(std::string_view symbol) const;
  const std::vector<std::string>& shard_symbols() const { return options_.shard_symbols; }

  const OrderBook* book(InstrumentId id) const;
  const std::map<InstrumentId, OrderBook>& books() const { return books_; }
  // Levels of one side, best first, at most `depth` (0 = all).
  std::vector<LevelView> levels(InstrumentId id, Side side, size_t depth = 0) const;
  // The live order with this id, or nullptr.
  const LiveOrder* order(OrderId id) const;
  // Id of the pending stop order in pool slot `slot` (snapshots walk the stop lists by slot).
  OrderId stop_order_id(uint32_t slot) const { return pool_[slot].id; }
  // Live orders of one level in priority order (tests and snapshots).
  std::vector<const LiveOrder*> level_orders(InstrumentId id, Side side, Price price) const;

  // A hash of every book, order (in priority order) and counter: equal states hash equal.
  uint64_t state_hash() const;
  // Checks the book invariants; returns an empty string when they hold, else what is broken.
  std::string validate_invariants() const;

  // Restoring from a snapshot: define the counters, then add orders in priority order.
  void restore_counters(Sequence last_sequence, OrderId next_order_id, TradeId next_trade_id);
  void restore_book(const InstrumentDefinition& def, Price last_trade_price, uint64_t trades, Quantity volume);
  void restore_order(const LiveOrder& order);

 private:
  struct TouchedLevel {
    InstrumentId instrument;
    Side side;
    Price price;
    Quantity visible_before;
    uint32_t count_before;
  };

  void new_order(const NewOrder& cmd, EventBuffer& out);
  void cancel_order(const CancelOrder& cmd, EventBuffer& out);
  void replace_order(const ReplaceOrder& cmd, EventBuffer& out);
  void mass_cancel(const MassCancel& cmd, EventBuffer& out);
  void define_instrument(const InstrumentDefinition& def, EventBuffer& out);
  void end_trading_session(const EndTradingSession& cmd, EventBuffer& out);

  uint32_t owned_order(OrderId order_id, AccountId account, EventBuffer& out);
  RejectReason validate_new(const NewOrder& cmd, const OrderBook* book) const;
  bool crosses(const OrderBook& book, const LiveOrder& incoming) const;
  Quantity fillable_for_fok(const OrderBook& book, const LiveOrder& incoming) const;
  // Matches an incoming (not resting) order, then rests, cancels or frees what is left.
  void execute(OrderBook& book, uint32_t slot, EventBuffer& out);
  void match(OrderBook& book, uint32_t slot, EventBuffer& out);
  void trigger_stops(OrderBook& book, EventBuffer& out);
  void rest(OrderBook& book, uint32_t slot);
  void unrest(OrderBook& book, uint32_t slot);
  void forget(uint32_t slot);
  void emit_cancel(const LiveOrder& order, CancelReason reason, EventBuffer& out);
  void emit_reject(OrderId order_id, AccountId account, InstrumentId instrument, const ClientOrderId* client_order_id,
                   RejectReason reason, EventBuffer& out);
  void touch(InstrumentId instrument, Side side, Price price);
  void emit_level_changes(EventBuffer& out);
  std::vector<uint32_t> live_slots_sorted() const;

  EngineOptions options_;
  std::unordered_set<std::string> shard_;
  std::map<InstrumentId, OrderBook> books_;
  OrderPool pool_;
  OrderIndex index_;
  Sequence last_sequence_ = 0;
  OrderId next_order_id_;
  TradeId next_trade_id_ = 1;
  uint64_t pending_stops_ = 0;
  uint64_t next_priority_ = 1;
  std::vector<TouchedLevel> touched_;
};

}  // namespace hft::engine
