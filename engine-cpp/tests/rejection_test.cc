// Every rejection reason the engine can give, with the fields the rejection carries.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

struct RejectCase {
  const char* name;
  OrderSpec spec;
  RejectReason reason;
  friend void PrintTo(const RejectCase& c, std::ostream* out) { *out << c.name; }
};

class NewOrderRejection : public EngineTest, public ::testing::WithParamInterface<RejectCase> {};

TEST_P(NewOrderRejection, RejectsWithReasonAndTouchesNothing) {
  const OrderId id = engine.next_order_id();
  place(GetParam().spec);
  ASSERT_EQ(events.size(), 1u);
  const OrderRejected& r = events[0].order_rejected;
  EXPECT_EQ(r.reason, GetParam().reason);
  EXPECT_EQ(r.order_id, id);
  EXPECT_EQ(r.account, GetParam().spec.account);
  EXPECT_EQ(r.instrument, GetParam().spec.instrument);
  EXPECT_EQ(r.client_order_id.view(), "c" + std::to_string(engine.last_sequence()));
  EXPECT_EQ(engine.open_orders(), 0u);
  EXPECT_EQ(engine.next_order_id(), id + 1);  // the id is used up: every new order gets one
}

INSTANTIATE_TEST_SUITE_P(
    EveryReason, NewOrderRejection,
    ::testing::Values(
        RejectCase{"UnknownInstrument", {.instrument = 9}, RejectReason::UnknownInstrument},
        RejectCase{"ZeroPrice", {.price = 0}, RejectReason::InvalidPrice},
        RejectCase{"NegativePrice", {.price = -5}, RejectReason::InvalidPrice},
        RejectCase{"PriceAboveBand", {.price = 1'000'001}, RejectReason::PriceOutOfBand},
        RejectCase{"ZeroQuantity", {.quantity = 0}, RejectReason::InvalidQuantity},
        RejectCase{"NegativeQuantity", {.quantity = -1}, RejectReason::InvalidQuantity},
        RejectCase{"QuantityAboveMax", {.quantity = 1'000'001}, RejectReason::QuantityAboveMax},
        RejectCase{"DisplayAboveQuantity", {.quantity = 5, .display = 6}, RejectReason::InvalidDisplayQuantity},
        RejectCase{"NegativeDisplay", {.quantity = 5, .display = -1}, RejectReason::InvalidDisplayQuantity},
        RejectCase{"IcebergOfMoreThanAThousandSlices", {.quantity = 1'001, .display = 1}, RejectReason::InvalidDisplayQuantity},
        RejectCase{"DisplayOnAMarketOrder", {.type = OrderType::Market, .tif = TimeInForce::IOC, .display = 1}, RejectReason::InvalidDisplayQuantity},
        RejectCase{"StopWithoutStopPrice", {.type = OrderType::Stop}, RejectReason::InvalidStopPrice},
        RejectCase{"StopPriceAboveBand", {.type = OrderType::StopLimit, .stop = 1'000'001}, RejectReason::InvalidStopPrice},
        RejectCase{"StopPriceOnALimit", {.stop = 100}, RejectReason::InvalidStopPrice},
        RejectCase{"MarketGtc", {.type = OrderType::Market, .tif = TimeInForce::GTC}, RejectReason::InvalidOrderTypeForTif},
        RejectCase{"MarketDay", {.type = OrderType::Market, .tif = TimeInForce::DAY}, RejectReason::InvalidOrderTypeForTif},
        RejectCase{"StopIoc", {.type = OrderType::Stop, .tif = TimeInForce::IOC, .stop = 100}, RejectReason::InvalidOrderTypeForTif},
        RejectCase{"StopLimitFok", {.type = OrderType::StopLimit, .tif = TimeInForce::FOK, .stop = 100}, RejectReason::InvalidOrderTypeForTif},
        RejectCase{"PostOnlyIoc", {.tif = TimeInForce::IOC, .post_only = true}, RejectReason::InvalidOrderTypeForTif},
        RejectCase{"PostOnlyStopLimit", {.type = OrderType::StopLimit, .stop = 100, .post_only = true}, RejectReason::InvalidOrderTypeForTif}),
    [](const auto& info) { return std::string(info.param.name); });

// new_order() zeroes the price of stop orders, so a stop with a price must be built by hand.
TEST_F(EngineTest, PriceOnAMarketOrStopOrderIsInvalid) {
  NewOrder stop = new_order({.type = OrderType::Stop, .stop = 100});
  stop.price = 100;
  run(Command(stop));
  EXPECT_EQ(rejection(), RejectReason::InvalidPrice);
  NewOrder market = new_order({.type = OrderType::Market, .tif = TimeInForce::IOC});
  market.price = 100;
  run(Command(market));
  EXPECT_EQ(rejection(), RejectReason::InvalidPrice);
}

TEST_F(EngineTest, PriceBelowBandIsOutOfBand) {
  DefineInstrument banded = test_instrument(2, "BANDED");
  banded.band_low = 90;
  banded.band_high = 110;
  define(banded);
  place({.price = 89, .instrument = 2});
  EXPECT_EQ(rejection(), RejectReason::PriceOutOfBand);
  place({.price = 111, .instrument = 2});
  EXPECT_EQ(rejection(), RejectReason::PriceOutOfBand);
  place({.price = 90, .instrument = 2});
  EXPECT_EQ(rejection(), RejectReason::None);
}

TEST_F(EngineTest, QuantityBelowMinimumIsRefused) {
  DefineInstrument lots = test_instrument(3, "MINQ");
  lots.min_quantity = 10;
  define(lots);
  place({.quantity = 9, .instrument = 3});
  EXPECT_EQ(rejection(), RejectReason::QuantityBelowMin);
}

TEST_F(EngineTest, EnumOutOfRangeIsMalformed) {
  NewOrder bad = new_order({});
  bad.side = static_cast<Side>(7);
  run(Command(bad));
  EXPECT_EQ(rejection(), RejectReason::MalformedCommand);
  bad = new_order({});
  bad.tif = static_cast<TimeInForce>(0);
  run(Command(bad));
  EXPECT_EQ(rejection(), RejectReason::MalformedCommand);
}

TEST_F(EngineTest, OrderIdsAreSequentialAndNeverReused) {
  const OrderId first = place_id({.quantity = 0});  // rejected
  const OrderId second = place_id({});
  cancel(second);
  const OrderId third = place_id({});
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(third, second + 1);
}

TEST(EngineIds, FirstOrderIdStartsOrderAndTradeIds) {
  // Shards share the order service's tables: their order ids and trade ids must not meet.
  MatchingEngine engine({.first_order_id = 1'000'000});
  Command define(test_instrument());
  define.sequence = 1;
  engine.apply(define);
  EXPECT_EQ(engine.next_trade_id(), 1'000'000u);
  Command order(new_order({}));
  order.sequence = 2;
  engine.apply(order);
  EXPECT_EQ(engine.events()[1].order_accepted.order_id, 1'000'000u);
}

TEST_F(EngineTest, InstrumentRedefinedWithAnotherSymbolConflicts) {
  define(test_instrument(kInstrument, "RENAMED"));
  EXPECT_EQ(events, (std::vector<Event>{Event(engine.last_sequence(), OrderRejected{0, 0, kInstrument, {}, RejectReason::InstrumentConflict})}));
  define(test_instrument(2, "TEST"));  // the symbol already names instrument 1
  EXPECT_EQ(rejection(), RejectReason::InstrumentConflict);
  define(test_instrument(kInstrument, "TEST"));
  EXPECT_EQ(rejection(), RejectReason::None);
}

TEST_F(EngineTest, InstrumentDefinitionThatCannotWorkIsMalformed) {
  DefineInstrument bad = test_instrument(5, "BAD");
  bad.max_quantity = 0;
  define(bad);
  EXPECT_EQ(rejection(), RejectReason::MalformedCommand);
  bad = test_instrument(0, "ZERO");
  define(bad);
  EXPECT_EQ(rejection(), RejectReason::MalformedCommand);
  bad = test_instrument(5, "BAND");
  bad.band_high = 0;
  define(bad);
  EXPECT_EQ(rejection(), RejectReason::MalformedCommand);
}

TEST(EngineShard, RefusesInstrumentsOfOtherShards) {
  MatchingEngine engine({.shard_symbols = {"BTC-USD"}});
  Command define(test_instrument(1, "AAPL"));
  define.sequence = 1;
  engine.apply(define);
  ASSERT_EQ(engine.events().size(), 1u);
  EXPECT_EQ(engine.events()[0].order_rejected.reason, RejectReason::InstrumentNotInShard);
  Command owned(test_instrument(2, "BTC-USD"));
  owned.sequence = 2;
  engine.apply(owned);
  EXPECT_EQ(engine.events()[1].type, EventType::InstrumentDefined);
}

}  // namespace
}  // namespace hft::engine::testing
