// The containers under the books: pools, the order index, intrusive levels, sorted sides, stops.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_map>

#include "hft/engine/level_changes.h"
#include "hft/engine/order_book.h"
#include "hft/engine/order_index.h"
#include "hft/engine/stop_orders.h"

namespace hft::engine::testing {
namespace {

TEST(SlabPool, HandsOutSlotsInOrderAndReusesTheLatestReleased) {
  SlabPool<int, 2> pool;  // chunks of 4
  EXPECT_EQ(pool.acquire(), 0u);
  EXPECT_EQ(pool.acquire(), 1u);
  pool[1] = 42;
  pool.release(1);
  EXPECT_EQ(pool.acquire(), 1u);
  EXPECT_EQ(pool[1], 0);  // acquired slots are fresh
  for (uint32_t expected = 2; expected < 9; ++expected) EXPECT_EQ(pool.acquire(), expected);
  EXPECT_EQ(pool.capacity(), 12u);
  EXPECT_EQ(pool.in_use(), 9u);
}

TEST(SlabPool, ObjectsNeverMoveWhenThePoolGrows) {
  SlabPool<int, 2> pool;
  const uint32_t first = pool.acquire();
  int* address = &pool[first];
  for (int i = 0; i < 100; ++i) pool.acquire();
  EXPECT_EQ(address, &pool[first]);
}

TEST(OrderIndex, AgreesWithStdUnorderedMapUnderRandomChurn) {
  OrderPool orders;
  OrderIndex index(4);  // starts tiny: grows many times
  std::unordered_map<OrderId, uint32_t> expected;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 200'000; ++step) {
    // A small id space forces long probe chains; ids 2^32 apart share their low 32 bits.
    const OrderId id = 1 + rng() % 3'000 + (rng() % 2 ? (OrderId{1} << 32) : 0);
    auto it = expected.find(id);
    if (it != expected.end()) {
      ASSERT_EQ(index.find(id, orders), it->second);
      if (rng() % 2) {
        index.erase(id, it->second);
        orders.release(it->second);
        expected.erase(it);
      }
    } else {
      ASSERT_EQ(index.find(id, orders), kNoSlot);
      const uint32_t slot = orders.acquire();
      orders[slot].id = id;
      index.insert(id, slot);
      expected[id] = slot;
    }
  }
  ASSERT_EQ(index.size(), expected.size());
  for (const auto& [id, slot] : expected) ASSERT_EQ(index.find(id, orders), slot);
}

TEST(PriceLevel, KeepsArrivalOrderAndTotals) {
  OrderPool orders;
  PriceLevel level;
  uint32_t slots[3];
  for (uint32_t& s : slots) {
    s = orders.acquire();
    orders[s].visible = 5;
    level.push_back(orders, s);
  }
  EXPECT_EQ(level.count, 3u);
  EXPECT_EQ(level.visible, 15);
  level.unlink(orders, slots[1]);
  EXPECT_EQ(level.head, slots[0]);
  EXPECT_EQ(orders[slots[0]].next, slots[2]);
  EXPECT_EQ(orders[slots[2]].prev, slots[0]);
  level.unlink(orders, slots[0]);
  level.unlink(orders, slots[2]);
  EXPECT_TRUE(level.empty());
  EXPECT_EQ(level.head, kNoSlot);
  EXPECT_EQ(level.tail, kNoSlot);
  EXPECT_EQ(level.visible, 0);
}

TEST(BookSide, KeepsLevelsSortedWithTheBestCached) {
  LevelPool levels;
  BookSide asks(Side::Sell);
  for (Price p : {105, 101, 103, 102, 104}) asks.find_or_add(levels, p);
  EXPECT_EQ(asks.best_price(), 101);
  for (size_t i = 0; i < asks.depth(); ++i) EXPECT_EQ(levels[asks.level_at(i)].price, 101 + static_cast<Price>(i));
  EXPECT_EQ(asks.find(103), asks.level_at(2));
  EXPECT_EQ(asks.find(106), kNoSlot);
  asks.remove(levels, 101);
  EXPECT_EQ(asks.best_price(), 102);
  asks.remove(levels, 104);
  EXPECT_EQ(asks.depth(), 3u);
  EXPECT_EQ(levels.in_use(), 3u);

  BookSide bids(Side::Buy);
  for (Price p : {99, 97, 98}) bids.find_or_add(levels, p);
  EXPECT_EQ(bids.best_price(), 99);
  EXPECT_EQ(levels[bids.level_at(2)].price, 97);
}

TEST(StopOrders, TakesEveryStopTheLastPriceReaches) {
  StopOrders stops;
  stops.add(Side::Buy, 105, 1, 10);
  stops.add(Side::Buy, 102, 2, 20);
  stops.add(Side::Sell, 95, 3, 30);
  stops.add(Side::Buy, 102, 4, 40);
  stops.add(Side::Sell, 99, 5, 50);
  EXPECT_EQ(stops.in_acceptance_order(), (std::vector<uint32_t>{10, 20, 30, 40, 50}));
  auto take = [&](Price last) {
    std::vector<std::pair<OrderId, uint32_t>> taken;
    stops.take_reached(last, [&](OrderId id, uint32_t slot) { taken.emplace_back(id, slot); });
    std::sort(taken.begin(), taken.end());
    return taken;
  };
  using Taken = std::vector<std::pair<OrderId, uint32_t>>;
  EXPECT_EQ(take(100), Taken{});
  EXPECT_EQ(take(99), (Taken{{5, 50}}));
  EXPECT_EQ(take(103), (Taken{{2, 20}, {4, 40}}));
  EXPECT_EQ(stops.in_acceptance_order(), (std::vector<uint32_t>{10, 30}));
  stops.remove(Side::Buy, 105, 1);
  EXPECT_EQ(take(200), Taken{});
  EXPECT_EQ(take(90), (Taken{{3, 30}}));
  EXPECT_TRUE(stops.empty());
}

TEST(LevelChanges, RecordsTheFirstStateOnceAndReportsInBookOrder) {
  auto level = [](Price price, Quantity visible, uint32_t count) {
    PriceLevel l;
    l.price = price;
    l.visible = visible;
    l.count = count;
    return l;
  };
  PriceLevel ask_101 = level(101, 5, 1), ask_103 = level(103, 1, 1), bid_99 = level(99, 2, 1), bid_100 = level(100, 0, 0);
  PriceLevel bid_99_again = level(99, 0, 0);  // removed and re-created within the command
  LevelChanges changes;
  changes.touch(2, 1, Side::Sell, ask_101);
  changes.touch(1, 0, Side::Sell, ask_103);
  changes.touch(1, 0, Side::Buy, bid_99);
  changes.touch(1, 0, Side::Buy, bid_100);
  bid_99.visible = 7;
  changes.touch(1, 0, Side::Buy, bid_99);  // already recorded in this round: nothing new
  changes.touch(1, 0, Side::Buy, bid_99_again);
  using Row = std::tuple<InstrumentId, Side, Price, Quantity>;
  std::vector<Row> order;
  for (const auto& t : changes.in_report_order()) order.emplace_back(t.instrument, t.side, t.price, t.visible_before);
  EXPECT_EQ(order, (std::vector<Row>{{1, Side::Buy, 100, 0}, {1, Side::Buy, 99, 2}, {1, Side::Sell, 103, 1}, {2, Side::Sell, 101, 5}}));
  changes.clear();
  changes.touch(1, 0, Side::Buy, bid_99);  // a new round records it again
  EXPECT_FALSE(changes.empty());
}

}  // namespace
}  // namespace hft::engine::testing
