#include "market_data_view.h"

#include <algorithm>

namespace hft::engine::server {

namespace v1 = hft::v1;

namespace {

void set_level(const LevelTotal& level, v1::BookLevel* out) {
  out->set_price_ticks(level.price);
  out->set_quantity_lots(level.quantity);
  out->set_order_count(level.orders);
}

void add_levels(const std::vector<LevelTotal>& levels, google::protobuf::RepeatedPtrField<v1::BookLevel>* out) {
  for (const LevelTotal& level : levels) set_level(level, out->Add());
}

// The levels of `now` that differ from `before`, then the ones gone from it with quantity 0.
void add_differences(const std::vector<LevelTotal>& before, const std::vector<LevelTotal>& now,
                     google::protobuf::RepeatedPtrField<v1::BookLevel>* out) {
  auto find = [](const std::vector<LevelTotal>& levels, int64_t price) {
    return std::find_if(levels.begin(), levels.end(), [price](const LevelTotal& l) { return l.price == price; });
  };
  for (const LevelTotal& level : now) {
    auto old = find(before, level.price);
    if (old == before.end() || !(*old == level)) set_level(level, out->Add());
  }
  for (const LevelTotal& level : before)
    if (find(now, level.price) == now.end()) set_level({level.price, 0, 0}, out->Add());
}

std::optional<LevelTotal> best(const std::vector<LevelTotal>& levels) {
  return levels.empty() ? std::nullopt : std::optional(levels.front());
}

}  // namespace

void BookMirror::set_level(v1::Side side, int64_t price, int64_t quantity, uint32_t orders) {
  auto apply = [&](auto& levels) {
    if (quantity == 0 && orders == 0)
      levels.erase(price);
    else
      levels[price] = {price, quantity, orders};
  };
  side == v1::SIDE_BUY ? apply(bids_) : apply(asks_);
}

std::vector<LevelTotal> BookMirror::top(v1::Side side, size_t depth) const {
  std::vector<LevelTotal> out;
  auto take = [&](const auto& levels) {
    for (auto it = levels.begin(); it != levels.end() && out.size() < depth; ++it) out.push_back(it->second);
  };
  side == v1::SIDE_BUY ? take(bids_) : take(asks_);
  return out;
}

std::optional<std::string> parse_market_data_request(const v1::StreamMarketUpdatesRequest& in, MarketDataRequest& out) {
  if (!in.include_l1() && !in.include_l2() && !in.include_trades())
    return "ask for at least one of include_l1, include_l2 and include_trades";
  if (in.depth() > kMaxMarketDataDepth) return "depth must be at most " + std::to_string(kMaxMarketDataDepth) + ", got " + std::to_string(in.depth());
  out = {};
  out.instruments.insert(in.instrument_ids().begin(), in.instrument_ids().end());
  out.depth = in.depth() == 0 ? 10 : in.depth();
  out.l1 = in.include_l1();
  out.l2 = in.include_l2();
  out.trades = in.include_trades();
  return std::nullopt;
}

void SubscriberView::book_changed(uint32_t instrument) {
  if ((request_.l1 || request_.l2) && request_.wants(instrument)) dirty_.insert(instrument);
}

void SubscriberView::trade(uint32_t instrument, uint64_t sequence, const v1::MarketTrade& trade) {
  if (!request_.trades || !request_.wants(instrument)) return;
  if (trades_.size() >= max_pending_trades_) {
    // The reader is too far behind for every print: it gets the books afresh instead.
    ++overflows_;
    trades_.clear();
    for (const auto& [id, sent] : sent_) snapshot_due_.insert(id);
    snapshot_due_.insert(instrument);
    return;
  }
  auto message = std::make_shared<v1::StreamMarketUpdatesResponse>();
  message->set_sequence(sequence);
  message->set_instrument_id(instrument);
  *message->mutable_trade() = trade;
  trades_.push_back(std::move(message));
}

void SubscriberView::resynchronise(uint32_t instrument) {
  if (request_.wants(instrument)) snapshot_due_.insert(instrument);
}

void SubscriberView::build(const BookMirrors& books, uint64_t sequence, std::vector<MarketUpdate>& out) {
  for (MarketUpdate& trade : trades_) out.push_back(std::move(trade));
  trades_.clear();
  for (uint32_t instrument : snapshot_due_) {
    auto book = books.find(instrument);
    if (book != books.end()) build_snapshot(instrument, book->second, sequence, out);
    dirty_.erase(instrument);
  }
  snapshot_due_.clear();
  for (uint32_t instrument : dirty_) {
    auto book = books.find(instrument);
    if (book != books.end()) build_changes(instrument, book->second, sequence, out);
  }
  dirty_.clear();
}

void SubscriberView::build_snapshot(uint32_t instrument, const BookMirror& book, uint64_t sequence, std::vector<MarketUpdate>& out) {
  // A trades-only subscriber gets the snapshot without levels: it still says from which sequence on
  // the prints are complete, and the last trade price.
  const size_t depth = request_.l1 || request_.l2 ? snapshot_depth() : 0;
  Sent& sent = sent_[instrument];
  sent.bids = book.top(v1::SIDE_BUY, depth);
  sent.asks = book.top(v1::SIDE_SELL, depth);
  sent.best_bid = best(sent.bids);
  sent.best_ask = best(sent.asks);
  auto message = std::make_shared<v1::StreamMarketUpdatesResponse>();
  message->set_sequence(sequence);
  message->set_instrument_id(instrument);
  v1::BookSnapshot* snapshot = message->mutable_snapshot();
  snapshot->set_instrument_id(instrument);
  snapshot->set_sequence(sequence);
  snapshot->set_last_trade_price_ticks(book.last_trade_price());
  add_levels(sent.bids, snapshot->mutable_bids());
  add_levels(sent.asks, snapshot->mutable_asks());
  out.push_back(std::move(message));
}

void SubscriberView::build_changes(uint32_t instrument, const BookMirror& book, uint64_t sequence, std::vector<MarketUpdate>& out) {
  Sent& sent = sent_[instrument];
  std::vector<LevelTotal> bids = book.top(v1::SIDE_BUY, snapshot_depth());
  std::vector<LevelTotal> asks = book.top(v1::SIDE_SELL, snapshot_depth());
  if (request_.l2) {
    auto message = std::make_shared<v1::StreamMarketUpdatesResponse>();
    v1::DepthUpdate* l2 = message->mutable_l2();
    add_differences(sent.bids, bids, l2->mutable_bids());
    add_differences(sent.asks, asks, l2->mutable_asks());
    if (l2->bids_size() + l2->asks_size() > 0) {
      message->set_sequence(sequence);
      message->set_instrument_id(instrument);
      out.push_back(std::move(message));
    }
  }
  const std::optional<LevelTotal> best_bid = best(bids), best_ask = best(asks);
  if (request_.l1 && (best_bid != sent.best_bid || best_ask != sent.best_ask)) {
    auto message = std::make_shared<v1::StreamMarketUpdatesResponse>();
    message->set_sequence(sequence);
    message->set_instrument_id(instrument);
    v1::TopOfBook* l1 = message->mutable_l1();
    if (best_bid) set_level(*best_bid, l1->mutable_bid());
    if (best_ask) set_level(*best_ask, l1->mutable_ask());
    out.push_back(std::move(message));
  }
  sent.bids = std::move(bids);
  sent.asks = std::move(asks);
  sent.best_bid = best_bid;
  sent.best_ask = best_ask;
}

}  // namespace hft::engine::server
