// Limit, market, IOC, FOK, post-only and iceberg orders, each step checked for fills and depth.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

TEST_F(EngineTest, LimitRestsAndReportsItsLevel) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::OrderAccepted);
  EXPECT_EQ(events[0].order_accepted.order_id, id);
  EXPECT_FALSE(events[0].order_accepted.pending_trigger);
  EXPECT_EQ(events[0].order_accepted.order.client_order_id.view(), "c2");
  EXPECT_EQ(events[1], Event(2, BookLevelChanged{kInstrument, Side::Buy, 100, 10, 1}));
  EXPECT_EQ(bids(), (Levels{{100, 10, 1}}));
  EXPECT_EQ(engine.order(id)->leaves, 10);
}

TEST_F(EngineTest, EveryEventCarriesTheCommandSequence) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 5});
  ASSERT_GE(events.size(), 3u);
  for (const Event& e : events) EXPECT_EQ(e.sequence, engine.last_sequence());
}

TEST_F(EngineTest, PriceTimePriorityAcrossAdjacentTicks) {
  const OrderId first = place_id({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 5});
  const OrderId second = place_id({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 5});
  const OrderId better = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  EXPECT_EQ(asks(), (Levels{{100, 5, 1}, {101, 10, 2}}));
  place({.side = Side::Buy, .price = 101, .quantity = 12});
  EXPECT_EQ(fills(), (Fills{{better, 100, 5}, {first, 101, 5}, {second, 101, 2}}));
  EXPECT_EQ(trades().back().maker_remaining, 3);
  EXPECT_EQ(trades().back().taker_remaining, 0);
  EXPECT_EQ(trades().back().aggressor_side, Side::Buy);
  EXPECT_EQ(asks(), (Levels{{101, 3, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, TradesAtTheRestingPrice) {
  place({.account = kBob, .side = Side::Buy, .price = 101, .quantity = 3});
  place({.side = Side::Sell, .price = 99, .quantity = 3});
  ASSERT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].price, 101);
  EXPECT_EQ(trades()[0].aggressor_side, Side::Sell);
}

TEST_F(EngineTest, LimitRemainderRestsAfterPartialFill) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.side = Side::Buy, .price = 101, .quantity = 10});
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(bids(), (Levels{{101, 6, 1}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, LimitDoesNotTradeThroughItsPrice) {
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 4});
  place({.side = Side::Buy, .price = 100, .quantity = 10});
  EXPECT_TRUE(trades().empty());
  EXPECT_EQ(bids(), (Levels{{100, 10, 1}}));
  EXPECT_EQ(asks(), (Levels{{101, 4, 1}}));
}

TEST_F(EngineTest, IocBuyPartialFill) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 4});
  const OrderId ioc = place_id({.side = Side::Buy, .price = 100, .quantity = 10, .tif = TimeInForce::IOC});
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(cancels(), (Cancels{{ioc, CancelReason::IocRemainder}}));
  EXPECT_EQ(of(EventType::OrderCancelled)[0].order_cancelled.cancelled_quantity, 6);
  EXPECT_TRUE(bids().empty());
  EXPECT_EQ(asks(), (Levels{{101, 4, 1}}));
  EXPECT_EQ(engine.order(ioc), nullptr);
}

TEST_F(EngineTest, IocSellWithNothingToTakeCancelsEverything) {
  const OrderId ioc = place_id({.side = Side::Sell, .price = 100, .quantity = 3, .tif = TimeInForce::IOC});
  EXPECT_EQ(cancels(), (Cancels{{ioc, CancelReason::IocRemainder}}));
  EXPECT_TRUE(asks().empty());
  EXPECT_EQ(of(EventType::BookLevelChanged).size(), 0u);
}

TEST_F(EngineTest, FokRejectedBeforeAnyFillWhenTheBookIsShort) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 10});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .tif = TimeInForce::FOK});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  EXPECT_TRUE(trades().empty());
  EXPECT_EQ(asks(), (Levels{{100, 4, 1}, {102, 10, 1}}));
}

TEST_F(EngineTest, FokFillsCompletelyAcrossLevels) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 10});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .tif = TimeInForce::FOK});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 2u);
  EXPECT_TRUE(cancels().empty());
  EXPECT_EQ(asks(), (Levels{{101, 9, 1}}));
}

TEST_F(EngineTest, FokCountsHiddenIcebergQuantity) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 2});
  place({.side = Side::Buy, .price = 100, .quantity = 9, .tif = TimeInForce::FOK});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 5u);  // 2 + 2 + 2 + 2 + 1
  EXPECT_EQ(asks(), (Levels{{100, 1, 1}}));
}

TEST_F(EngineTest, MarketBuyTakesWhatIsThereAndCancelsTheRest) {
  const OrderId a = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 3});
  const OrderId b = place_id({.account = kBob, .side = Side::Sell, .price = 105, .quantity = 3});
  const OrderId market = place_id({.side = Side::Buy, .quantity = 10, .type = OrderType::Market, .tif = TimeInForce::IOC});
  EXPECT_EQ(fills(), (Fills{{a, 100, 3}, {b, 105, 3}}));
  EXPECT_EQ(cancels(), (Cancels{{market, CancelReason::MarketNoLiquidity}}));
  EXPECT_EQ(of(EventType::OrderCancelled)[0].order_cancelled.cancelled_quantity, 4);
  EXPECT_TRUE(asks().empty());
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, MarketSellOnAnEmptyBookIsCancelledNotRested) {
  const OrderId market = place_id({.side = Side::Sell, .quantity = 10, .type = OrderType::Market, .tif = TimeInForce::IOC});
  EXPECT_EQ(cancels(), (Cancels{{market, CancelReason::MarketNoLiquidity}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, MarketFokFillsOnlyCompletely) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 3});
  place({.account = kBob, .side = Side::Sell, .price = 110, .quantity = 3});
  place({.side = Side::Buy, .quantity = 7, .type = OrderType::Market, .tif = TimeInForce::FOK});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  place({.side = Side::Buy, .quantity = 6, .type = OrderType::Market, .tif = TimeInForce::FOK});
  EXPECT_EQ(trades().size(), 2u);
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, PostOnlyRejectedIfItWouldTake) {
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 3});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .post_only = true});
  EXPECT_EQ(rejection(), RejectReason::PostOnlyWouldTake);
  EXPECT_TRUE(trades().empty());
  place({.side = Side::Buy, .price = 100, .quantity = 5, .post_only = true});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(bids(), (Levels{{100, 5, 1}}));
  EXPECT_EQ(asks(), (Levels{{101, 3, 1}}));
}

TEST_F(EngineTest, DayOrderRestsLikeGtc) {
  place({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::DAY});
  EXPECT_EQ(bids(), (Levels{{100, 5, 1}}));
}

TEST_F(EngineTest, IcebergShowsOnlyItsSlice) {
  const OrderId iceberg = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  EXPECT_EQ(asks(), (Levels{{100, 3, 1}}));
  EXPECT_EQ(of(EventType::BookLevelChanged)[0].book_level_changed.quantity, 3);
  EXPECT_EQ(engine.order(iceberg)->leaves, 10);
}

TEST_F(EngineTest, IcebergRefreshLosesPriority) {
  const OrderId iceberg = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  const OrderId plain = place_id({.account = kCarol, .side = Side::Sell, .price = 100, .quantity = 2});
  EXPECT_EQ(asks(), (Levels{{100, 5, 2}}));
  place({.side = Side::Buy, .price = 100, .quantity = 4});
  EXPECT_EQ(fills(), (Fills{{iceberg, 100, 3}, {plain, 100, 1}}));  // the fresh slice queued behind the plain order
  EXPECT_EQ(queue(Side::Sell, 100), (std::vector<OrderId>{plain, iceberg}));
  EXPECT_EQ(engine.order(iceberg)->visible, 3);
  EXPECT_EQ(engine.order(iceberg)->leaves, 7);
  EXPECT_EQ(asks(), (Levels{{100, 4, 2}}));
}

TEST_F(EngineTest, IcebergFillsThroughSeveralSlicesInOneSweep) {
  const OrderId iceberg = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  place({.side = Side::Buy, .price = 100, .quantity = 10});
  EXPECT_EQ(fills(), (Fills{{iceberg, 100, 3}, {iceberg, 100, 3}, {iceberg, 100, 3}, {iceberg, 100, 1}}));
  EXPECT_TRUE(asks().empty());
  EXPECT_EQ(engine.order(iceberg), nullptr);
}

TEST_F(EngineTest, IcebergLastSliceShowsOnlyWhatIsLeft) {
  const OrderId iceberg = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 7, .display = 3});
  place({.side = Side::Buy, .price = 100, .quantity = 6});
  EXPECT_EQ(asks(), (Levels{{100, 1, 1}}));
  EXPECT_EQ(engine.order(iceberg)->visible, 1);
}

TEST_F(EngineTest, IcebergRemainderOfAnAggressorRestsAsASlice) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 2});
  place({.side = Side::Buy, .price = 100, .quantity = 10, .display = 4});
  EXPECT_EQ(bids(), (Levels{{100, 4, 1}}));
}

}  // namespace
}  // namespace hft::engine::testing
