// Events: what applying a command did, in the order it happened. Each carries the sequence of the
// command that produced it. The engine appends them to its EventBuffer and never calls out; the
// caller publishes and drains the buffer (after the commands are durable).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "hft/engine/commands.h"

namespace hft::engine {

struct OrderAccepted {
  OrderId order_id = 0;
  NewOrder order;                // the command as accepted
  bool pending_trigger = false;  // a stop order now waiting off the book for its stop price
  bool operator==(const OrderAccepted&) const = default;
};

// A refused command. For a new order: the id it was assigned and its identifying fields; for a
// cancel or replace: the order it named; for an instrument definition: the instrument id.
struct OrderRejected {
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  ClientOrderId client_order_id;
  RejectReason reason = RejectReason::None;
  bool operator==(const OrderRejected&) const = default;
};

struct Trade {
  TradeId trade_id = 0;
  InstrumentId instrument = 0;
  Price price = 0;  // always the resting (maker) order's price
  Quantity quantity = 0;
  Side aggressor_side = Side::Buy;
  OrderId maker_order_id = 0;
  AccountId maker_account = 0;
  Quantity maker_remaining = 0;
  OrderId taker_order_id = 0;
  AccountId taker_account = 0;
  Quantity taker_remaining = 0;
  bool operator==(const Trade&) const = default;
};

struct OrderCancelled {
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  CancelReason reason = CancelReason::UserRequested;
  Quantity cancelled_quantity = 0;  // what was still open
  bool operator==(const OrderCancelled&) const = default;
};

struct OrderReplaced {
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Price price = 0;         // the new price
  Quantity quantity = 0;   // the new total quantity
  Quantity remaining = 0;  // what is open after the replace, before any re-matching
  bool priority_kept = false;
  bool operator==(const OrderReplaced&) const = default;
};

struct OrderExpired {
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Quantity expired_quantity = 0;
  bool operator==(const OrderExpired&) const = default;
};

struct StopTriggered {
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Price last_trade_price = 0;  // the price that triggered it
  bool operator==(const StopTriggered&) const = default;
};

// The state of one level after a command changed it: visible quantity (icebergs show their slice)
// and order count; both 0 when the level is gone.
struct BookLevelChanged {
  InstrumentId instrument = 0;
  Side side = Side::Buy;
  Price price = 0;
  Quantity quantity = 0;
  uint32_t order_count = 0;
  bool operator==(const BookLevelChanged&) const = default;
};

struct InstrumentDefined {
  DefineInstrument definition;
  bool operator==(const InstrumentDefined&) const = default;
};

struct TradingSessionEnded {
  std::optional<InstrumentId> instrument;  // empty: every instrument
  uint32_t expired_orders = 0;
  bool operator==(const TradingSessionEnded&) const = default;
};

enum class EventType : uint8_t {
  OrderAccepted = 1,
  OrderRejected = 2,
  Trade = 3,
  OrderCancelled = 4,
  OrderReplaced = 5,
  OrderExpired = 6,
  StopTriggered = 7,
  BookLevelChanged = 8,
  InstrumentDefined = 9,
  TradingSessionEnded = 10,
};

struct Event {
  Sequence sequence = 0;
  EventType type;
  union {
    OrderAccepted order_accepted;
    OrderRejected order_rejected;
    Trade trade;
    OrderCancelled order_cancelled;
    OrderReplaced order_replaced;
    OrderExpired order_expired;
    StopTriggered stop_triggered;
    BookLevelChanged book_level_changed;
    InstrumentDefined instrument_defined;
    TradingSessionEnded trading_session_ended;
  };

  Event() : type(EventType::OrderAccepted), order_accepted() {}
  Event(Sequence s, const OrderAccepted& e) : sequence(s), type(EventType::OrderAccepted), order_accepted(e) {}
  Event(Sequence s, const OrderRejected& e) : sequence(s), type(EventType::OrderRejected), order_rejected(e) {}
  Event(Sequence s, const Trade& e) : sequence(s), type(EventType::Trade), trade(e) {}
  Event(Sequence s, const OrderCancelled& e) : sequence(s), type(EventType::OrderCancelled), order_cancelled(e) {}
  Event(Sequence s, const OrderReplaced& e) : sequence(s), type(EventType::OrderReplaced), order_replaced(e) {}
  Event(Sequence s, const OrderExpired& e) : sequence(s), type(EventType::OrderExpired), order_expired(e) {}
  Event(Sequence s, const StopTriggered& e) : sequence(s), type(EventType::StopTriggered), stop_triggered(e) {}
  Event(Sequence s, const BookLevelChanged& e) : sequence(s), type(EventType::BookLevelChanged), book_level_changed(e) {}
  Event(Sequence s, const InstrumentDefined& e) : sequence(s), type(EventType::InstrumentDefined), instrument_defined(e) {}
  Event(Sequence s, const TradingSessionEnded& e) : sequence(s), type(EventType::TradingSessionEnded), trading_session_ended(e) {}
};
static_assert(std::is_trivially_copyable_v<Event>);

// Same sequence, type and fields.
bool operator==(const Event& a, const Event& b);
// One line naming the event and its fields, for test failures and tools.
std::string describe(const Event& event);
std::ostream& operator<<(std::ostream& out, const Event& event);

// The events of the commands applied since the caller last drained it, in order. Its capacity is
// reserved up front and kept across clear(), so appending allocates only when a burst outgrows
// every earlier one.
class EventBuffer {
 public:
  explicit EventBuffer(size_t capacity = 4096) { events_.reserve(capacity); }

  template <typename Body>
  void emit(Sequence sequence, const Body& body) {
    events_.emplace_back(sequence, body);
  }
  void clear() { events_.clear(); }

  size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }
  const Event& operator[](size_t i) const { return events_[i]; }
  std::vector<Event>::const_iterator begin() const { return events_.begin(); }
  std::vector<Event>::const_iterator end() const { return events_.end(); }

 private:
  std::vector<Event> events_;
};

}  // namespace hft::engine
