#!/usr/bin/env bash
# The benchmarks of docs/BENCHMARKS.md, run as that page runs them (`make bench`, `make load`).
#   scripts/bench.sh all [--profile=quick] [--only=SCENARIO,...] [--out=DIR]
#     all        the load harness (bench/): every scenario beside its ceiling with a profile of
#                bench/profiles.json (default quick, a few minutes); one JSON file per scenario in
#                .run/bench/<time>/ (or --out); needs the local stack up
#   scripts/bench.sh report [--last=N | RUN_DIR...]
#     report     docs/BENCHMARKS.md's generated section and docs/bench/*.svg from the last N runs (3)
#   scripts/bench.sh engine|replay|grpc|orders|analytics|gateway [flags of that benchmark...]
#     engine     engine_bench: one command type at a time on one book (Google Benchmark)
#     replay     replay_bench: a mixed order flow in process, in memory and journaled
#     grpc       grpc_load against a fresh hft-engine on HFT_BENCH_ENGINE_LISTEN (127.0.0.1:50151)
#     orders     order-service/bench/load.ts, the order service load generator (needs the stack up)
#     analytics  analytics-service/bench/consume.ts (needs the stack up)
#     gateway    gateway/bench/load.ts (needs `scripts/services.sh up`; settings from DURATION_S,
#                CONCURRENCY, CONNECTIONS, not flags)
# Figures are printed, never asserted; scratch data goes to a temporary directory that is removed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=$root/engine-cpp/build
names="engine|replay|grpc|orders|analytics|gateway|all|report"

usage() { echo "usage: $0 $names [flags of that benchmark...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
which=$1; shift

scratch=$(mktemp -d)
engine_pid=""
cleanup() {
  if [ -n "$engine_pid" ] && kill -0 "$engine_pid" 2>/dev/null; then kill -TERM "$engine_pid"; wait "$engine_pid" || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# The Release build the figures are measured with; ninja rebuilds only what changed.
build_engine() {
  [ -f "$build/build.ninja" ] || cmake -S engine-cpp -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" "$@" >/dev/null
}

run_engine_bench() {
  build_engine engine_bench
  (cd "$scratch" && "$build/engine_bench" --benchmark_min_time=0.5 "$@")
}

run_replay() {
  build_engine replay_bench
  # replay_bench journals to ./replay-bench-data unless told otherwise
  (cd "$scratch" && "$build/replay_bench" --journal-dir="$scratch/journal" "$@")
}

run_grpc() {
  build_engine hft-engine grpc_load
  local listen=${HFT_BENCH_ENGINE_LISTEN:-127.0.0.1:50151}
  "$build/hft-engine" --listen="$listen" --data-dir="$scratch/engine" --metrics-listen=127.0.0.1:0 >"$scratch/engine.log" 2>&1 &
  engine_pid=$!
  for _ in $(seq 1 100); do
    grep -qF "listening on $listen" "$scratch/engine.log" && break
    kill -0 "$engine_pid" 2>/dev/null || { echo "bench: hft-engine did not start on $listen:" >&2; cat "$scratch/engine.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -qF "listening on $listen" "$scratch/engine.log" || { echo "bench: hft-engine did not report listening on $listen within 10 s" >&2; exit 1; }
  (cd "$scratch" && "$build/grpc_load" --target="$listen" "$@")
  kill -TERM "$engine_pid"
  wait "$engine_pid"
  engine_pid=""
}

run_orders() { node --conditions=@hft/source --import tsx order-service/bench/load.ts "$@"; }
run_analytics() { node --conditions=@hft/source --import tsx analytics-service/bench/consume.ts "$@"; }
run_gateway() {
  [ $# -eq 0 ] || { echo "bench: gateway takes no flags; set DURATION_S, CONCURRENCY or CONNECTIONS instead (got: $*)" >&2; exit 2; }
  npx tsx --conditions=@hft/source gateway/bench/load.ts
}

# The harness: its flags and profile are checked before anything is built.
run_all() {
  local arg
  for arg in "$@"; do
    case $arg in
      --profile=*|--only=*|--out=*) ;;
      *) echo "bench: all takes --profile=NAME, --only=SCENARIO,... and --out=DIR (got: $arg)" >&2; exit 2 ;;
    esac
  done
  local profile=quick
  for arg in "$@"; do case $arg in --profile=*) profile=${arg#--profile=} ;; esac; done
  node -e 'const p = require("./bench/profiles.json"); if (!(process.argv[1] in p)) { console.error(`bench: no profile "${process.argv[1]}" in bench/profiles.json; there are: ${Object.keys(p).join(", ")}`); process.exit(2); }' "$profile"
  [ -x .deps/bin/ghz ] || { echo "bench: .deps/bin/ghz is missing; run scripts/install-tools.sh" >&2; exit 1; }
  build_engine hft-engine replay_bench grpc_load grpc_echo_server
  node --conditions=@hft/source --import tsx bench/src/run.ts "$@"
}

case $which in
  all) run_all "$@" ;;
  report) node --conditions=@hft/source --import tsx bench/src/write-report.ts "$@" ;;
  engine) run_engine_bench "$@" ;;
  replay) run_replay "$@" ;;
  grpc) run_grpc "$@" ;;
  orders) run_orders "$@" ;;
  analytics) run_analytics "$@" ;;
  gateway) run_gateway "$@" ;;
  *) echo "bench: \"$which\" is not a benchmark; expected one of: $names" >&2; exit 2 ;;
esac
