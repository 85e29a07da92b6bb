// Self-trade prevention: the incoming order's mode decides, and fill-or-kill counts accordingly.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

TEST_F(EngineTest, SelfTradeCancelRestingThenTradesWithOthers) {
  const OrderId own = place_id({.side = Side::Sell, .price = 100, .quantity = 5});
  const OrderId bob = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 5, .stp = SelfTradePrevention::CancelResting});
  EXPECT_EQ(cancels(), (Cancels{{own, CancelReason::SelfTradePrevention}}));
  EXPECT_EQ(fills(), (Fills{{bob, 100, 5}}));
  EXPECT_TRUE(asks().empty());
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, SelfTradeCancelIncomingKeepsTheRestingOrder) {
  place({.account = kBob, .side = Side::Sell, .price = 99, .quantity = 2});
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  const OrderId incoming = place_id({.side = Side::Buy, .price = 100, .quantity = 5, .stp = SelfTradePrevention::CancelIncoming});
  EXPECT_EQ(trades().size(), 1u);  // with Bob at 99, then it meets its own order at 100
  EXPECT_EQ(cancels(), (Cancels{{incoming, CancelReason::SelfTradePrevention}}));
  EXPECT_EQ(of(EventType::OrderCancelled)[0].order_cancelled.cancelled_quantity, 3);
  EXPECT_EQ(asks(), (Levels{{100, 5, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, SelfTradeCancelBoth) {
  const OrderId resting = place_id({.side = Side::Sell, .price = 100, .quantity = 5});
  const OrderId incoming = place_id({.side = Side::Buy, .price = 100, .quantity = 8, .stp = SelfTradePrevention::CancelBoth});
  EXPECT_EQ(cancels(), (Cancels{{resting, CancelReason::SelfTradePrevention}, {incoming, CancelReason::SelfTradePrevention}}));
  EXPECT_TRUE(asks().empty());
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, SelfTradeAllowedWithoutPrevention) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 5});
  ASSERT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].maker_account, trades()[0].taker_account);
}

TEST_F(EngineTest, SelfTradeModeOfTheRestingOrderDoesNotMatter) {
  place({.side = Side::Sell, .price = 100, .quantity = 5, .stp = SelfTradePrevention::CancelBoth});
  place({.side = Side::Buy, .price = 100, .quantity = 5});
  EXPECT_EQ(trades().size(), 1u);
}

TEST_F(EngineTest, FokIgnoresOwnLiquidityUnderCancelResting) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 6, .tif = TimeInForce::FOK, .stp = SelfTradePrevention::CancelResting});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  place({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::FOK, .stp = SelfTradePrevention::CancelResting});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].maker_account, kBob);
}

TEST_F(EngineTest, FokStopsCountingAtOwnOrderUnderCancelIncoming) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 1, .tif = TimeInForce::FOK, .stp = SelfTradePrevention::CancelIncoming});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);  // matching would meet its own order first
  EXPECT_EQ(asks(), (Levels{{100, 10, 2}}));
}

TEST_F(EngineTest, FokCountsOnlyTheVisibleSliceAheadOfAnOwnOrder) {
  // Bob's iceberg shows 2 of 10; behind it waits Alice's own order. Matching would take Bob's
  // slice, send his next slice behind Alice's order, then meet Alice's order and stop.
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 2});
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 3, .tif = TimeInForce::FOK, .stp = SelfTradePrevention::CancelIncoming});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  place({.side = Side::Buy, .price = 100, .quantity = 2, .tif = TimeInForce::FOK, .stp = SelfTradePrevention::CancelBoth});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_TRUE(cancels().empty());
}

}  // namespace
}  // namespace hft::engine::testing
