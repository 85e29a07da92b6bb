// Commands: what the engine is asked to do. Plain fixed-size structs; a Command is one of them
// with the sequence and timestamp the sequencer assigned. The journal stores commands, so a
// command's meaning never depends on anything but its fields and the engine's state.
#pragma once

#include <optional>
#include <type_traits>

#include "hft/engine/types.h"

namespace hft::engine {

struct NewOrder {
  AccountId account = 0;
  InstrumentId instrument = 0;
  ClientOrderId client_order_id;  // echoed in events, never interpreted
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GTC;
  Price price = 0;             // limit price; 0 on market and stop orders
  Price stop_price = 0;        // trigger price of stop and stop-limit orders; 0 otherwise
  Quantity quantity = 0;
  Quantity display_quantity = 0;  // iceberg slice; 0 displays the whole quantity
  bool post_only = false;
  SelfTradePrevention stp = SelfTradePrevention::None;
  bool operator==(const NewOrder&) const = default;
};

struct CancelOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  bool operator==(const CancelOrder&) const = default;
};

struct ReplaceOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  Price new_price = 0;        // 0 keeps the price
  Quantity new_quantity = 0;  // new total quantity, filled part included; 0 keeps it
  bool operator==(const ReplaceOrder&) const = default;
};

// Cancels every open order (stops included) that matches both filters; no filter matches all.
struct MassCancel {
  std::optional<AccountId> account;
  std::optional<InstrumentId> instrument;
  bool operator==(const MassCancel&) const = default;
};

// Creates a book, or updates the limits of an existing one (resting orders stay).
struct DefineInstrument {
  InstrumentId id = 0;
  Symbol symbol;
  DecimalText tick_size;  // informational: prices are already in ticks
  DecimalText lot_size;   // informational: quantities are already in lots
  Quantity min_quantity = 0;
  Quantity max_quantity = 0;
  Price band_low = 0;   // accepted limit and stop prices: [band_low, band_high]
  Price band_high = 0;
  bool operator==(const DefineInstrument&) const = default;
};

// Expires the DAY orders of one instrument, or of all.
struct EndTradingSession {
  std::optional<InstrumentId> instrument;
  bool operator==(const EndTradingSession&) const = default;
};

enum class CommandType : uint8_t {
  NewOrder = 1,
  CancelOrder = 2,
  ReplaceOrder = 3,
  MassCancel = 4,
  DefineInstrument = 5,
  EndTradingSession = 6,
};

// One sequenced command: a tagged union of the bodies above.
struct Command {
  Sequence sequence = 0;
  TimestampNs timestamp = 0;
  CommandType type;
  union {
    NewOrder new_order;
    CancelOrder cancel_order;
    ReplaceOrder replace_order;
    MassCancel mass_cancel;
    DefineInstrument define_instrument;
    EndTradingSession end_trading_session;
  };

  Command() : type(CommandType::NewOrder), new_order() {}
  Command(const NewOrder& body) : type(CommandType::NewOrder), new_order(body) {}
  Command(const CancelOrder& body) : type(CommandType::CancelOrder), cancel_order(body) {}
  Command(const ReplaceOrder& body) : type(CommandType::ReplaceOrder), replace_order(body) {}
  Command(const MassCancel& body) : type(CommandType::MassCancel), mass_cancel(body) {}
  Command(const DefineInstrument& body) : type(CommandType::DefineInstrument), define_instrument(body) {}
  Command(const EndTradingSession& body) : type(CommandType::EndTradingSession), end_trading_session(body) {}
};
// Same sequence, timestamp, type and body.
bool operator==(const Command& a, const Command& b);
static_assert(std::is_trivially_copyable_v<Command>, "commands are copied as values, never own memory");

inline constexpr bool is_stop(OrderType type) { return type == OrderType::Stop || type == OrderType::StopLimit; }
// Market and triggered stop orders take any price and never rest.
inline constexpr bool is_market(OrderType type) { return type == OrderType::Market || type == OrderType::Stop; }

}  // namespace hft::engine
