// The engine's vocabulary: ids, prices and quantities as integers, and the enums every command and
// event speaks. Values are plain and fixed-size so commands and events never touch the heap.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace hft::engine {

using Price = int64_t;          // ticks of the instrument
using Quantity = int64_t;       // lots of the instrument
using OrderId = uint64_t;       // assigned by the engine from its own counter; 0 is never an order
using AccountId = uint64_t;
using InstrumentId = uint32_t;  // 0 is never an instrument
using Sequence = uint64_t;      // engine sequence of a command, contiguous from 1
using TradeId = uint64_t;
using TimestampNs = int64_t;    // nanoseconds since the Unix epoch, assigned at sequencing

// The numeric values equal those of proto/hft/v1/types.proto, where 0 is UNSPECIFIED, so the
// gRPC adapter maps them by value.
enum class Side : uint8_t { Buy = 1, Sell = 2 };
enum class OrderType : uint8_t { Limit = 1, Market = 2, Stop = 3, StopLimit = 4 };
enum class TimeInForce : uint8_t { GTC = 1, IOC = 2, FOK = 3, DAY = 4 };
// The incoming (taking) order's mode decides what happens when it meets its own account.
enum class SelfTradePrevention : uint8_t { None = 0, CancelResting = 1, CancelIncoming = 2, CancelBoth = 3 };

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
  DuplicateOrderId = 15,  // reserved by the contract: the engine assigns ids, so it never occurs
  InvalidReplace = 16,
  InstrumentConflict = 17,
  MalformedCommand = 18,  // an enum out of range or an instrument definition that cannot work
};

enum class CancelReason : uint8_t {
  UserRequested = 1,
  IocRemainder = 2,
  MarketNoLiquidity = 3,
  SelfTradePrevention = 4,
  MassCancel = 5,
};

inline constexpr Side opposite(Side side) { return side == Side::Buy ? Side::Sell : Side::Buy; }

// True when `price` is at least as good as `other` for an order on `side` (higher for a buyer).
inline constexpr bool at_least_as_good(Side side, Price price, Price other) {
  return side == Side::Buy ? price >= other : price <= other;
}

std::string_view to_string(Side side);
std::string_view to_string(OrderType type);
std::string_view to_string(TimeInForce tif);
std::string_view to_string(SelfTradePrevention stp);
std::string_view to_string(RejectReason reason);
std::string_view to_string(CancelReason reason);

// An ASCII string stored inline with its length (client order ids, symbols, decimal strings).
// Bytes past the length stay zero, so equal strings are equal bytes.
template <size_t Capacity>
struct FixedString {
  static_assert(Capacity < 256, "the length is one byte");
  static constexpr size_t capacity = Capacity;

  uint8_t length = 0;
  char bytes[Capacity] = {};

  // Copies `text`; returns false and leaves the string unchanged when it does not fit.
  bool assign(std::string_view text) {
    if (text.size() > Capacity) return false;
    std::memset(bytes, 0, Capacity);
    std::memcpy(bytes, text.data(), text.size());
    length = static_cast<uint8_t>(text.size());
    return true;
  }
  static FixedString of(std::string_view text) {
    FixedString s;
    s.assign(text);
    return s;
  }
  std::string_view view() const { return {bytes, length}; }
  bool empty() const { return length == 0; }
  bool operator==(const FixedString& other) const { return view() == other.view(); }
};

using ClientOrderId = FixedString<40>;
using Symbol = FixedString<16>;
using DecimalText = FixedString<24>;

}  // namespace hft::engine
