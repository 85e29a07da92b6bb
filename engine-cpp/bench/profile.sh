#!/usr/bin/env bash
# The engine's hot spots, with perf: records replay_bench (in process) or a fresh hft-engine
# driven by grpc_load (over gRPC on loopback), then prints from `perf report --stdio` each
# thread's share of the samples and the top functions of the busiest threads.
#   engine-cpp/bench/profile.sh replay [replay_bench flags...]   (default: section 1, five runs)
#   engine-cpp/bench/profile.sh grpc [grpc_load flags...]
# Settings (environment):
#   HFT_PROFILE_BUILD          build directory with the binaries (engine-cpp/build)
#   HFT_PROFILE_ENGINE_FLAGS   extra hft-engine flags for `grpc`, e.g. "--group-commit-delay-us=2000"
#   HFT_PROFILE_LISTEN         the engine's address for `grpc` (127.0.0.1:50152; loopback only)
#   HFT_PROFILE_SECONDS        seconds of the grpc run recorded, after one second of warm-up (3)
#   HFT_PROFILE_TOP            functions listed per thread (15)
#   HFT_PROFILE_CALLERS=1      also print the call graph of the top functions (dwarf unwinding;
#                              slows the recorded process down, so it changes the figures)
#   HFT_PROFILE_KEEP=DIR       keep perf.data and the logs there instead of a temporary directory
# It samples the cpu-clock software event: in a VM without a PMU (as on the development machine)
# the hardware cycles event does not exist. Needs perf (Debian's linux-perf) and root, or
# kernel.perf_event_paranoid <= 1 for one's own processes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${HFT_PROFILE_BUILD:-$root/engine-cpp/build}
listen=${HFT_PROFILE_LISTEN:-127.0.0.1:50152}
seconds=${HFT_PROFILE_SECONDS:-3}
top=${HFT_PROFILE_TOP:-15}

usage() { echo "usage: $0 replay|grpc [flags of replay_bench or grpc_load...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
which=$1; shift
command -v perf >/dev/null || { echo "profile: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
case $listen in 127.0.0.1:*|localhost:*|\[::1\]:*) ;; *) echo "profile: HFT_PROFILE_LISTEN must be a loopback address, got $listen" >&2; exit 2 ;; esac

if [ -n "${HFT_PROFILE_KEEP:-}" ]; then out=$HFT_PROFILE_KEEP; mkdir -p "$out"; else out=$(mktemp -d); fi
engine_pid="" load_pid=""
cleanup() {
  for pid in $load_pid $engine_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  done
  rm -rf "$out/engine-data" "$out/journal"
  [ -n "${HFT_PROFILE_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

call_graph=(-g)
[ "${HFT_PROFILE_CALLERS:-0}" = 1 ] && call_graph=(--call-graph dwarf,16384)

# perf report's table without its comments, blank lines and column padding.
table() { perf report "$@" --stdio --no-children 2>/dev/null | grep -v -e '^#' -e '^$' | sed -E 's/[[:space:]]+(-[[:space:]]*)*$//' | cut -c1-160; }

# report <perf.data>: the share of each thread, then the top functions of those above 5%.
report() {
  local data=$1 comms
  echo "--- samples by thread, % of all samples ($(perf report -i "$data" --stdio --header-only 2>/dev/null | grep -m1 -o 'sample duration.*' || true))"
  table -i "$data" --sort comm --percent-limit 1 -g none
  comms=$(table -i "$data" --sort comm --percent-limit 5 -g none | awk '{ $1 = ""; sub(/^ /, ""); print }')
  while IFS= read -r comm; do
    [ -n "$comm" ] || continue
    echo "--- thread $comm: top $top functions by own samples, % of the thread's"
    table -i "$data" --comms="$comm" --sort dso,symbol --percentage relative --percent-limit 0.5 -g none | head -n "$top"
    if [ "${HFT_PROFILE_CALLERS:-0}" = 1 ]; then
      echo "--- thread $comm: callers of its top functions"
      table -i "$data" --comms="$comm" --sort symbol --percentage relative --percent-limit 3 -G | head -n 120
    fi
  done <<<"$comms"
}

case $which in
  replay)
    [ -x "$build/replay_bench" ] || { echo "profile: no $build/replay_bench (build the engine first)" >&2; exit 1; }
    # The workload is generated first by an engine of its own (its time is printed): with five
    # replays it is about a sixth of the samples (generate_workload and what it calls).
    [ $# -gt 0 ] || set -- --commands=2000000 --sections=1 --runs=5
    (cd "$out" && perf record -e cpu-clock -F 2000 "${call_graph[@]}" -o "$out/perf.data" -- \
      "$build/replay_bench" --journal-dir="$out/journal" "$@") 2>"$out/perf-record.log"
    report "$out/perf.data"
    ;;
  grpc)
    [ -x "$build/hft-engine" ] && [ -x "$build/grpc_load" ] || { echo "profile: no $build/hft-engine or grpc_load (build the engine first)" >&2; exit 1; }
    # shellcheck disable=SC2086 # the engine flags are a list
    "$build/hft-engine" --listen="$listen" --data-dir="$out/engine-data" --metrics-listen=127.0.0.1:0 ${HFT_PROFILE_ENGINE_FLAGS:-} >"$out/engine.log" 2>&1 &
    engine_pid=$!
    for _ in $(seq 1 100); do
      grep -qF "listening on $listen" "$out/engine.log" && break
      kill -0 "$engine_pid" 2>/dev/null || { echo "profile: hft-engine did not start:" >&2; cat "$out/engine.log" >&2; exit 1; }
      sleep 0.1
    done
    grep -qF "listening on $listen" "$out/engine.log" || { echo "profile: hft-engine did not listen on $listen within 10 s" >&2; exit 1; }
    "$build/grpc_load" --target="$listen" "$@" >"$out/load.log" 2>&1 &
    load_pid=$!
    sleep 1
    kill -0 "$load_pid" 2>/dev/null || { echo "profile: grpc_load ended within a second; give it more --commands:" >&2; cat "$out/load.log" >&2; exit 1; }
    perf record -e cpu-clock -F 2000 "${call_graph[@]}" -p "$engine_pid" -o "$out/perf.data" -- sleep "$seconds" 2>"$out/perf-record.log"
    if kill -0 "$load_pid" 2>/dev/null; then still=" (still running when the recording ended)"; else still=""; fi
    wait "$load_pid" || { echo "profile: grpc_load failed:" >&2; cat "$out/load.log" >&2; exit 1; }
    load_pid=""
    echo "--- grpc_load$still"
    cat "$out/load.log"
    report "$out/perf.data"
    ;;
  *) usage ;;
esac
