#include "engine_metrics.h"

#include <httplib.h>

#include <future>

#include "event_log.h"
#include "market_data.h"
#include "pipeline.h"
#include "tls_files.h"

namespace hft::engine::server {

namespace {

constexpr const char* kCommandTypes[] = {"unknown", "new_order", "cancel_order", "replace_order", "mass_cancel", "define_instrument", "end_trading_session"};
constexpr const char* kOutcomes[] = {"accepted", "rejected", "refused"};
constexpr const char* kEventTypes[] = {"",          "order_accepted", "order_rejected", "trade",  "order_cancelled", "order_replaced",
                                       "order_expired", "stop_triggered", "book_level_changed", "instrument_defined", "trading_session_ended"};

// The books as one query sees them.
struct BookGauges {
  struct Book {
    InstrumentId id;
    size_t resting_orders, bid_levels, ask_levels;
  };
  Sequence last_sequence = 0;
  size_t pending_stops = 0;
  std::vector<Book> books;
};

std::optional<BookGauges> read_books(Pipeline& pipeline) {
  // Shared with the query, which may run after a scrape that gave up waiting.
  auto result = std::make_shared<std::promise<BookGauges>>();
  std::future<BookGauges> books = result->get_future();
  const bool queued = pipeline.query([result](const MatchingEngine& engine) {
    BookGauges gauges{.last_sequence = engine.last_sequence(), .pending_stops = engine.pending_stops(), .books = {}};
    for (InstrumentId id : engine.instruments())
      gauges.books.push_back({id, engine.book(id)->resting_orders(), engine.levels(id, Side::Buy).size(), engine.levels(id, Side::Sell).size()});
    result->set_value(std::move(gauges));
  });
  if (!queued || books.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return std::nullopt;
  return books.get();
}

}  // namespace

MetricsServer::MetricsServer(const EngineMetrics& metrics, Pipeline& pipeline, const EventLog& log, const MarketDataHub& market_data,
                             const ReaderPositions& subscribers)
    : metrics_(metrics), pipeline_(pipeline), log_(log), market_data_(market_data), subscribers_(subscribers) {}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::start(const std::string& listen, const TlsMaterial& tls, std::string& error) {
  const size_t colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    error = "the metrics port of " + listen + " is not a port number";
    return false;
  }
  if (tls.enabled()) {
    http_ = std::make_unique<httplib::SSLServer>([&tls](SSL_CTX& context) { return configure_ssl_context(context, tls); });
    if (!http_->is_valid()) {
      error = "cannot set up TLS for the metrics listener on " + listen;
      http_.reset();
      return false;
    }
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  // httplib's default is SO_REUSEPORT, which would let a second engine share the port silently.
  http_->set_socket_options([](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  port_ = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    error = "cannot listen for metrics on " + listen;
    http_.reset();
    return false;
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return true;
}

void MetricsServer::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string MetricsServer::render() const {
  PrometheusText out;
  out.family("hft_engine_commands_total", "counter", "Commands taken in, by type and outcome (refused: malformed, never sequenced).");
  for (size_t type = 0; type < metrics_.commands.size(); ++type)
    for (size_t outcome = 0; outcome < EngineMetrics::kOutcomes; ++outcome)
      if (const uint64_t n = metrics_.commands[type][outcome].value())
        out.sample("hft_engine_commands_total", std::string("type=\"") + kCommandTypes[type] + "\",outcome=\"" + kOutcomes[outcome] + "\"",
                   static_cast<double>(n));
  out.family("hft_engine_events_total", "counter", "Events produced, by type.");
  for (size_t type = 1; type < metrics_.events.size(); ++type)
    out.sample("hft_engine_events_total", std::string("type=\"") + kEventTypes[type] + "\"", static_cast<double>(metrics_.events[type].value()));

  out.family("hft_engine_command_latency_microseconds", "histogram",
             "Per command, from sequencing to applied (stage=\"applied\") and to its acknowledgement, once durable (stage=\"acknowledged\").");
  out.histogram("hft_engine_command_latency_microseconds", "stage=\"applied\"", metrics_.apply_latency_us);
  out.histogram("hft_engine_command_latency_microseconds", "stage=\"acknowledged\"", metrics_.ack_latency_us);
  out.family("hft_engine_journal_fsync_microseconds", "histogram", "One journal group's write() and fdatasync().");
  out.histogram("hft_engine_journal_fsync_microseconds", "", metrics_.fsync_latency_us);
  out.family("hft_engine_snapshot_duration_microseconds", "histogram", "Writing one snapshot, fsync and rename included.");
  out.histogram("hft_engine_snapshot_duration_microseconds", "", metrics_.snapshot_duration_us);

  const PipelineCounters& counters = pipeline_.counters();
  out.family("hft_engine_journal_bytes", "gauge", "Size of the journal file.");
  out.sample("hft_engine_journal_bytes", "", static_cast<double>(counters.journal_bytes.load()));
  out.family("hft_engine_durable_sequence", "gauge", "Last sequence fsynced to the journal.");
  out.sample("hft_engine_durable_sequence", "", static_cast<double>(counters.durable_sequence.load()));

  const uint64_t published = log_.last_sequence();
  const MarketDataStats market_data = market_data_.stats();
  out.family("hft_engine_subscribers", "gauge", "Open streams, by kind.");
  out.sample("hft_engine_subscribers", "stream=\"subscribe\"", static_cast<double>(subscribers_.count()));
  out.sample("hft_engine_subscribers", "stream=\"market_data\"", market_data.subscribers);
  out.family("hft_engine_subscriber_lag_sequences", "gauge", "Published sequences the slowest stream of each kind has not sent yet.");
  const uint64_t slowest_next = subscribers_.slowest().value_or(published + 1);
  out.sample("hft_engine_subscriber_lag_sequences", "stream=\"subscribe\"", static_cast<double>(published + 1 - std::min(slowest_next, published + 1)));
  out.sample("hft_engine_subscriber_lag_sequences", "stream=\"market_data\"",
             static_cast<double>(published - std::min(published, market_data.sequence) + market_data.max_subscriber_lag));
  out.family("hft_engine_market_data_resnapshots_total", "counter", "Market data readers sent fresh snapshots because they owed too many trades.");
  out.sample("hft_engine_market_data_resnapshots_total", "", static_cast<double>(market_data.overflows));

  if (const std::optional<BookGauges> books = read_books(pipeline_)) {
    out.family("hft_engine_last_sequence", "gauge", "Last sequence applied.");
    out.sample("hft_engine_last_sequence", "", static_cast<double>(books->last_sequence));
    out.family("hft_engine_pending_stops", "gauge", "Stop orders waiting for their trigger.");
    out.sample("hft_engine_pending_stops", "", static_cast<double>(books->pending_stops));
    out.family("hft_engine_resting_orders", "gauge", "Orders on the book, by instrument.");
    for (const auto& book : books->books)
      out.sample("hft_engine_resting_orders", "instrument=\"" + std::to_string(book.id) + "\"", static_cast<double>(book.resting_orders));
    out.family("hft_engine_book_levels", "gauge", "Price levels of the book, by instrument and side.");
    for (const auto& book : books->books) {
      out.sample("hft_engine_book_levels", "instrument=\"" + std::to_string(book.id) + "\",side=\"buy\"", static_cast<double>(book.bid_levels));
      out.sample("hft_engine_book_levels", "instrument=\"" + std::to_string(book.id) + "\",side=\"sell\"", static_cast<double>(book.ask_levels));
    }
  }
  return out.text();
}

}  // namespace hft::engine::server
