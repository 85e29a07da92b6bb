#!/usr/bin/env bash
# The platform's own processes on loopback, beside the stack: for now the matching engine.
#   scripts/services.sh up|down|status
# Data, logs and pids live under .run/ like the stack's; `down` stops only what `up` started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${HFT_STACK_DIR:-$root/.run}
engine_listen=${HFT_ENGINE_LISTEN:-127.0.0.1:50051}
engine_metrics=${HFT_ENGINE_METRICS_LISTEN:-127.0.0.1:9464}
engine_pidfile=$run_dir/engine/engine.pid
engine_binary=$root/engine-cpp/build/hft-engine

log() { printf '[services] %s\n' "$*"; }

engine_alive() {
  [ -f "$engine_pidfile" ] && [ -r "/proc/$(cat "$engine_pidfile")/cmdline" ] &&
    tr '\0' ' ' <"/proc/$(cat "$engine_pidfile")/cmdline" | grep -qF hft-engine
}

engine_up() {
  mkdir -p "$run_dir/engine" "$run_dir/logs"
  engine_alive && return 0
  if [ ! -x "$engine_binary" ]; then
    log "building the engine"
    cmake -S "$root/engine-cpp" -B "$root/engine-cpp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C "$root/engine-cpp/build" hft-engine >/dev/null
  fi
  log "starting hft-engine on $engine_listen"
  nohup "$engine_binary" --listen="$engine_listen" --metrics-listen="$engine_metrics" --data-dir="$run_dir/engine" >>"$run_dir/logs/engine.log" 2>&1 &
  echo $! >"$engine_pidfile"
  for _ in $(seq 1 50); do
    grep -q "listening on $engine_listen" "$run_dir/logs/engine.log" 2>/dev/null && return 0
    engine_alive || { log "hft-engine exited; see $run_dir/logs/engine.log"; return 1; }
    sleep 0.2
  done
  log "hft-engine did not report listening; see $run_dir/logs/engine.log"
  return 1
}

engine_down() {
  if engine_alive; then
    log "stopping hft-engine (SIGTERM: drain, fsync, snapshot)"
    local pid; pid=$(cat "$engine_pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$engine_pidfile"
}

engine_status() {
  if engine_alive; then
    echo "engine    up    $engine_listen  (gRPC hft.v1.EngineService), metrics http://$engine_metrics/metrics"
  else
    echo "engine    down  $engine_listen"
    return 1
  fi
}

case "${1:-}" in
  up) engine_up && engine_status ;;
  down) engine_down ;;
  status) engine_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
