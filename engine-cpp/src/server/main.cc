// hft-engine: recovers the books from the data directory, then serves EngineService, the gRPC
// health service and server reflection. SIGTERM or SIGINT: stop taking commands, flush and
// fsync, write a snapshot, close the streams, exit 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "engine_config.h"
#include "engine_metrics.h"
#include "engine_service.h"
#include "hft/engine/clock.h"
#include "hft/engine/recovery.h"
#include "tls_files.h"

namespace {

// One JSON object per line on stdout; messages are plain ASCII without quotes by construction.
void log_json(const char* level, const std::string& message) {
  std::printf("{\"time\":%lld,\"level\":\"%s\",\"service\":\"hft-engine\",\"msg\":\"%s\"}\n",
              static_cast<long long>(hft::engine::wall_clock_ns() / 1'000'000), level, message.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hft::engine;
  using namespace hft::engine::server;

  EngineConfig config;
  TlsMaterial tls;
  try {
    config = parse_config(argc, argv);
    tls = load_tls(config);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "hft-engine: invalid configuration: %s\n", e.what());
    return 2;
  }

  // Signals are taken by one thread with sigwait, never by whichever thread they hit.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::filesystem::create_directories(config.data_dir);
  const EngineOptions engine_options{.shard_symbols = config.shard_symbols, .first_order_id = config.first_order_id};
  MatchingEngine engine(engine_options);
  EventLog log(config.event_log_capacity);
  const RecoveryReport report = recover(engine, config.data_dir);
  for (const std::string& skipped : report.skipped_snapshots) log_json("warn", "skipped unreadable snapshot " + skipped);
  if (!report.error.empty()) {
    log_json("error", "recovery failed: " + report.error);
    return 1;
  }
  if (report.journal_tail != JournalTail::Clean)
    log_json("warn", "journal tail cut: " + std::string(to_string(report.journal_tail)) + ", " + std::to_string(report.journal_cut_bytes) + " bytes");
  log_json("info", "recovered to sequence " + std::to_string(report.last_sequence) + " (snapshot " + std::to_string(report.snapshot_sequence) +
                       ", " + std::to_string(report.replayed_commands) + " commands replayed)");
  log.start_at(engine.last_sequence() + 1);

  EngineMetrics metrics;
  Pipeline pipeline(engine, log, metrics,
                    {.data_dir = config.data_dir,
                     .journal = {.group_commit_records = static_cast<uint32_t>(config.group_commit_records),
                                 .group_commit_micros = static_cast<uint32_t>(config.group_commit_delay_us),
                                 .sync = config.fsync},
                     .snapshot_every = config.snapshot_every,
                     .matching_cpu = config.matching_cpu});
  pipeline.start();
  MarketDataHub market_data(log, pipeline, config.market_data_trade_queue);
  market_data.start();

  EngineServiceImpl service(pipeline, log, market_data, config.data_dir, engine_options, report.last_sequence);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(config.listen, server_credentials(tls), &bound_port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  // Two engines on one port would split the order flow between two books: refuse to share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // The order service pings every 10 s to find a dead link, also on streams with nothing to send
  // (a quiet book, an idle projection). gRPC's default allows one ping per 5 minutes without data
  // and answers more with GOAWAY "too_many_pings", which fails every stream on the connection.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    log_json("error", "cannot listen on " + config.listen);
    market_data.stop();
    pipeline.stop();
    return 1;
  }
  MetricsServer metrics_server(metrics, pipeline, log, market_data, service.subscribers());
  if (!config.metrics_listen.empty()) {
    std::string error;
    if (!metrics_server.start(config.metrics_listen, tls, error)) {
      log_json("error", error);
      server->Shutdown();
      market_data.stop();
      pipeline.stop();
      return 1;
    }
    log_json("info", std::string("metrics on ") + (tls.enabled() ? "https" : "http") + "://" + config.metrics_listen.substr(0, config.metrics_listen.rfind(':')) + ":" +
                         std::to_string(metrics_server.port()) + "/metrics");
  }
  server->GetHealthCheckService()->SetServingStatus("hft.v1.EngineService", true);
  log_json("info", "listening on " + config.listen + " data-dir " + config.data_dir + " tls " +
                       (!tls.enabled() ? "plaintext" : tls.client_ca.empty() ? "tls" : "mutual-tls"));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log_json("info", std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + ", draining");
  server->GetHealthCheckService()->SetServingStatus(false);
  pipeline.stop();  // no new commands; queued ones applied, flushed, fsynced; snapshot written
  market_data.stop();  // market data streams end with UNAVAILABLE
  // Streams never end by themselves: give pending acknowledgements a moment to go out, then cancel.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  metrics_server.stop();
  log_json("info", "stopped at sequence " + std::to_string(engine.last_sequence()));
  return 0;
}
