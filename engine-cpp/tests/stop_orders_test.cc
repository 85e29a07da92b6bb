// Stop and stop-limit orders: waiting off the book, triggering on the last trade price, and
// cascades.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

class StopTest : public EngineTest {
 protected:
  // Bob and Carol trade `quantity` at `price`, which sets the last trade price (triggered stops
  // may move it again).
  void print_trade(Price price, Quantity quantity = 1) {
    place({.account = kBob, .side = Side::Buy, .price = price, .quantity = quantity});
    place({.account = kCarol, .side = Side::Sell, .price = price, .quantity = quantity});
    ASSERT_FALSE(trades().empty());
    ASSERT_EQ(trades()[0].price, price);
  }
  std::vector<OrderId> triggered() const {
    std::vector<OrderId> ids;
    for (const Event& e : of(EventType::StopTriggered)) ids.push_back(e.stop_triggered.order_id);
    return ids;
  }
};

TEST_F(StopTest, BuyStopWaitsThenTriggersAsMarket) {
  place({.account = kBob, .side = Side::Sell, .price = 105, .quantity = 10});
  const OrderId stop = place_id({.side = Side::Buy, .quantity = 3, .type = OrderType::Stop, .stop = 102});
  EXPECT_TRUE(of(EventType::OrderAccepted)[0].order_accepted.pending_trigger);
  EXPECT_EQ(of(EventType::BookLevelChanged).size(), 0u);  // not on the book
  EXPECT_EQ(engine.pending_stops(), 1u);
  print_trade(101);
  EXPECT_TRUE(triggered().empty());
  print_trade(102);
  EXPECT_EQ(triggered(), (std::vector<OrderId>{stop}));
  EXPECT_EQ(of(EventType::StopTriggered)[0].stop_triggered.last_trade_price, 102);
  ASSERT_EQ(trades().size(), 2u);
  EXPECT_EQ(trades()[1].taker_order_id, stop);
  EXPECT_EQ(trades()[1].price, 105);
  EXPECT_EQ(engine.pending_stops(), 0u);
  EXPECT_EQ(asks(), (Levels{{105, 7, 1}}));
}

TEST_F(StopTest, SellStopTriggersWhenThePriceFalls) {
  print_trade(100);
  place({.account = kBob, .side = Side::Buy, .price = 95, .quantity = 10});
  const OrderId stop = place_id({.side = Side::Sell, .quantity = 4, .type = OrderType::Stop, .stop = 98});
  print_trade(99);
  EXPECT_TRUE(triggered().empty());
  print_trade(98);
  EXPECT_EQ(triggered(), (std::vector<OrderId>{stop}));
  EXPECT_EQ(bids(), (Levels{{95, 6, 1}}));
}

TEST_F(StopTest, StopLimitTriggersIntoARestingLimit) {
  const OrderId stop = place_id({.side = Side::Sell, .price = 95, .quantity = 4, .type = OrderType::StopLimit, .stop = 98});
  print_trade(98);
  EXPECT_EQ(triggered(), (std::vector<OrderId>{stop}));
  EXPECT_EQ(asks(), (Levels{{95, 4, 1}}));
  EXPECT_EQ(queue(Side::Sell, 95), (std::vector<OrderId>{stop}));
  cancel(stop);  // once triggered and resting it is an ordinary order
  EXPECT_EQ(cancels(), (Cancels{{stop, CancelReason::UserRequested}}));
}

TEST_F(StopTest, TriggeredStopWithNothingToTakeIsCancelled) {
  const OrderId stop = place_id({.side = Side::Buy, .quantity = 3, .type = OrderType::Stop, .stop = 100});
  print_trade(100);
  EXPECT_EQ(cancels(), (Cancels{{stop, CancelReason::MarketNoLiquidity}}));
}

TEST_F(StopTest, StopCascadeTriggersInSequence) {
  // Bids at 100..97; sell stops at 100, 99 and 98 each knock the price down to the next bid.
  for (Price p : {100, 99, 98, 97}) place({.account = kBob, .side = Side::Buy, .price = p, .quantity = 1});
  const OrderId s1 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 100});
  const OrderId s2 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 99});
  const OrderId s3 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 98});
  place({.account = kCarol, .side = Side::Sell, .price = 100, .quantity = 1});
  EXPECT_EQ(triggered(), (std::vector<OrderId>{s1, s2, s3}));
  ASSERT_EQ(trades().size(), 4u);
  EXPECT_EQ(trades()[1].taker_order_id, s1);
  EXPECT_EQ(trades()[1].price, 99);
  EXPECT_EQ(trades()[3].price, 97);
  EXPECT_TRUE(bids().empty());
}

TEST_F(StopTest, StopsTriggeredTogetherGoInAcceptanceOrder) {
  place({.account = kBob, .side = Side::Sell, .price = 110, .quantity = 100});
  const OrderId later_price = place_id({.side = Side::Buy, .quantity = 1, .type = OrderType::Stop, .stop = 101});
  const OrderId first = place_id({.side = Side::Buy, .quantity = 1, .type = OrderType::Stop, .stop = 103});
  const OrderId second = place_id({.side = Side::Buy, .quantity = 1, .type = OrderType::Stop, .stop = 102});
  print_trade(105);
  EXPECT_EQ(triggered(), (std::vector<OrderId>{later_price, first, second}));
}

TEST_F(StopTest, TriggeredStopStaysTriggeredWhenThePriceMovesBack) {
  place({.account = kBob, .side = Side::Buy, .price = 95, .quantity = 1});
  place({.account = kBob, .side = Side::Sell, .price = 105, .quantity = 1});
  const OrderId buy_stop = place_id({.side = Side::Buy, .quantity = 1, .type = OrderType::Stop, .stop = 100});
  const OrderId sell_stop = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 100});
  print_trade(100);  // reaches both; the buy stop goes first and lifts the price to 105
  EXPECT_EQ(triggered(), (std::vector<OrderId>{buy_stop, sell_stop}));
  for (const Event& e : of(EventType::StopTriggered)) EXPECT_EQ(e.stop_triggered.last_trade_price, 100);
  ASSERT_EQ(trades().size(), 3u);
  EXPECT_EQ(trades()[1].taker_order_id, buy_stop);
  EXPECT_EQ(trades()[1].price, 105);
  EXPECT_EQ(trades()[2].taker_order_id, sell_stop);  // triggered at 100, it still sells after the move to 105
  EXPECT_EQ(trades()[2].price, 95);
}

TEST_F(StopTest, StopAlreadyReachedTriggersOnArrival) {
  place({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 2});
  place({.account = kCarol, .side = Side::Sell, .price = 100, .quantity = 1});
  const OrderId stop = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 101});
  EXPECT_EQ(events[0].type, EventType::OrderAccepted);
  EXPECT_EQ(triggered(), (std::vector<OrderId>{stop}));
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_TRUE(bids().empty());
}

TEST_F(StopTest, CancelledStopNeverTriggers) {
  place({.account = kBob, .side = Side::Sell, .price = 110, .quantity = 10});
  const OrderId stop = place_id({.side = Side::Buy, .quantity = 1, .type = OrderType::Stop, .stop = 101});
  cancel(stop);
  EXPECT_EQ(cancels(), (Cancels{{stop, CancelReason::UserRequested}}));
  EXPECT_EQ(of(EventType::OrderCancelled)[0].order_cancelled.cancelled_quantity, 1);
  print_trade(105);
  EXPECT_TRUE(triggered().empty());
}

TEST(StopCascade, DeepCascadeRunsWithoutRecursion) {
  // 100,000 bids one tick apart and a sell stop at each but the lowest: one trade at the top
  // unwinds them all. A recursive cascade would need a stack frame per stop.
  constexpr Price kDepth = 100'000;
  MatchingEngine engine;
  Sequence sequence = 0;
  auto apply = [&](Command c) {
    c.sequence = ++sequence;
    engine.apply(c);
  };
  apply(test_instrument());
  engine.events().clear();
  for (Price price = 1; price <= kDepth; ++price) apply(new_order({.account = kBob, .side = Side::Buy, .price = price, .quantity = 1}));
  for (Price stop = 2; stop <= kDepth; ++stop)
    apply(new_order({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = stop}));
  engine.events().clear();
  apply(new_order({.account = kCarol, .side = Side::Sell, .price = kDepth, .quantity = 1}));
  size_t triggered = 0, trades = 0;
  for (const Event& e : engine.events()) {
    triggered += e.type == EventType::StopTriggered;
    trades += e.type == EventType::Trade;
  }
  EXPECT_EQ(triggered, static_cast<size_t>(kDepth - 1));
  EXPECT_EQ(trades, static_cast<size_t>(kDepth));
  EXPECT_TRUE(engine.levels(kInstrument, Side::Buy).empty());
  EXPECT_EQ(engine.pending_stops(), 0u);
  EXPECT_EQ(engine.validate_invariants(), "");
}

TEST(StopCascade, ManyStopsAtOnePriceRunInAcceptanceOrder) {
  // 20,000 sell stops at 100 are reached by one trade; they run one by one, earliest first,
  // each selling into its own resting bid.
  constexpr int kStops = 20'000;
  MatchingEngine engine;
  Sequence sequence = 0;
  auto apply = [&](Command c) {
    c.sequence = ++sequence;
    engine.apply(c);
  };
  apply(test_instrument());
  std::vector<OrderId> stops;
  for (int i = 0; i < kStops; ++i) {
    stops.push_back(engine.next_order_id());
    apply(new_order({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 100}));
  }
  apply(new_order({.account = kBob, .side = Side::Buy, .price = 100, .quantity = kStops + 1}));
  engine.events().clear();
  apply(new_order({.account = kCarol, .side = Side::Sell, .price = 100, .quantity = 1}));
  std::vector<OrderId> triggered;
  for (const Event& e : engine.events())
    if (e.type == EventType::StopTriggered) triggered.push_back(e.stop_triggered.order_id);
  EXPECT_EQ(triggered, stops);
  EXPECT_TRUE(engine.levels(kInstrument, Side::Buy).empty());
  EXPECT_EQ(engine.validate_invariants(), "");
}

}  // namespace
}  // namespace hft::engine::testing
