// Tiny helpers for scripted matching scenarios: one instrument at adjacent ticks, commands by
// name, the events of the last command, and the depth, checked after every step.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "hft/engine/matching_engine.h"

namespace hft::engine::testing {

inline constexpr InstrumentId kInstrument = 1;
inline constexpr AccountId kAlice = 1;
inline constexpr AccountId kBob = 2;
inline constexpr AccountId kCarol = 3;

inline DefineInstrument test_instrument(InstrumentId id = kInstrument, std::string_view symbol = "TEST") {
  DefineInstrument d;
  d.id = id;
  d.symbol.assign(symbol);
  d.tick_size.assign("0.01");
  d.lot_size.assign("1");
  d.min_quantity = 1;
  d.max_quantity = 1'000'000;
  d.band_low = 1;
  d.band_high = 1'000'000;
  return d;
}

struct OrderSpec {
  AccountId account = kAlice;
  Side side = Side::Buy;
  Price price = 100;
  Quantity quantity = 10;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GTC;
  Quantity display = 0;
  Price stop = 0;
  bool post_only = false;
  SelfTradePrevention stp = SelfTradePrevention::None;
  InstrumentId instrument = kInstrument;
};

inline NewOrder new_order(const OrderSpec& spec, std::string_view client_order_id = "c") {
  NewOrder o;
  o.account = spec.account;
  o.instrument = spec.instrument;
  o.client_order_id.assign(client_order_id);
  o.side = spec.side;
  o.type = spec.type;
  o.tif = spec.tif;
  o.price = is_market(spec.type) ? 0 : spec.price;
  o.stop_price = spec.stop;
  o.quantity = spec.quantity;
  o.display_quantity = spec.display;
  o.post_only = spec.post_only;
  o.stp = spec.stp;
  return o;
}

using Cancels = std::vector<std::pair<OrderId, CancelReason>>;
using Levels = std::vector<LevelView>;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { define(test_instrument()); }

  // Applies the command at the next sequence; keeps its events and checks the invariants.
  const std::vector<Event>& run(Command command) {
    command.sequence = engine.last_sequence() + 1;
    command.timestamp = static_cast<TimestampNs>(command.sequence) * 1000;
    engine.apply(command);
    events.assign(engine.events().begin(), engine.events().end());
    engine.events().clear();
    EXPECT_EQ(engine.validate_invariants(), "") << "after command " << command.sequence;
    return events;
  }
  const std::vector<Event>& define(const DefineInstrument& definition) { return run(Command(definition)); }
  const std::vector<Event>& place(const OrderSpec& spec) { return run(Command(new_order(spec, "c" + std::to_string(engine.last_sequence() + 1)))); }
  // Places an order and returns the id it was assigned (rejected orders get one too).
  OrderId place_id(const OrderSpec& spec) {
    const OrderId id = engine.next_order_id();
    place(spec);
    return id;
  }
  const std::vector<Event>& cancel(OrderId id, AccountId account = kAlice) { return run(Command(CancelOrder{account, id})); }
  const std::vector<Event>& replace(OrderId id, Price price, Quantity quantity, AccountId account = kAlice) {
    return run(Command(ReplaceOrder{account, id, price, quantity}));
  }
  const std::vector<Event>& mass_cancel(std::optional<AccountId> account, std::optional<InstrumentId> instrument) {
    return run(Command(MassCancel{account, instrument}));
  }
  const std::vector<Event>& end_session(std::optional<InstrumentId> instrument = std::nullopt) { return run(Command(EndTradingSession{instrument})); }

  Levels bids(InstrumentId id = kInstrument) const { return engine.levels(id, Side::Buy); }
  Levels asks(InstrumentId id = kInstrument) const { return engine.levels(id, Side::Sell); }
  // Order ids queued at one price, oldest first.
  std::vector<OrderId> queue(Side side, Price price) const {
    std::vector<OrderId> ids;
    for (const Order* o : engine.level_orders(kInstrument, side, price)) ids.push_back(o->id);
    return ids;
  }

  std::vector<Event> of(EventType type) const {
    std::vector<Event> result;
    for (const Event& e : events)
      if (e.type == type) result.push_back(e);
    return result;
  }
  std::vector<Trade> trades() const {
    std::vector<Trade> result;
    for (const Event& e : of(EventType::Trade)) result.push_back(e.trade);
    return result;
  }
  Cancels cancels() const {
    Cancels result;
    for (const Event& e : of(EventType::OrderCancelled)) result.emplace_back(e.order_cancelled.order_id, e.order_cancelled.reason);
    return result;
  }
  RejectReason rejection() const {
    const auto rejected = of(EventType::OrderRejected);
    return rejected.empty() ? RejectReason::None : rejected.front().order_rejected.reason;
  }
  // Fills as (maker order, price, quantity).
  std::vector<std::tuple<OrderId, Price, Quantity>> fills() const {
    std::vector<std::tuple<OrderId, Price, Quantity>> result;
    for (const Trade& t : trades()) result.emplace_back(t.maker_order_id, t.price, t.quantity);
    return result;
  }

  MatchingEngine engine;
  std::vector<Event> events;
};

using Fills = std::vector<std::tuple<OrderId, Price, Quantity>>;

}  // namespace hft::engine::testing
