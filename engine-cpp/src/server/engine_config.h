// The engine process's settings, from --flag=value arguments or HFT_ENGINE_* variables (flags
// win). A bad value stops the process with a message naming the flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hft::engine::server {

struct EngineConfig {
  std::string listen = "127.0.0.1:50051";    // --listen / HFT_ENGINE_LISTEN
  std::string data_dir = "./engine-data";    // --data-dir / HFT_ENGINE_DATA_DIR
  std::vector<std::string> shard_symbols;    // --shard-symbols=BTC-USD,ETH-USD (empty: all)
  uint64_t first_order_id = 1;               // --first-order-id
  uint64_t group_commit_records = 4096;      // --group-commit-records
  int64_t group_commit_delay_us = 200;       // --group-commit-delay-us (microseconds)
  uint64_t snapshot_every = 1'000'000;       // --snapshot-every (commands; 0 = at shutdown only)
  uint64_t event_log_capacity = 1'000'000;   // --event-log-capacity (sequences kept in memory)
  bool fsync = true;                         // --fsync=false only for benchmarks
  int matching_cpu = -1;                     // --matching-cpu: pin the matching thread to this CPU (-1: not pinned)
  uint64_t market_data_trade_queue = 10'000; // --market-data-trade-queue (trades a slow reader may owe)
  std::string metrics_listen = "127.0.0.1:9464";  // --metrics-listen (empty: no metrics endpoint)
  // TLS on the gRPC and metrics listeners when a certificate is given (PEM files; see tls_files.h).
  std::string tls_cert;       // --tls-cert: certificate chain
  std::string tls_key;        // --tls-key: its private key
  std::string tls_client_ca;  // --tls-client-ca: clients must present a certificate this CA signed
};

// Throws std::invalid_argument naming the flag on a bad value or an unknown flag.
EngineConfig parse_config(int argc, char** argv);

}  // namespace hft::engine::server
