// StreamMarketUpdates: one market-data thread reads the published (durable) event stream, keeps
// the aggregated books, and feeds every subscriber through its SubscriberView. The matching
// thread's only part is the event log it already publishes to; a subscriber that reads slowly
// gets conflated updates or a fresh snapshot (market_data_view.h) and holds up nobody.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>

#include "event_log.h"
#include "market_data_view.h"
#include "pipeline.h"

namespace hft::engine::server {

struct MarketDataStats {
  uint32_t subscribers = 0;
  uint64_t sequence = 0;        // the last sequence the books reflect
  uint64_t overflows = 0;       // subscribers resynchronised because their trade queue was full
  uint64_t resynchronisations = 0;  // the hub itself fell behind the event log and reloaded the books
  uint64_t max_subscriber_lag = 0;  // sequences between the books and the furthest-behind subscriber
};

class MarketDataHub {
 public:
  MarketDataHub(EventLog& log, Pipeline& pipeline, size_t max_pending_trades = 10'000)
      : log_(log), pipeline_(pipeline), max_pending_trades_(max_pending_trades) {}
  ~MarketDataHub();

  // Loads the books from the engine (through a pipeline query) and starts the thread.
  void start();
  // Ends every stream with UNAVAILABLE and joins the thread.
  void stop();

  grpc::ServerWriteReactor<hft::v1::StreamMarketUpdatesResponse>* open(const hft::v1::StreamMarketUpdatesRequest& request);

  MarketDataStats stats() const;

 private:
  class Reactor;
  struct Subscription {
    Subscription(MarketDataRequest request, size_t max_pending_trades) : view(std::move(request), max_pending_trades) {}

    SubscriberView view;
    Reactor* reactor = nullptr;
    // Opened once the books reach this sequence: every command acknowledged before the request
    // came (an instrument just defined, say) is in them.
    uint64_t opens_at = 0;
    bool open = false;
    std::vector<MarketUpdate> outbox;  // built, not yet written
    size_t next_out = 0;
    MarketUpdate current;  // being written
    uint64_t written_sequence = 0;
    bool writing = false;
    bool finished = false;
  };
  friend class Reactor;

  void run();
  // Replaces the books with the engine's own and resends every subscriber a snapshot.
  bool reload_books();
  void consume();
  // Starts the next write of every idle stream, or of one.
  void serve_locked();
  void serve_locked(Subscription& subscription);
  void finish_locked(Subscription& subscription, const grpc::Status& status);
  void write_done(Subscription& subscription, bool ok);
  void cancelled(Subscription& subscription);
  void closed(Subscription& subscription);
  void signal();

  EventLog& log_;
  Pipeline& pipeline_;
  size_t max_pending_trades_;

  // What the thread and the streams share.
  mutable std::mutex mutex_;
  BookMirrors books_;
  uint64_t sequence_ = 0;  // moved only by the market-data thread (and start())
  std::list<Subscription> subscriptions_;
  uint64_t overflows_of_closed_ = 0;
  uint64_t resynchronisations_ = 0;

  // Wake-ups, kept apart from mutex_ so the matching thread never waits for a fan-out.
  std::mutex signal_mutex_;
  std::condition_variable signal_cv_;
  bool signalled_ = false;
  bool stopping_ = false;
  std::atomic<bool> waiting_on_log_{false};
  std::atomic<uint64_t> wait_token_{0};
  std::thread thread_;
};

}  // namespace hft::engine::server
