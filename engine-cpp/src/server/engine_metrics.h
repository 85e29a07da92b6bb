// The engine's metrics and the HTTP endpoint that serves them (GET /metrics, Prometheus text).
// Counters and histograms are updated where things happen (mostly the matching thread); gauges of
// the books are read at scrape time by a query between two commands, so they are consistent.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <thread>

#include "metrics.h"

namespace httplib {
class Server;
}

namespace hft::engine::server {

class EventLog;
class MarketDataHub;
class Pipeline;
class ReaderPositions;
struct TlsMaterial;

struct EngineMetrics {
  enum Outcome : size_t { Accepted, Rejected, Refused, kOutcomes };
  // By CommandType value; 0 is a command refused before it had a known type.
  std::array<std::array<Counter, kOutcomes>, 7> commands;
  // By EventType value.
  std::array<Counter, 11> events;
  Histogram apply_latency_us;   // sequenced -> applied (matching)
  Histogram ack_latency_us;     // sequenced -> acknowledgement handed to its stream (journal included)
  Histogram fsync_latency_us;   // one group's write() + fdatasync()
  Histogram snapshot_duration_us;
};

class MetricsServer {
 public:
  MetricsServer(const EngineMetrics& metrics, Pipeline& pipeline, const EventLog& log, const MarketDataHub& market_data,
                const ReaderPositions& subscribers);
  ~MetricsServer();

  // Binds `listen` (host:port) and serves on its own thread, over HTTPS when `tls` is enabled;
  // false with `error` when it cannot.
  bool start(const std::string& listen, const TlsMaterial& tls, std::string& error);
  void stop();
  int port() const { return port_; }

  std::string render() const;

 private:
  const EngineMetrics& metrics_;
  Pipeline& pipeline_;
  const EventLog& log_;
  const MarketDataHub& market_data_;
  const ReaderPositions& subscribers_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace hft::engine::server
