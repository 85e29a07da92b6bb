// Trading sessions, instrument definitions, the level-change report and determinism.
#include "engine_fixture.h"

namespace hft::engine::testing {
namespace {

TEST_F(EngineTest, EndOfSessionExpiresDayOrdersOnly) {
  const OrderId day = place_id({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::DAY});
  place({.side = Side::Buy, .price = 99, .quantity = 5, .tif = TimeInForce::GTC});
  const OrderId day_stop = place_id({.side = Side::Sell, .quantity = 1, .type = OrderType::Stop, .tif = TimeInForce::DAY, .stop = 90});
  end_session();
  const auto expired = of(EventType::OrderExpired);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].order_expired, (OrderExpired{day, kAlice, kInstrument, 5}));
  EXPECT_EQ(expired[1].order_expired.order_id, day_stop);
  EXPECT_EQ(of(EventType::TradingSessionEnded)[0].trading_session_ended, (TradingSessionEnded{std::nullopt, 2}));
  EXPECT_EQ(bids(), (Levels{{99, 5, 1}}));
  EXPECT_EQ(engine.pending_stops(), 0u);
}

TEST_F(EngineTest, EndOfSessionOfOneInstrumentLeavesTheOthers) {
  define(test_instrument(2, "OTHER"));
  place({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::DAY});
  place({.side = Side::Buy, .price = 100, .quantity = 5, .tif = TimeInForce::DAY, .instrument = 2});
  end_session(2);
  EXPECT_EQ(of(EventType::TradingSessionEnded)[0].trading_session_ended, (TradingSessionEnded{2, 1}));
  EXPECT_EQ(bids(), (Levels{{100, 5, 1}}));
  EXPECT_TRUE(bids(2).empty());
  end_session(42);
  EXPECT_EQ(rejection(), RejectReason::UnknownInstrument);
}

TEST_F(EngineTest, RedefinitionChangesLimitsForNewOrdersOnly) {
  place({.side = Side::Buy, .price = 100, .quantity = 50});
  DefineInstrument smaller = test_instrument();
  smaller.max_quantity = 20;
  define(smaller);
  EXPECT_EQ(events[0].type, EventType::InstrumentDefined);
  EXPECT_EQ(bids(), (Levels{{100, 50, 1}}));
  place({.side = Side::Buy, .price = 100, .quantity = 50});
  EXPECT_EQ(rejection(), RejectReason::QuantityAboveMax);
}

TEST_F(EngineTest, LevelChangesCloseTheCommandBidsFirstBestFirst) {
  place({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 1});
  place({.account = kBob, .side = Side::Sell, .price = 102, .quantity = 1});
  place({.side = Side::Buy, .price = 102, .quantity = 5});
  const Sequence s = engine.last_sequence();
  const auto levels = of(EventType::BookLevelChanged);
  EXPECT_EQ(levels, (std::vector<Event>{Event(s, BookLevelChanged{kInstrument, Side::Buy, 102, 3, 1}),
                                        Event(s, BookLevelChanged{kInstrument, Side::Sell, 101, 0, 0}),
                                        Event(s, BookLevelChanged{kInstrument, Side::Sell, 102, 0, 0})}));
  EXPECT_EQ(events.back().type, EventType::BookLevelChanged);
}

TEST_F(EngineTest, LevelThatEndsAsItBeganIsNotReported) {
  // An iceberg alone at its price: its slice trades and a fresh one of the same size shows.
  place({.account = kBob, .side = Side::Sell, .price = 100, .quantity = 10, .display = 3});
  place({.side = Side::Buy, .price = 100, .quantity = 3, .tif = TimeInForce::IOC});
  EXPECT_EQ(trades().size(), 1u);
  EXPECT_TRUE(of(EventType::BookLevelChanged).empty());
  EXPECT_EQ(asks(), (Levels{{100, 3, 1}}));
}

TEST_F(EngineTest, StateHashFollowsTheState) {
  const uint64_t empty = engine.state_hash();
  const OrderId id = place_id({.side = Side::Buy, .price = 100, .quantity = 5});
  const uint64_t one = engine.state_hash();
  EXPECT_NE(one, empty);
  replace(id, 0, 4);
  EXPECT_NE(engine.state_hash(), one);
}

TEST(EngineDeterminism, SameCommandsSameEventsAndHash) {
  MatchingEngine a, b;
  std::vector<Command> script{Command(test_instrument())};
  script.emplace_back(new_order({.account = kBob, .side = Side::Sell, .price = 101, .quantity = 7, .display = 2}));
  script.emplace_back(new_order({.account = kCarol, .side = Side::Buy, .quantity = 5, .type = OrderType::Stop, .stop = 101}));
  script.emplace_back(new_order({.side = Side::Buy, .price = 101, .quantity = 3}));
  script.emplace_back(CancelOrder{kBob, 1});
  script.emplace_back(MassCancel{std::nullopt, kInstrument});
  Sequence sequence = 0;
  for (Command c : script) {
    c.sequence = ++sequence;
    a.apply(c);
    b.apply(c);
  }
  EXPECT_EQ(std::vector<Event>(a.events().begin(), a.events().end()), std::vector<Event>(b.events().begin(), b.events().end()));
  EXPECT_EQ(a.state_hash(), b.state_hash());
}

}  // namespace
}  // namespace hft::engine::testing
