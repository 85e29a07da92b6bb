#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

using L = LevelView;

TEST_F(EngineTest, LimitRestsAndReportsLevel) {
  place({.side = Side::Buy, .price = 100, .quantity = 10});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::OrderAccepted);
  EXPECT_EQ(events[0].accepted.status, OrderStatus::New);
  EXPECT_EQ(events[1].type, EventType::BookLevelChanged);
  EXPECT_EQ(events[1].level.quantity, 10);
  EXPECT_EQ(bids(), (std::vector<L>{{100, 10, 1}}));
}

TEST_F(EngineTest, PriceTimePriorityAcrossAdjacentTicks) {
  const OrderId first = place_id({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 5});
  const OrderId second = place_id({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 5});
  const OrderId better = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 101, .quantity = 12});
  auto t = trades();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].maker_order_id, better);
  EXPECT_EQ(t[0].price, 100);
  EXPECT_EQ(t[1].maker_order_id, first);
  EXPECT_EQ(t[1].price, 101);
  EXPECT_EQ(t[2].maker_order_id, second);
  EXPECT_EQ(t[2].quantity, 2);
  EXPECT_EQ(t[2].maker_remaining, 3);
  EXPECT_EQ(t[2].taker_remaining, 0);
  EXPECT_EQ(asks(), (std::vector<L>{{101, 3, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, LimitRemainderRestsAfterPartialFill) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.side = Side::Buy, .price = 101, .quantity = 10});
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(bids(), (std::vector<L>{{101, 6, 1}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, IocBuyPartialFill) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  const OrderId ioc = place_id({.side = Side::Buy, .price = 100, .quantity = 10, .tif = TimeInForce::Ioc});
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{ioc, CancelReason::IocRemainder}}));
  EXPECT_EQ(of(EventType::OrderCancelled)[0].cancelled.cancelled_quantity, 6);
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, FokRejectedBeforeAnyFillWhenBookIsShort) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 10});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .tif = TimeInForce::Fok});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  EXPECT_TRUE(trades().empty());
  EXPECT_EQ(asks(), (std::vector<L>{{100, 4, 1}, {102, 10, 1}}));
}

TEST_F(EngineTest, FokFillsCompletelyAcrossLevels) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 10});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .tif = TimeInForce::Fok});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 2u);
  EXPECT_EQ(asks(), (std::vector<L>{{101, 9, 1}}));
}

TEST_F(EngineTest, FokDoesNotCountOwnLiquidityUnderSelfTradePrevention) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 8, .tif = TimeInForce::Fok, .stp = SelfTradePrevention::CancelIncoming});
  EXPECT_EQ(rejection(), RejectReason::FokCannotFill);
  place({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::Fok, .stp = SelfTradePrevention::CancelResting});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].maker_account, kBob);
}

TEST_F(EngineTest, MarketOrderTakesWhatIsThereAndCancelsTheRest) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 3});
  place({.account = kBob, .side = Side::Sell, .price = 105, .quantity = 3});
  const OrderId market = place_id({.side = Side::Buy, .quantity = 10, .type = OrderType::Market, .tif = TimeInForce::Ioc});
  EXPECT_EQ(trades().size(), 2u);
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{market, CancelReason::MarketNoLiquidity}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, MarketOrderOnEmptyBookIsCancelledNotRested) {
  place({.side = Side::Sell, .quantity = 10, .type = OrderType::Market, .tif = TimeInForce::Ioc});
  EXPECT_EQ(cancels().size(), 1u);
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, PostOnlyRejectedIfItWouldTake) {
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 3});
  place({.side = Side::Buy, .price = 101, .quantity = 5, .post_only = true});
  EXPECT_EQ(rejection(), RejectReason::PostOnlyWouldTake);
  place({.side = Side::Buy, .price = 100, .quantity = 5, .post_only = true});
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(bids(), (std::vector<L>{{100, 5, 1}}));
}

TEST_F(EngineTest, IcebergShowsOnlyItsSliceAndRefreshesWithNewPriority) {
  const OrderId iceberg = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  const OrderId plain = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 2});
  EXPECT_EQ(asks(), (std::vector<L>{{100, 5, 2}}));
  place({.side = Side::Buy, .price = 100, .quantity = 4});
  auto t = trades();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].maker_order_id, iceberg);
  EXPECT_EQ(t[0].quantity, 3);
  EXPECT_EQ(t[1].maker_order_id, plain);  // the refreshed slice went behind the plain order
  EXPECT_EQ(t[1].quantity, 1);
  auto queue = engine.level_orders(kInstrument, Side::Sell, 100);
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0]->id, plain);
  EXPECT_EQ(queue[1]->id, iceberg);
  EXPECT_EQ(queue[1]->visible, 3);
  EXPECT_EQ(queue[1]->leaves, 7);
  EXPECT_EQ(asks(), (std::vector<L>{{100, 4, 2}}));
}

TEST_F(EngineTest, IcebergFillsThroughSeveralSlicesInOneSweep) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  place({.side = Side::Buy, .price = 100, .quantity = 10});
  EXPECT_EQ(trades().size(), 4u);  // 3 + 3 + 3 + 1
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, CancelRemovesOrderAndReportsQuantity) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  cancel(id);
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{id, CancelReason::UserRequested}}));
  EXPECT_TRUE(bids().empty());
  cancel(id);
  EXPECT_EQ(rejection(), RejectReason::UnknownOrder);
}

TEST_F(EngineTest, CancelByAnotherAccountIsRefused) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  cancel(id, kBob);
  EXPECT_EQ(rejection(), RejectReason::NotOrderOwner);
  EXPECT_EQ(bids(), (std::vector<L>{{100, 10, 1}}));
}

TEST_F(EngineTest, ReplaceQuantityDownKeepsPriority) {
  const OrderId first = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  const OrderId second = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 10});
  replace(first, 0, 4);
  ASSERT_EQ(of(EventType::OrderReplaced).size(), 1u);
  EXPECT_TRUE(of(EventType::OrderReplaced)[0].replaced.priority_kept);
  auto queue = engine.level_orders(kInstrument, Side::Buy, 100);
  EXPECT_EQ(queue[0]->id, first);
  EXPECT_EQ(queue[1]->id, second);
  EXPECT_EQ(bids(), (std::vector<L>{{100, 14, 2}}));
}

TEST_F(EngineTest, ReplaceQuantityUpLosesPriority) {
  const OrderId first = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  const OrderId second = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 10});
  replace(first, 0, 12);
  EXPECT_FALSE(of(EventType::OrderReplaced)[0].replaced.priority_kept);
  auto queue = engine.level_orders(kInstrument, Side::Buy, 100);
  EXPECT_EQ(queue[0]->id, second);
  EXPECT_EQ(queue[1]->id, first);
}

TEST_F(EngineTest, ReplacePriceChangeLosesPriorityAndCanTrade) {
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 5});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 102, 0);
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(bids(), (std::vector<L>{{102, 5, 1}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, ReplaceBelowFilledQuantityIsRefused) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 6});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 0, 6);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);
  replace(id, 0, 7);
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(engine.order(id)->leaves, 1);
}

TEST_F(EngineTest, SelfTradeCancelResting) {
  const OrderId resting = place_id({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 5, .stp = SelfTradePrevention::CancelResting});
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{resting, CancelReason::SelfTradePrevention}}));
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].maker_account, kBob);
}

TEST_F(EngineTest, SelfTradeCancelIncoming) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  const OrderId incoming = place_id({.side = Side::Buy, .price = 100, .quantity = 5, .stp = SelfTradePrevention::CancelIncoming});
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{incoming, CancelReason::SelfTradePrevention}}));
  EXPECT_TRUE(trades().empty());
  EXPECT_EQ(asks(), (std::vector<L>{{100, 5, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, SelfTradeCancelBoth) {
  const OrderId resting = place_id({.side = Side::Sell, .price = 100, .quantity = 5});
  const OrderId incoming = place_id({.side = Side::Buy, .price = 100, .quantity = 8, .stp = SelfTradePrevention::CancelBoth});
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{resting, CancelReason::SelfTradePrevention},
                                                                       {incoming, CancelReason::SelfTradePrevention}}));
  EXPECT_TRUE(asks().empty());
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, SelfTradeAllowedWithoutPrevention) {
  place({.side = Side::Sell, .price = 100, .quantity = 5});
  place({.side = Side::Buy, .price = 100, .quantity = 5});
  EXPECT_EQ(trades().size(), 1u);
}

TEST_F(EngineTest, StopWaitsThenTriggersOnLastTradeAsMarket) {
  place({.account = kBob, .side = Side::Sell, .price = 105, .quantity = 10});
  const OrderId stop = place_id({.side = Side::Buy, .quantity = 3, .type = OrderType::Stop, .stop = 102});
  EXPECT_EQ(of(EventType::OrderAccepted)[0].accepted.status, OrderStatus::PendingTrigger);
  EXPECT_EQ(engine.pending_stops(), 1u);
  place({.account = kBob, .side = Side::Buy, .price = 101, .quantity = 1});
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 1});  // trade at 101: below the stop
  EXPECT_EQ(of(EventType::StopTriggered).size(), 0u);
  place({.account = kBob, .side = Side::Buy, .price = 102, .quantity = 1});
  place({.account = 3, .side = Side::Sell, .price = 102, .quantity = 1});  // trade at 102 triggers
  ASSERT_EQ(of(EventType::StopTriggered).size(), 1u);
  EXPECT_EQ(of(EventType::StopTriggered)[0].triggered.order_id, stop);
  auto t = trades();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].taker_order_id, stop);
  EXPECT_EQ(t[1].price, 105);
  EXPECT_EQ(engine.pending_stops(), 0u);
}

TEST_F(EngineTest, StopLimitTriggersIntoARestingLimit) {
  const OrderId stop = place_id({.side = Side::Sell, .price = 95, .quantity = 4, .type = OrderType::StopLimit, .stop = 98});
  place({.account = kBob, .side = Side::Buy, .price = 98, .quantity = 1});
  place({.account = 3, .side = Side::Sell, .price = 98, .quantity = 1});
  ASSERT_EQ(of(EventType::StopTriggered).size(), 1u);
  EXPECT_EQ(asks(), (std::vector<L>{{95, 4, 1}}));
  EXPECT_EQ(engine.level_orders(kInstrument, Side::Sell, 95)[0]->id, stop);
}

TEST_F(EngineTest, StopCascadeTriggersInSequence) {
  // Bids at 99, 98, 97; sell stops at 99 and 98 each knock the price down to the next.
  place({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 1});
  place({.account = kBob, .side = Side::Buy, .price = 99, .quantity = 1});
  place({.account = kBob, .side = Side::Buy, .price = 98, .quantity = 1});
  place({.account = kBob, .side = Side::Buy, .price = 97, .quantity = 1});
  const OrderId s1 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 100});
  const OrderId s2 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 99});
  const OrderId s3 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 98});
  place({.account = 3, .side = Side::Sell, .price = 100, .quantity = 1});
  auto triggered = of(EventType::StopTriggered);
  ASSERT_EQ(triggered.size(), 3u);
  EXPECT_EQ(triggered[0].triggered.order_id, s1);
  EXPECT_EQ(triggered[1].triggered.order_id, s2);
  EXPECT_EQ(triggered[2].triggered.order_id, s3);
  auto t = trades();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[3].price, 97);
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, StopAlreadyReachedTriggersOnArrival) {
  place({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 2});
  place({.account = 3, .side = Side::Sell, .price = 100, .quantity = 1});
  place({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 101});
  EXPECT_EQ(of(EventType::StopTriggered).size(), 1u);
  EXPECT_EQ(trades().size(), 1u);
}

TEST_F(EngineTest, MassCancelByAccountAndInstrument) {
  define(test_instrument(2, "OTHER"));
  const OrderId a1 = place_id({.side = Side::Buy, .price = 100, .quantity = 1});
  place({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 1});
  const OrderId a2 = place_id({.side = Side::Sell, .price = 110, .quantity = 1, .instrument = 2});
  const OrderId a3 = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 90});
  Command c;
  c.type = CommandType::MassCancel;
  c.mass_cancel = {true, true, kAlice, kInstrument};
  run(c);
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{a1, CancelReason::MassCancel}, {a3, CancelReason::MassCancel}}));
  c.mass_cancel = {true, false, kAlice, 0};
  run(c);
  EXPECT_EQ(cancels(), (std::vector<std::pair<OrderId, CancelReason>>{{a2, CancelReason::MassCancel}}));
  EXPECT_EQ(bids(), (std::vector<L>{{100, 1, 1}}));
}

TEST_F(EngineTest, EndOfSessionExpiresDayOrdersOnly) {
  const OrderId day = place_id({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::Day});
  place({.side = Side::Buy, .price = 99, .quantity = 5, .tif = TimeInForce::Gtc});
  Command c;
  c.type = CommandType::EndTradingSession;
  run(c);
  auto expired = of(EventType::OrderExpired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].expired.order_id, day);
  EXPECT_EQ(of(EventType::TradingSessionEnded)[0].session_ended.expired_orders, 1u);
  EXPECT_EQ(bids(), (std::vector<L>{{99, 5, 1}}));
}

struct RejectCase {
  const char* name;
  OrderSpec spec;
  RejectReason reason;
};

class RejectionTest : public EngineTest, public ::testing::WithParamInterface<RejectCase> {};

TEST_P(RejectionTest, RejectsWithReason) {
  place(GetParam().spec);
  EXPECT_EQ(rejection(), GetParam().reason);
  EXPECT_EQ(of(EventType::OrderAccepted).size(), 0u);
  EXPECT_TRUE(bids().empty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryReason, RejectionTest,
    ::testing::Values(RejectCase{"UnknownInstrument", {.instrument = 9}, RejectReason::UnknownInstrument},
                      RejectCase{"ZeroPrice", {.price = 0}, RejectReason::InvalidPrice},
                      RejectCase{"PriceAboveBand", {.price = 1'000'001}, RejectReason::PriceOutOfBand},
                      RejectCase{"ZeroQuantity", {.quantity = 0}, RejectReason::InvalidQuantity},
                      RejectCase{"QuantityAboveMax", {.quantity = 1'000'001}, RejectReason::QuantityAboveMax},
                      RejectCase{"DisplayAboveQuantity", {.quantity = 5, .display = 6}, RejectReason::InvalidDisplayQuantity},
                      RejectCase{"StopWithoutStopPrice", {.type = OrderType::Stop}, RejectReason::InvalidStopPrice},
                      RejectCase{"MarketGtc", {.type = OrderType::Market, .tif = TimeInForce::Gtc}, RejectReason::InvalidOrderTypeForTif},
                      RejectCase{"StopIoc", {.type = OrderType::Stop, .tif = TimeInForce::Ioc, .stop = 100}, RejectReason::InvalidOrderTypeForTif},
                      RejectCase{"PostOnlyIoc", {.tif = TimeInForce::Ioc, .post_only = true}, RejectReason::InvalidOrderTypeForTif}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(EngineTest, QuantityBelowMinimumIsRefused) {
  InstrumentDefinition def = test_instrument(3, "MINQ");
  def.min_quantity = 10;
  define(def);
  place({.quantity = 9, .instrument = 3});
  EXPECT_EQ(rejection(), RejectReason::QuantityBelowMin);
}

TEST_F(EngineTest, InstrumentRedefinitionWithOtherSymbolConflicts) {
  define(test_instrument(kInstrument, "RENAMED"));
  EXPECT_EQ(rejection(), RejectReason::InstrumentConflict);
  define(test_instrument(kInstrument, "TEST"));
  EXPECT_EQ(rejection(), RejectReason::None);
}

TEST(EngineShard, RefusesInstrumentsOfOtherShards) {
  MatchingEngine engine({.shard_symbols = {"BTC-USD"}});
  EventBuffer out;
  Command c;
  c.sequence = 1;
  c.type = CommandType::DefineInstrument;
  c.define = test_instrument(1, "AAPL");
  engine.apply(c, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rejected.reason, RejectReason::InstrumentNotInShard);
}

TEST_F(EngineTest, LevelChangesCloseTheCommandBestFirst) {
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 1});
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 1});
  place({.side = Side::Buy, .price = 102, .quantity = 5});
  auto levels = of(EventType::BookLevelChanged);
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[0].level.side, Side::Buy);
  EXPECT_EQ(levels[0].level.quantity, 3);
  EXPECT_EQ(levels[1].level.price, 101);
  EXPECT_EQ(levels[1].level.quantity, 0);
  EXPECT_EQ(levels[2].level.price, 102);
  EXPECT_EQ(events.back().type, EventType::BookLevelChanged);
}

}  // namespace
}  // namespace hft::engine::testing
