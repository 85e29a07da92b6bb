// Plain value types of the matching engine: ids, enums, commands and events. Commands and events
// are trivially copyable and fixed-size, so the hot path never allocates and the journal can store
// a command as its bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

namespace hft::engine {

using Price = int64_t;       // ticks
using Quantity = int64_t;    // lots
using OrderId = uint64_t;
using AccountId = uint64_t;
using InstrumentId = uint32_t;
using Sequence = uint64_t;
using TradeId = uint64_t;
using TimestampNs = int64_t;  // nanoseconds since the Unix epoch

// The numeric values of the enums equal those of hft.v1 (types.proto), so the gRPC adapter maps
// them by value.
enum class Side : uint8_t { Buy = 1, Sell = 2 };
enum class OrderType : uint8_t { Limit = 1, Market = 2, Stop = 3, StopLimit = 4 };
enum class TimeInForce : uint8_t { Gtc = 1, Ioc = 2, Fok = 3, Day = 4 };
enum class SelfTradePrevention : uint8_t { None = 0, CancelResting = 1, CancelIncoming = 2, CancelBoth = 3 };
enum class OrderStatus : uint8_t { PendingTrigger = 1, New = 2 };

enum class RejectReason : uint8_t {
  None = 0,
  UnknownInstrument = 1,
  InstrumentNotInShard = 2,
  InvalidPrice = 3,
  PriceOutOfBand = 4,
  InvalidQuantity = 5,
  QuantityBelowMin = 6,
  QuantityAboveMax = 7,
  InvalidDisplayQuantity = 8,
  InvalidStopPrice = 9,
  InvalidOrderTypeForTif = 10,
  PostOnlyWouldTake = 11,
  FokCannotFill = 12,
  UnknownOrder = 13,
  NotOrderOwner = 14,
  DuplicateOrderId = 15,
  InvalidReplace = 16,
  InstrumentConflict = 17,
  MalformedCommand = 18,
};

enum class CancelReason : uint8_t {
  UserRequested = 1,
  IocRemainder = 2,
  MarketNoLiquidity = 3,
  SelfTradePrevention = 4,
  MassCancel = 5,
};

std::string_view to_string(RejectReason reason);

inline Side opposite(Side side) { return side == Side::Buy ? Side::Sell : Side::Buy; }

// A fixed-capacity ASCII string stored inline (client order ids, symbols, decimal strings).
template <size_t Capacity>
struct FixedString {
  uint8_t length = 0;
  char bytes[Capacity] = {};

  static constexpr size_t capacity = Capacity;
  // Copies `text`; returns false (and stores nothing) when it does not fit.
  bool assign(std::string_view text) {
    if (text.size() > Capacity) return false;
    length = static_cast<uint8_t>(text.size());
    std::memset(bytes, 0, Capacity);
    std::memcpy(bytes, text.data(), text.size());
    return true;
  }
  std::string_view view() const { return {bytes, length}; }
  bool operator==(const FixedString& other) const { return view() == other.view(); }
};

using ClientOrderId = FixedString<40>;
using Symbol = FixedString<16>;
using DecimalText = FixedString<24>;

// ---------------------------------------------------------------------------------- commands
struct NewOrder {
  AccountId account = 0;
  InstrumentId instrument = 0;
  ClientOrderId client_order_id;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  SelfTradePrevention stp = SelfTradePrevention::None;
  bool post_only = false;
  Price price = 0;
  Price stop_price = 0;
  Quantity quantity = 0;
  Quantity display_quantity = 0;  // iceberg slice; 0 displays everything
};

struct CancelOrder {
  AccountId account = 0;
  OrderId order_id = 0;
};

struct ReplaceOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  Price new_price = 0;        // 0 keeps the price
  Quantity new_quantity = 0;  // new total quantity, filled included; 0 keeps it
};

struct MassCancel {
  bool has_account = false;
  bool has_instrument = false;
  AccountId account = 0;
  InstrumentId instrument = 0;
};

struct InstrumentDefinition {
  InstrumentId id = 0;
  Symbol symbol;
  DecimalText tick_size;
  DecimalText lot_size;
  Quantity min_quantity = 0;
  Quantity max_quantity = 0;
  Price band_low = 0;
  Price band_high = 0;
  bool operator==(const InstrumentDefinition&) const = default;
};

struct EndTradingSession {
  bool has_instrument = false;
  InstrumentId instrument = 0;
};

enum class CommandType : uint8_t {
  NewOrder = 1,
  CancelOrder = 2,
  ReplaceOrder = 3,
  MassCancel = 4,
  DefineInstrument = 5,
  EndTradingSession = 6,
};

// One sequenced command: what the engine journals and applies.
struct Command {
  Sequence sequence = 0;
  TimestampNs timestamp = 0;
  CommandType type = CommandType::NewOrder;
  union {
    NewOrder new_order;
    CancelOrder cancel;
    ReplaceOrder replace;
    MassCancel mass_cancel;
    InstrumentDefinition define;
    EndTradingSession end_session;
  };
  // Zeroed whole (padding and the union's unused bytes too), so journal bytes are deterministic.
  Command() {
    std::memset(static_cast<void*>(this), 0, sizeof(Command));
    new (&new_order) NewOrder();
  }
};
static_assert(std::is_trivially_copyable_v<Command>, "commands are journaled as bytes");

// ------------------------------------------------------------------------------------ events
struct OrderAcceptedEvent {
  OrderId order_id;
  OrderStatus status;
  NewOrder order;
};
struct OrderRejectedEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  ClientOrderId client_order_id;
  RejectReason reason;
};
struct TradeEvent {
  TradeId trade_id;
  InstrumentId instrument;
  Price price;
  Quantity quantity;
  Side aggressor_side;
  OrderId maker_order_id;
  AccountId maker_account;
  Quantity maker_remaining;
  OrderId taker_order_id;
  AccountId taker_account;
  Quantity taker_remaining;
};
struct OrderCancelledEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  CancelReason reason;
  Quantity cancelled_quantity;
};
struct OrderReplacedEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Price price;
  Quantity quantity;
  Quantity remaining;
  bool priority_kept;
};
struct OrderExpiredEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Quantity expired_quantity;
};
struct StopTriggeredEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Price last_trade_price;
};
struct BookLevelChangedEvent {
  InstrumentId instrument;
  Side side;
  Price price;
  Quantity quantity;  // visible quantity now at the level; 0 when the level is gone
  uint32_t order_count;
};
struct InstrumentDefinedEvent {
  InstrumentDefinition definition;
};
struct TradingSessionEndedEvent {
  bool has_instrument;
  InstrumentId instrument;
  uint32_t expired_orders;
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
  EventType type;
  union {
    OrderAcceptedEvent accepted;
    OrderRejectedEvent rejected;
    TradeEvent trade;
    OrderCancelledEvent cancelled;
    OrderReplacedEvent replaced;
    OrderExpiredEvent expired;
    StopTriggeredEvent triggered;
    BookLevelChangedEvent level;
    InstrumentDefinedEvent defined;
    TradingSessionEndedEvent session_ended;
  };
  Event() : accepted() {}
};
static_assert(std::is_trivially_copyable_v<Event>);

// Field-wise equality and a readable rendering, for tests and the differential check.
bool operator==(const Event& a, const Event& b);
std::string describe(const Event& event);

}  // namespace hft::engine
