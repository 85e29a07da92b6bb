// The market data a subscriber is sent: snapshot first, L2 and L1 differences, conflation of
// changes it was too slow to see one by one, and the trade queue's overflow into a snapshot.
#include "market_data_view.h"

#include <gtest/gtest.h>

namespace hft::engine::server {
namespace {

namespace v1 = hft::v1;

MarketDataRequest request(bool l1, bool l2, bool trades, size_t depth = 10, std::set<uint32_t> instruments = {}) {
  return {.instruments = std::move(instruments), .depth = depth, .l1 = l1, .l2 = l2, .trades = trades};
}

std::vector<MarketUpdate> build(SubscriberView& view, const BookMirrors& books, uint64_t sequence) {
  std::vector<MarketUpdate> out;
  view.build(books, sequence, out);
  return out;
}

std::vector<std::tuple<int64_t, int64_t, uint32_t>> levels(const google::protobuf::RepeatedPtrField<v1::BookLevel>& in) {
  std::vector<std::tuple<int64_t, int64_t, uint32_t>> out;
  for (const v1::BookLevel& l : in) out.emplace_back(l.price_ticks(), l.quantity_lots(), l.order_count());
  return out;
}

v1::MarketTrade print(uint64_t trade_id, int64_t price) {
  v1::MarketTrade t;
  t.set_trade_id(trade_id);
  t.set_price_ticks(price);
  t.set_quantity_lots(1);
  return t;
}

TEST(BookMirror, KeepsLevelsBestFirstAndDropsEmptyOnes) {
  BookMirror book;
  book.set_level(v1::SIDE_BUY, 99, 5, 1);
  book.set_level(v1::SIDE_BUY, 100, 7, 2);
  book.set_level(v1::SIDE_SELL, 102, 3, 1);
  book.set_level(v1::SIDE_SELL, 101, 4, 1);
  EXPECT_EQ(book.top(v1::SIDE_BUY, 10), (std::vector<LevelTotal>{{100, 7, 2}, {99, 5, 1}}));
  EXPECT_EQ(book.top(v1::SIDE_SELL, 1), (std::vector<LevelTotal>{{101, 4, 1}}));
  book.set_level(v1::SIDE_BUY, 100, 0, 0);
  EXPECT_EQ(book.top(v1::SIDE_BUY, 10), (std::vector<LevelTotal>{{99, 5, 1}}));
  EXPECT_EQ(book.level_count(v1::SIDE_BUY), 1u);
}

TEST(MarketDataRequestParsing, RefusesNoChannelAndTooDeep) {
  MarketDataRequest parsed;
  v1::StreamMarketUpdatesRequest in;
  EXPECT_EQ(parse_market_data_request(in, parsed), "ask for at least one of include_l1, include_l2 and include_trades");
  in.set_include_l2(true);
  in.set_depth(1001);
  EXPECT_EQ(parse_market_data_request(in, parsed), "depth must be at most 1000, got 1001");
  in.set_depth(0);
  in.add_instrument_ids(3);
  EXPECT_EQ(parse_market_data_request(in, parsed), std::nullopt);
  EXPECT_EQ(parsed.depth, 10u);
  EXPECT_TRUE(parsed.wants(3));
  EXPECT_FALSE(parsed.wants(4));
}

TEST(SubscriberView, StartsWithASnapshotToTheRequestedDepth) {
  BookMirrors books;
  for (int64_t p = 90; p < 100; ++p) books[1].set_level(v1::SIDE_BUY, p, p, 1);
  books[1].set_level(v1::SIDE_SELL, 101, 2, 1);
  books[1].set_last_trade_price(100);
  SubscriberView view(request(true, true, false, 3), 100);
  view.resynchronise(1);
  const auto out = build(view, books, 42);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0]->has_snapshot());
  EXPECT_EQ(out[0]->sequence(), 42u);
  EXPECT_EQ(out[0]->snapshot().sequence(), 42u);
  EXPECT_EQ(out[0]->snapshot().last_trade_price_ticks(), 100);
  EXPECT_EQ(levels(out[0]->snapshot().bids()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{99, 99, 1}, {98, 98, 1}, {97, 97, 1}}));
  EXPECT_EQ(levels(out[0]->snapshot().asks()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{101, 2, 1}}));
  EXPECT_FALSE(view.has_pending());
}

TEST(SubscriberView, ConflatesManyChangesIntoTheNetDifference) {
  BookMirrors books;
  books[1].set_level(v1::SIDE_BUY, 100, 10, 1);
  SubscriberView view(request(true, true, false, 5), 100);
  view.resynchronise(1);
  build(view, books, 1);
  // A thousand changes while the reader was busy: it only needs where they ended.
  for (int i = 0; i < 1000; ++i) {
    books[1].set_level(v1::SIDE_BUY, 100, 10 + i, 1 + i % 3);
    books[1].set_level(v1::SIDE_SELL, 105 + i % 7, i % 2 ? 0 : 4, i % 2 ? 0 : 1);
    view.book_changed(1);
  }
  const auto out = build(view, books, 1001);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0]->has_l2());
  EXPECT_EQ(levels(out[0]->l2().bids()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{100, 1009, 1}}));
  EXPECT_EQ(levels(out[0]->l2().asks()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{105, 4, 1}, {107, 4, 1}, {109, 4, 1}}));
  ASSERT_TRUE(out[1]->has_l1());
  EXPECT_EQ(out[1]->l1().bid().quantity_lots(), 1009);
  EXPECT_EQ(out[1]->l1().ask().price_ticks(), 105);
  EXPECT_EQ(out[1]->sequence(), 1001u);
}

TEST(SubscriberView, ALevelPushedOutOfTheDepthIsRemovedAndOneComingInIsAdded) {
  BookMirrors books;
  books[1].set_level(v1::SIDE_SELL, 101, 1, 1);
  books[1].set_level(v1::SIDE_SELL, 102, 1, 1);
  books[1].set_level(v1::SIDE_SELL, 103, 1, 1);
  SubscriberView view(request(false, true, false, 2), 100);
  view.resynchronise(1);
  build(view, books, 1);
  books[1].set_level(v1::SIDE_SELL, 100, 5, 1);  // a better ask pushes 102 out of the top two
  view.book_changed(1);
  auto out = build(view, books, 2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(levels(out[0]->l2().asks()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{100, 5, 1}, {102, 0, 0}}));
  books[1].set_level(v1::SIDE_SELL, 100, 0, 0);  // and its removal brings 102 back
  view.book_changed(1);
  out = build(view, books, 3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(levels(out[0]->l2().asks()), (std::vector<std::tuple<int64_t, int64_t, uint32_t>>{{102, 1, 1}, {100, 0, 0}}));
}

TEST(SubscriberView, SendsNothingWhenNothingItWatchesChanged) {
  BookMirrors books;
  books[1].set_level(v1::SIDE_BUY, 100, 10, 1);
  books[2].set_level(v1::SIDE_BUY, 50, 10, 1);
  SubscriberView view(request(true, false, false, 10, {1}), 100);
  view.resynchronise(1);
  view.resynchronise(2);  // not requested: ignored
  EXPECT_EQ(build(view, books, 1).size(), 1u);
  books[1].set_level(v1::SIDE_BUY, 90, 3, 1);  // below the best bid: L1 unchanged
  view.book_changed(1);
  books[2].set_level(v1::SIDE_BUY, 55, 1, 1);
  view.book_changed(2);
  EXPECT_TRUE(build(view, books, 2).empty());
}

TEST(SubscriberView, TradesComeFirstInSequenceOrder) {
  BookMirrors books;
  books[1];
  SubscriberView view(request(true, false, true), 100);
  view.resynchronise(1);
  build(view, books, 1);
  view.trade(1, 2, print(7, 100));
  view.trade(1, 3, print(8, 101));
  books[1].set_level(v1::SIDE_BUY, 99, 1, 1);
  view.book_changed(1);
  const auto out = build(view, books, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]->trade().trade_id(), 7u);
  EXPECT_EQ(out[0]->sequence(), 2u);
  EXPECT_EQ(out[1]->trade().trade_id(), 8u);
  EXPECT_TRUE(out[2]->has_l1());
  for (size_t i = 1; i < out.size(); ++i) EXPECT_LE(out[i - 1]->sequence(), out[i]->sequence());
}

TEST(SubscriberView, TooManyQueuedTradesBecomeASnapshot) {
  BookMirrors books;
  books[1].set_level(v1::SIDE_BUY, 99, 1, 1);
  books[1].set_last_trade_price(100);
  SubscriberView view(request(false, false, true), 3);
  view.resynchronise(1);
  const auto first = build(view, books, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0]->snapshot().bids().empty());  // trades only: no levels, but the sequence and price
  for (uint64_t i = 0; i < 5; ++i) view.trade(1, 2 + i, print(i, 100));
  EXPECT_EQ(view.overflows(), 1u);
  const auto out = build(view, books, 6);
  // The first three were dropped at the overflow; the one after it still comes, then the snapshot.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->trade().trade_id(), 4u);
  ASSERT_TRUE(out[1]->has_snapshot());
  EXPECT_EQ(out[1]->snapshot().sequence(), 6u);
}

}  // namespace
}  // namespace hft::engine::server
