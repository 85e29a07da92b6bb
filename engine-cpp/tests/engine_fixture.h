// Small helpers for scripted matching scenarios: one instrument at adjacent ticks, commands by
// name, and checks of the events and the depth after every step.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hft/engine/matching_engine.h"

namespace hft::engine::testing {

inline constexpr InstrumentId kInstrument = 1;
inline constexpr AccountId kAlice = 1;
inline constexpr AccountId kBob = 2;

inline InstrumentDefinition test_instrument(InstrumentId id = kInstrument, std::string_view symbol = "TEST") {
  InstrumentDefinition def;
  def.id = id;
  def.symbol.assign(symbol);
  def.tick_size.assign("0.01");
  def.lot_size.assign("1");
  def.min_quantity = 1;
  def.max_quantity = 1'000'000;
  def.band_low = 1;
  def.band_high = 1'000'000;
  return def;
}

struct OrderSpec {
  AccountId account = kAlice;
  Side side = Side::Buy;
  Price price = 100;
  Quantity quantity = 10;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  Quantity display = 0;
  Price stop = 0;
  bool post_only = false;
  SelfTradePrevention stp = SelfTradePrevention::None;
  InstrumentId instrument = kInstrument;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { define(test_instrument()); }

  std::vector<Event> run(Command command) {
    command.sequence = engine.last_sequence() + 1;
    command.timestamp = static_cast<TimestampNs>(command.sequence) * 1000;
    events.clear();
    engine.apply(command, events);
    const std::string problems = engine.validate_invariants();
    EXPECT_EQ(problems, "") << "after command " << command.sequence;
    return events;
  }
  std::vector<Event> define(const InstrumentDefinition& def) {
    Command c;
    c.type = CommandType::DefineInstrument;
    c.define = def;
    return run(c);
  }
  std::vector<Event> place(const OrderSpec& spec) {
    Command c;
    c.type = CommandType::NewOrder;
    NewOrder& o = c.new_order;
    o.account = spec.account;
    o.instrument = spec.instrument;
    o.client_order_id.assign("c" + std::to_string(engine.last_sequence() + 1));
    o.side = spec.side;
    o.type = spec.type;
    o.tif = spec.tif;
    o.stp = spec.stp;
    o.post_only = spec.post_only;
    o.price = (spec.type == OrderType::Market || spec.type == OrderType::Stop) ? 0 : spec.price;
    o.stop_price = spec.stop;
    o.quantity = spec.quantity;
    o.display_quantity = spec.display;
    return run(c);
  }
  // Places and returns the assigned order id (the id is assigned even when rejected).
  OrderId place_id(const OrderSpec& spec) {
    const OrderId id = engine.next_order_id();
    place(spec);
    return id;
  }
  std::vector<Event> cancel(OrderId id, AccountId account = kAlice) {
    Command c;
    c.type = CommandType::CancelOrder;
    c.cancel = {account, id};
    return run(c);
  }
  std::vector<Event> replace(OrderId id, Price price, Quantity quantity, AccountId account = kAlice) {
    Command c;
    c.type = CommandType::ReplaceOrder;
    c.replace = {account, id, price, quantity};
    return run(c);
  }

  std::vector<LevelView> bids() const { return engine.levels(kInstrument, Side::Buy); }
  std::vector<LevelView> asks() const { return engine.levels(kInstrument, Side::Sell); }

  template <typename Pred>
  std::vector<Event> of(EventType type, Pred pred) const {
    std::vector<Event> result;
    for (const Event& e : events)
      if (e.type == type && pred(e)) result.push_back(e);
    return result;
  }
  std::vector<Event> of(EventType type) const {
    return of(type, [](const Event&) { return true; });
  }
  std::vector<TradeEvent> trades() const {
    std::vector<TradeEvent> result;
    for (const Event& e : of(EventType::Trade)) result.push_back(e.trade);
    return result;
  }
  RejectReason rejection() const {
    auto rejected = of(EventType::OrderRejected);
    return rejected.empty() ? RejectReason::None : rejected.front().rejected.reason;
  }
  std::vector<std::pair<OrderId, CancelReason>> cancels() const {
    std::vector<std::pair<OrderId, CancelReason>> result;
    for (const Event& e : of(EventType::OrderCancelled)) result.emplace_back(e.cancelled.order_id, e.cancelled.reason);
    return result;
  }

  MatchingEngine engine;
  EventBuffer events;
};

}  // namespace hft::engine::testing
