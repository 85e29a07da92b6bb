// Cancel, replace and mass cancel: who may touch an order, and what a replace does to its priority.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

TEST_F(EngineTest, CancelRemovesTheOrderAndReportsWhatWasOpen) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  cancel(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], Event(engine.last_sequence(), OrderCancelled{id, kAlice, kInstrument, CancelReason::UserRequested, 6}));
  EXPECT_EQ(events[1], Event(engine.last_sequence(), BookLevelChanged{kInstrument, Side::Buy, 100, 0, 0}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, CancelTwiceIsUnknownTheSecondTime) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  cancel(id);
  cancel(id);
  EXPECT_EQ(events, (std::vector<Event>{Event(engine.last_sequence(), OrderRejected{id, kAlice, 0, {}, RejectReason::UnknownOrder})}));
}

TEST_F(EngineTest, CancelOfAFilledOrderIsUnknown) {
  const OrderId id = place_id({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 4});
  place({.side = Side::Buy, .price = 100, .quantity = 4});
  cancel(id, kBob);
  EXPECT_EQ(rejection(), RejectReason::UnknownOrder);
}

TEST_F(EngineTest, CancelByAnotherAccountIsRefused) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  cancel(id, kBob);
  EXPECT_EQ(events, (std::vector<Event>{Event(engine.last_sequence(), OrderRejected{id, kBob, kInstrument, {}, RejectReason::NotOrderOwner})}));
  EXPECT_EQ(bids(), (Levels{{100, 10, 1}}));
}

TEST_F(EngineTest, CancelInTheMiddleOfALevelKeepsTheOthersInOrder) {
  const OrderId a = place_id({.side = Side::Buy, .price = 100, .quantity = 1});
  const OrderId b = place_id({.side = Side::Buy, .price = 100, .quantity = 2});
  const OrderId c = place_id({.side = Side::Buy, .price = 100, .quantity = 3});
  cancel(b);
  EXPECT_EQ(queue(Side::Buy, 100), (std::vector<OrderId>{a, c}));
  EXPECT_EQ(bids(), (Levels{{100, 4, 2}}));
}

TEST_F(EngineTest, ReplaceQuantityDownKeepsPriority) {
  const OrderId first = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  const OrderId second = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 10});
  replace(first, 0, 4);
  EXPECT_EQ(of(EventType::OrderReplaced)[0], Event(engine.last_sequence(), OrderReplaced{first, kAlice, kInstrument, 100, 4, 4, true}));
  EXPECT_EQ(queue(Side::Buy, 100), (std::vector<OrderId>{first, second}));
  EXPECT_EQ(bids(), (Levels{{100, 14, 2}}));
}

TEST_F(EngineTest, ReplaceQuantityUpLosesPriority) {
  const OrderId first = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  const OrderId second = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 10});
  replace(first, 0, 12);
  EXPECT_FALSE(of(EventType::OrderReplaced)[0].order_replaced.priority_kept);
  EXPECT_EQ(queue(Side::Buy, 100), (std::vector<OrderId>{second, first}));
  EXPECT_EQ(bids(), (Levels{{100, 22, 2}}));
}

TEST_F(EngineTest, ReplacePriceChangeLosesPriority) {
  const OrderId first = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  const OrderId second = place_id({.account = kBob, .side = Side::Buy, .price = 99, .quantity = 10});
  replace(first, 99, 0);
  EXPECT_EQ(queue(Side::Buy, 99), (std::vector<OrderId>{second, first}));
  EXPECT_EQ(bids(), (Levels{{99, 20, 2}}));
}

TEST_F(EngineTest, ReplaceToACrossingPriceTrades) {
  const OrderId ask = place_id({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 5});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 102, 0);
  EXPECT_EQ(events[0].type, EventType::OrderReplaced);
  EXPECT_EQ(events[0].order_replaced.remaining, 10);
  EXPECT_EQ(fills(), (Fills{{ask, 102, 5}}));
  EXPECT_EQ(bids(), (Levels{{102, 5, 1}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, ReplaceAfterAPartialFillCountsTheFilledPart) {
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 6});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 0, 6);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);  // nothing would be left open
  replace(id, 0, 5);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);  // below what is already filled
  replace(id, 0, 7);
  EXPECT_EQ(of(EventType::OrderReplaced)[0].order_replaced, (OrderReplaced{id, kAlice, kInstrument, 100, 7, 1, true}));
  EXPECT_EQ(bids(), (Levels{{100, 1, 1}}));
}

TEST_F(EngineTest, ReplaceThatChangesNothingIsRefused) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 0, 0);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);
  replace(id, -1, 0);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);
}

TEST_F(EngineTest, ReplaceByAnotherAccountIsRefused) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 101, 0, kBob);
  EXPECT_EQ(rejection(), RejectReason::NotOrderOwner);
  replace(id + 100, 101, 0);
  EXPECT_EQ(rejection(), RejectReason::UnknownOrder);
  EXPECT_EQ(bids(), (Levels{{100, 10, 1}}));
}

TEST_F(EngineTest, ReplaceOfAPendingStopIsRefused) {
  const OrderId stop = place_id({.side = Side::Buy, .quantity = 3, .type = OrderType::Stop, .stop = 105});
  replace(stop, 0, 2);
  EXPECT_EQ(rejection(), RejectReason::InvalidReplace);
}

TEST_F(EngineTest, ReplaceOfPostOnlyToACrossingPriceIsRefusedAndLeavesIt) {
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 5});
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10, .post_only = true});
  replace(id, 102, 0);
  EXPECT_EQ(rejection(), RejectReason::PostOnlyWouldTake);
  EXPECT_EQ(bids(), (Levels{{100, 10, 1}}));
  replace(id, 101, 0);
  EXPECT_EQ(rejection(), RejectReason::None);
  EXPECT_EQ(bids(), (Levels{{101, 10, 1}}));
}

TEST_F(EngineTest, ReplaceIsCheckedAgainstTheInstrumentLimits) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10});
  replace(id, 1'000'001, 0);
  EXPECT_EQ(rejection(), RejectReason::PriceOutOfBand);
  replace(id, 0, 1'000'001);
  EXPECT_EQ(rejection(), RejectReason::QuantityAboveMax);
  DefineInstrument narrower = test_instrument();
  narrower.band_high = 50;
  narrower.min_quantity = 5;
  define(narrower);
  replace(id, 0, 8);  // the price is not changed, so the narrower band does not apply
  EXPECT_EQ(rejection(), RejectReason::None);
  replace(id, 0, 4);
  EXPECT_EQ(rejection(), RejectReason::QuantityBelowMin);
}

TEST_F(EngineTest, ReplaceIcebergQuantityDownShrinksItsSlice) {
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 10, .display = 4});
  replace(id, 0, 3);
  EXPECT_TRUE(of(EventType::OrderReplaced)[0].order_replaced.priority_kept);
  EXPECT_EQ(bids(), (Levels{{100, 3, 1}}));
}

TEST_F(EngineTest, ReplaceIcebergQuantityUpIsBoundedByItsSlices) {
  // 1000 slices of 1 lot: the most an iceberg may show in turn.
  const OrderId id = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 1'000, .display = 1});
  place({.side = Side::Sell, .price = 100, .quantity = 1});
  replace(id, 0, 1'001, kBob);  // 1000 left open, the filled lot aside
  EXPECT_EQ(rejection(), RejectReason::None);
  replace(id, 0, 1'002, kBob);
  EXPECT_EQ(rejection(), RejectReason::InvalidDisplayQuantity);
}

class MassCancelTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    define(test_instrument(2, "OTHER"));
    alice_1 = place_id({.side = Side::Buy, .price = 100, .quantity = 1});
    bob_1 = place_id({.account = kBob, .side = Side::Buy, .price = 100, .quantity = 1});
    alice_2 = place_id({.side = Side::Sell, .price = 110, .quantity = 1, .instrument = 2});
    alice_stop = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .stop = 90});
  }
  OrderId alice_1 = 0, bob_1 = 0, alice_2 = 0, alice_stop = 0;
};

TEST_F(MassCancelTest, ByAccountAndInstrumentIncludesStops) {
  mass_cancel(kAlice, kInstrument);
  EXPECT_EQ(cancels(), (Cancels{{alice_1, CancelReason::MassCancel}, {alice_stop, CancelReason::MassCancel}}));
  EXPECT_EQ(bids(), (Levels{{100, 1, 1}}));
  EXPECT_EQ(asks(2), (Levels{{110, 1, 1}}));
}

TEST_F(MassCancelTest, ByAccountAcrossInstruments) {
  mass_cancel(kAlice, std::nullopt);
  EXPECT_EQ(cancels(), (Cancels{{alice_1, CancelReason::MassCancel}, {alice_2, CancelReason::MassCancel}, {alice_stop, CancelReason::MassCancel}}));
  EXPECT_EQ(engine.open_orders(), 1u);
}

TEST_F(MassCancelTest, ByInstrumentForEveryAccount) {
  mass_cancel(std::nullopt, kInstrument);
  EXPECT_EQ(cancels(), (Cancels{{alice_1, CancelReason::MassCancel}, {bob_1, CancelReason::MassCancel}, {alice_stop, CancelReason::MassCancel}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(MassCancelTest, WithoutFiltersCancelsEverything) {
  mass_cancel(std::nullopt, std::nullopt);
  EXPECT_EQ(cancels().size(), 4u);
  EXPECT_EQ(engine.open_orders(), 0u);
}

TEST_F(MassCancelTest, OfAnUnknownInstrumentIsRefused) {
  mass_cancel(kAlice, 77);
  EXPECT_EQ(rejection(), RejectReason::UnknownInstrument);
  EXPECT_EQ(engine.open_orders(), 4u);
}

}  // namespace
}  // namespace hft::engine::testing
