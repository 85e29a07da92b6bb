// Market data as the published events describe it, and what one StreamMarketUpdates subscriber
// has been sent. No threads and no gRPC here: the hub (market_data.h) owns these and decides
// when to build the next messages.
//
// Conflation: a book change only marks the instrument dirty for a subscriber; the next build sends
// the difference between what that subscriber was last sent and the book now, however many changes
// happened in between. Trades cannot be merged, so they queue, up to a bound; past it the
// subscriber's queued trades are dropped and every book it watches is resent as a snapshot. Either
// way a slow reader costs memory bounded by its own request, never time on the matching thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "hft/v1/engine_service.pb.h"

namespace hft::engine::server {

using MarketUpdate = std::shared_ptr<const hft::v1::StreamMarketUpdatesResponse>;

struct LevelTotal {
  int64_t price = 0;
  int64_t quantity = 0;
  uint32_t orders = 0;
  bool operator==(const LevelTotal&) const = default;
};

// The aggregated visible levels of one book, kept from BookLevelChanged events.
class BookMirror {
 public:
  void set_level(hft::v1::Side side, int64_t price, int64_t quantity, uint32_t orders);
  void set_last_trade_price(int64_t price) { last_trade_price_ = price; }
  int64_t last_trade_price() const { return last_trade_price_; }
  // The best `depth` levels of a side, best first.
  std::vector<LevelTotal> top(hft::v1::Side side, size_t depth) const;
  size_t level_count(hft::v1::Side side) const { return side == hft::v1::SIDE_BUY ? bids_.size() : asks_.size(); }

 private:
  std::map<int64_t, LevelTotal, std::greater<>> bids_;
  std::map<int64_t, LevelTotal> asks_;
  int64_t last_trade_price_ = 0;
};

using BookMirrors = std::map<uint32_t, BookMirror>;

struct MarketDataRequest {
  std::set<uint32_t> instruments;  // empty: every instrument of the shard, including later ones
  size_t depth = 10;
  bool l1 = false;
  bool l2 = false;
  bool trades = false;

  bool wants(uint32_t instrument) const { return instruments.empty() || instruments.contains(instrument); }
};

// Checks a wire request; returns the problem in words, or nothing with `out` filled.
std::optional<std::string> parse_market_data_request(const hft::v1::StreamMarketUpdatesRequest& in, MarketDataRequest& out);

inline constexpr size_t kMaxMarketDataDepth = 1000;

class SubscriberView {
 public:
  SubscriberView(MarketDataRequest request, size_t max_pending_trades)
      : request_(std::move(request)), max_pending_trades_(max_pending_trades) {}

  const MarketDataRequest& request() const { return request_; }

  // Fan-out of one published event.
  void book_changed(uint32_t instrument);
  void trade(uint32_t instrument, uint64_t sequence, const hft::v1::MarketTrade& trade);
  // A new instrument, or the start of the subscription: the next build sends a snapshot.
  void resynchronise(uint32_t instrument);

  bool has_pending() const { return !dirty_.empty() || !snapshot_due_.empty() || !trades_.empty(); }
  // Appends, in sequence order, the messages that bring the subscriber up to the books at
  // `sequence`: queued trades, then per instrument a snapshot or the L2 and L1 differences.
  void build(const BookMirrors& books, uint64_t sequence, std::vector<MarketUpdate>& out);

  // Times the trade queue overflowed into a resynchronisation.
  uint64_t overflows() const { return overflows_; }

 private:
  struct Sent {
    std::vector<LevelTotal> bids, asks;  // the top levels as the subscriber knows them
    std::optional<LevelTotal> best_bid, best_ask;
  };
  size_t snapshot_depth() const { return request_.l2 ? request_.depth : 1; }
  void build_snapshot(uint32_t instrument, const BookMirror& book, uint64_t sequence, std::vector<MarketUpdate>& out);
  void build_changes(uint32_t instrument, const BookMirror& book, uint64_t sequence, std::vector<MarketUpdate>& out);

  MarketDataRequest request_;
  size_t max_pending_trades_;
  std::set<uint32_t> dirty_;
  std::set<uint32_t> snapshot_due_;
  std::vector<MarketUpdate> trades_;
  std::map<uint32_t, Sent> sent_;
  uint64_t overflows_ = 0;
};

}  // namespace hft::engine::server
