#include "market_data.h"

#include <pthread.h>

#include <future>

namespace hft::engine::server {

namespace v1 = hft::v1;

namespace {

// Sequences read from the event log per round, between two turns at serving the streams.
constexpr size_t kSequencesPerRound = 4096;

// A request refused before it became a subscription.
class RefusedStream final : public grpc::ServerWriteReactor<v1::StreamMarketUpdatesResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

class MarketDataHub::Reactor final : public grpc::ServerWriteReactor<v1::StreamMarketUpdatesResponse> {
 public:
  Reactor(MarketDataHub& hub, Subscription& subscription) : hub_(hub), subscription_(subscription) {}
  void OnWriteDone(bool ok) override { hub_.write_done(subscription_, ok); }
  void OnCancel() override { hub_.cancelled(subscription_); }
  void OnDone() override {
    hub_.closed(subscription_);
    delete this;
  }

 private:
  MarketDataHub& hub_;
  Subscription& subscription_;
};

MarketDataHub::~MarketDataHub() { stop(); }

void MarketDataHub::start() {
  reload_books();
  resynchronisations_ = 0;  // the first load is not a resynchronisation
  thread_ = std::thread([this] { run(); });
  signal();
}

void MarketDataHub::stop() {
  {
    std::lock_guard lock(signal_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  signal_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (const uint64_t token = wait_token_.exchange(0)) log_.cancel_wait(token);
  std::lock_guard lock(mutex_);
  for (Subscription& s : subscriptions_) finish_locked(s, grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
}

grpc::ServerWriteReactor<v1::StreamMarketUpdatesResponse>* MarketDataHub::open(const v1::StreamMarketUpdatesRequest& request) {
  MarketDataRequest parsed;
  if (auto problem = parse_market_data_request(request, parsed)) return new RefusedStream(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, *problem));
  {
    std::lock_guard lock(signal_mutex_);
    if (stopping_) return new RefusedStream(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  }
  Reactor* reactor;
  {
    std::lock_guard lock(mutex_);
    Subscription& s = subscriptions_.emplace_back(std::move(parsed), max_pending_trades_);
    s.opens_at = pipeline_.counters().durable_sequence;
    reactor = new Reactor(*this, s);
    s.reactor = reactor;
  }
  signal();
  return reactor;
}

MarketDataStats MarketDataHub::stats() const {
  std::lock_guard lock(mutex_);
  MarketDataStats stats{.subscribers = static_cast<uint32_t>(subscriptions_.size()),
                        .sequence = sequence_,
                        .overflows = overflows_of_closed_,
                        .resynchronisations = resynchronisations_};
  for (const Subscription& s : subscriptions_) {
    stats.overflows += s.view.overflows();
    const bool behind = s.writing || s.next_out < s.outbox.size() || s.view.has_pending();
    if (behind) stats.max_subscriber_lag = std::max(stats.max_subscriber_lag, sequence_ - std::min(sequence_, s.written_sequence));
  }
  return stats;
}

void MarketDataHub::signal() {
  {
    std::lock_guard lock(signal_mutex_);
    signalled_ = true;
  }
  signal_cv_.notify_one();
}

void MarketDataHub::run() {
  pthread_setname_np(pthread_self(), "hft-market-data");
  for (;;) {
    {
      std::unique_lock lock(signal_mutex_);
      signal_cv_.wait(lock, [this] { return signalled_ || stopping_; });
      if (stopping_) return;
      signalled_ = false;
    }
    consume();
    {
      std::lock_guard lock(mutex_);
      serve_locked();
    }
    // Sleep until the next sequence is published (at once if it already is).
    if (!waiting_on_log_.exchange(true)) {
      wait_token_ = log_.notify_when_published(sequence_ + 1, [this] {
        waiting_on_log_ = false;
        signal();
      });
    }
  }
}

bool MarketDataHub::reload_books() {
  std::promise<std::pair<BookMirrors, uint64_t>> loaded;
  std::future<std::pair<BookMirrors, uint64_t>> books = loaded.get_future();
  // Queries run between commands once all applied ones are published, so the copy is exactly the
  // published state at its sequence.
  const bool queued = pipeline_.query([&loaded](const MatchingEngine& engine) {
    BookMirrors mirrors;
    for (InstrumentId id : engine.instruments()) {
      BookMirror& mirror = mirrors[id];
      mirror.set_last_trade_price(engine.book(id)->last_trade_price());
      for (Side side : {Side::Buy, Side::Sell})
        for (const LevelView& level : engine.levels(id, side)) mirror.set_level(static_cast<v1::Side>(side), level.price, level.quantity, level.order_count);
    }
    loaded.set_value({std::move(mirrors), engine.last_sequence()});
  });
  if (!queued) return false;
  auto [mirrors, sequence] = books.get();
  std::lock_guard lock(mutex_);
  books_ = std::move(mirrors);
  sequence_ = sequence;
  ++resynchronisations_;
  for (Subscription& s : subscriptions_)
    if (s.open)
      for (const auto& [id, book] : books_) s.view.resynchronise(id);
  return true;
}

void MarketDataHub::consume() {
  std::vector<Published> batch;
  batch.reserve(kSequencesPerRound);
  uint64_t next = sequence_ + 1;  // only this thread moves sequence_
  if (next < log_.first_sequence()) {
    // The log let go of sequences this thread never read: start again from the engine's books.
    if (!reload_books()) return;
    next = sequence_ + 1;
  }
  for (; batch.size() < kSequencesPerRound; ++next) {
    Published message = log_.at(next);
    if (!message) break;
    batch.push_back(std::move(message));
  }
  if (batch.size() == kSequencesPerRound) signal();  // more may be waiting: another round after serving

  std::lock_guard lock(mutex_);
  for (const Published& message : batch) {
    const uint64_t sequence = message->sequence();
    for (const v1::EngineEvent& event : message->events()) {
      switch (event.event_case()) {
        case v1::EngineEvent::kBookLevelChanged: {
          const v1::BookLevelChanged& level = event.book_level_changed();
          books_[level.instrument_id()].set_level(level.side(), level.price_ticks(), level.quantity_lots(), level.order_count());
          for (Subscription& s : subscriptions_)
            if (s.open) s.view.book_changed(level.instrument_id());
          break;
        }
        case v1::EngineEvent::kTrade: {
          const v1::Trade& trade = event.trade();
          books_[trade.instrument_id()].set_last_trade_price(trade.price_ticks());
          v1::MarketTrade print;
          print.set_trade_id(trade.trade_id());
          print.set_price_ticks(trade.price_ticks());
          print.set_quantity_lots(trade.quantity_lots());
          print.set_aggressor_side(trade.aggressor_side());
          *print.mutable_timestamp() = message->timestamp();
          for (Subscription& s : subscriptions_)
            if (s.open) s.view.trade(trade.instrument_id(), sequence, print);
          break;
        }
        case v1::EngineEvent::kInstrumentDefined: {
          const uint32_t id = event.instrument_defined().instrument().instrument_id();
          if (books_.try_emplace(id).second)
            for (Subscription& s : subscriptions_)
              if (s.open) s.view.resynchronise(id);
          break;
        }
        default:
          break;
      }
    }
    sequence_ = sequence;
  }
}

void MarketDataHub::serve_locked() {
  for (Subscription& s : subscriptions_) serve_locked(s);
}

void MarketDataHub::serve_locked(Subscription& s) {
  if (s.finished || s.writing) return;
  if (!s.open) {
    if (sequence_ < s.opens_at) return;
    for (uint32_t id : s.view.request().instruments)
      if (!books_.contains(id))
        return finish_locked(s, grpc::Status(grpc::StatusCode::NOT_FOUND, "instrument " + std::to_string(id) + " is not defined in this engine"));
    s.open = true;
    for (const auto& [id, book] : books_) s.view.resynchronise(id);
  }
  if (s.next_out == s.outbox.size()) {
    s.outbox.clear();
    s.next_out = 0;
    if (s.view.has_pending()) s.view.build(books_, sequence_, s.outbox);
  }
  if (s.next_out < s.outbox.size()) {
    s.current = s.outbox[s.next_out++];
    s.writing = true;
    s.reactor->StartWrite(s.current.get());
  }
}

void MarketDataHub::finish_locked(Subscription& s, const grpc::Status& status) {
  if (s.finished) return;
  s.finished = true;
  s.reactor->Finish(status);
}

void MarketDataHub::write_done(Subscription& s, bool ok) {
  std::lock_guard lock(mutex_);
  s.writing = false;
  s.written_sequence = s.current->sequence();
  s.current.reset();
  if (!ok) return finish_locked(s, grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream broke while writing"));
  // The next message goes out from here; the market-data thread is needed only for new sequences.
  serve_locked(s);
}

void MarketDataHub::cancelled(Subscription& s) {
  std::lock_guard lock(mutex_);
  finish_locked(s, grpc::Status::CANCELLED);
}

void MarketDataHub::closed(Subscription& s) {
  std::lock_guard lock(mutex_);
  overflows_of_closed_ += s.view.overflows();
  subscriptions_.remove_if([&s](const Subscription& candidate) { return &candidate == &s; });
}

}  // namespace hft::engine::server
