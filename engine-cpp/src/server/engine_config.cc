#include "engine_config.h"

#include <sched.h>

#include <cstdlib>
#include <map>
#include <stdexcept>

namespace hft::engine::server {

namespace {

uint64_t parse_uint(const std::string& flag, const std::string& value, uint64_t min) {
  size_t used = 0;
  uint64_t parsed = 0;
  try {
    parsed = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || value[0] == '-' || parsed < min)
    throw std::invalid_argument("--" + flag + ": expected a whole number of at least " + std::to_string(min) + ", got \"" + value + "\"");
  return parsed;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// A CPU this process may run on (its affinity mask, as taskset or a container's cpuset leave it).
int parse_cpu(const std::string& flag, const std::string& value) {
  const uint64_t cpu = parse_uint(flag, value, 0);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(cpu, &allowed)) {
    std::string cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed)) {
        if (!cpus.empty()) cpus += ',';
        cpus += std::to_string(c);
      }
    throw std::invalid_argument("--" + flag + ": expected -1 or a CPU this process may run on (" + cpus + "), got \"" + value + "\"");
  }
  return static_cast<int>(cpu);
}

}  // namespace

EngineConfig parse_config(int argc, char** argv) {
  static const char* const kFlags[] = {"listen", "data-dir", "shard-symbols", "first-order-id", "group-commit-records",
                                       "group-commit-delay-us", "snapshot-every", "event-log-capacity", "fsync",
                                       "market-data-trade-queue", "metrics-listen", "tls-cert", "tls-key", "tls-client-ca",
                                       "matching-cpu"};
  std::map<std::string, std::string> values;
  for (const char* flag : kFlags) {
    std::string variable = std::string("HFT_ENGINE_") + flag;
    for (char& c : variable) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    if (const char* value = std::getenv(variable.c_str())) values[flag] = value;
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) throw std::invalid_argument("arguments are --flag=value, got \"" + arg + "\"");
    std::string flag = arg.substr(2, eq - 2);
    bool known = false;
    for (const char* f : kFlags) known = known || flag == f;
    if (!known) throw std::invalid_argument("--" + flag + ": unknown flag");
    values[flag] = arg.substr(eq + 1);
  }

  EngineConfig config;
  for (const auto& [flag, value] : values) {
    if (flag == "listen") {
      if (value.find(':') == std::string::npos) throw std::invalid_argument("--listen: expected host:port, got \"" + value + "\"");
      config.listen = value;
    } else if (flag == "data-dir") {
      if (value.empty()) throw std::invalid_argument("--data-dir: expected a directory");
      config.data_dir = value;
    } else if (flag == "shard-symbols") {
      config.shard_symbols = split(value);
    } else if (flag == "first-order-id") {
      config.first_order_id = parse_uint(flag, value, 1);
    } else if (flag == "group-commit-records") {
      config.group_commit_records = parse_uint(flag, value, 1);
    } else if (flag == "group-commit-delay-us") {
      config.group_commit_delay_us = static_cast<int64_t>(parse_uint(flag, value, 0));
    } else if (flag == "snapshot-every") {
      config.snapshot_every = parse_uint(flag, value, 0);
    } else if (flag == "event-log-capacity") {
      config.event_log_capacity = parse_uint(flag, value, 1);
    } else if (flag == "market-data-trade-queue") {
      config.market_data_trade_queue = parse_uint(flag, value, 1);
    } else if (flag == "metrics-listen") {
      if (!value.empty() && value.find(':') == std::string::npos)
        throw std::invalid_argument("--metrics-listen: expected host:port or nothing, got \"" + value + "\"");
      config.metrics_listen = value;
    } else if (flag == "tls-cert") {
      config.tls_cert = value;
    } else if (flag == "tls-key") {
      config.tls_key = value;
    } else if (flag == "tls-client-ca") {
      config.tls_client_ca = value;
    } else if (flag == "matching-cpu") {
      config.matching_cpu = value == "-1" ? -1 : parse_cpu(flag, value);
    } else if (flag == "fsync") {
      if (value != "true" && value != "false") throw std::invalid_argument("--fsync: expected true or false, got \"" + value + "\"");
      config.fsync = value == "true";
    }
  }
  if (!config.tls_cert.empty() && config.tls_key.empty()) throw std::invalid_argument("--tls-key: expected with --tls-cert (the certificate's private key)");
  if (config.tls_cert.empty() && !config.tls_key.empty()) throw std::invalid_argument("--tls-cert: expected with --tls-key (the key's certificate)");
  if (!config.tls_client_ca.empty() && config.tls_cert.empty())
    throw std::invalid_argument("--tls-client-ca: client certificates are checked only by a TLS listener; give --tls-cert and --tls-key too");
  return config;
}

}  // namespace hft::engine::server
