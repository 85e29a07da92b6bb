#!/usr/bin/env bash
# The platform's own processes on loopback, beside the stack: the matching engine, the order
# service, the analytics service and the gateway in front of them (run from their TypeScript
# sources; settings from .env.example, overridden by .env).
#   scripts/services.sh up|down|status
# Data, logs and pids live under .run/ like the stack's; `down` stops only what `up` started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${HFT_STACK_DIR:-$root/.run}
engine_listen=${HFT_ENGINE_LISTEN:-127.0.0.1:50051}
engine_metrics=${HFT_ENGINE_METRICS_LISTEN:-127.0.0.1:9464}
engine_pidfile=$run_dir/engine/engine.pid
engine_binary=$root/engine-cpp/build/hft-engine

order_pidfile=$run_dir/order-service/order-service.pid
analytics_pidfile=$run_dir/analytics-service/analytics-service.pid
gateway_pidfile=$run_dir/gateway/gateway.pid

log() { printf '[services] %s\n' "$*"; }

# Whether `pattern` appeared in `file` after byte `offset` (the log's size before this start):
# lines from earlier runs must not count.
logged_since() {
  local file=$1 offset=$2 pattern=$3
  [ -f "$file" ] && tail -c +"$((offset + 1))" "$file" | grep -qF "$pattern"
}
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# The services read their settings from the environment: the documented defaults, then .env.
load_env() {
  set -a
  # shellcheck disable=SC1091
  . "$root/.env.example"
  # shellcheck disable=SC1091
  [ -f "$root/.env" ] && . "$root/.env"
  set +a
}

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
  local offset; offset=$(log_size "$run_dir/logs/engine.log")
  nohup "$engine_binary" --listen="$engine_listen" --metrics-listen="$engine_metrics" --data-dir="$run_dir/engine" >>"$run_dir/logs/engine.log" 2>&1 &
  echo $! >"$engine_pidfile"
  for _ in $(seq 1 50); do
    logged_since "$run_dir/logs/engine.log" "$offset" "listening on $engine_listen" && return 0
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

order_alive() {
  [ -f "$order_pidfile" ] && [ -r "/proc/$(cat "$order_pidfile")/cmdline" ] &&
    tr '\0' ' ' <"/proc/$(cat "$order_pidfile")/cmdline" | grep -qF order-service/src/main.ts
}

order_up() {
  mkdir -p "$run_dir/order-service" "$run_dir/logs"
  order_alive && return 0
  load_env
  log "starting the order service on $ORDER_SERVICE_LISTEN"
  local offset; offset=$(log_size "$run_dir/logs/order-service.log")
  cd "$root"
  OTEL_SERVICE_NAME=hft-order-service nohup node --conditions=@hft/source --import tsx --import @hft/otel/register order-service/src/main.ts >>"$run_dir/logs/order-service.log" 2>&1 &
  echo $! >"$order_pidfile"
  for _ in $(seq 1 150); do
    logged_since "$run_dir/logs/order-service.log" "$offset" '"msg":"order service listening"' && return 0
    order_alive || { log "the order service exited; see $run_dir/logs/order-service.log"; tail -n 5 "$run_dir/logs/order-service.log"; return 1; }
    sleep 0.1
  done
  log "the order service did not report listening; see $run_dir/logs/order-service.log"
  return 1
}

order_down() {
  if order_alive; then
    log "stopping the order service (SIGTERM: drain calls, commit the projection, flush Kafka)"
    local pid; pid=$(cat "$order_pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$order_pidfile"
}

order_status() {
  load_env
  if order_alive; then
    echo "orders    up    $ORDER_SERVICE_LISTEN  (gRPC hft.v1.OrderService)"
  else
    echo "orders    down  $ORDER_SERVICE_LISTEN"
    return 1
  fi
}

analytics_alive() {
  [ -f "$analytics_pidfile" ] && [ -r "/proc/$(cat "$analytics_pidfile")/cmdline" ] &&
    tr '\0' ' ' <"/proc/$(cat "$analytics_pidfile")/cmdline" | grep -qF analytics-service/src/main.ts
}

analytics_up() {
  mkdir -p "$run_dir/analytics-service" "$run_dir/logs"
  analytics_alive && return 0
  load_env
  log "starting the analytics service on $ANALYTICS_SERVICE_LISTEN"
  local offset; offset=$(log_size "$run_dir/logs/analytics-service.log")
  cd "$root"
  OTEL_SERVICE_NAME=hft-analytics-service nohup node --conditions=@hft/source --import tsx --import @hft/otel/register analytics-service/src/main.ts >>"$run_dir/logs/analytics-service.log" 2>&1 &
  echo $! >"$analytics_pidfile"
  for _ in $(seq 1 150); do
    logged_since "$run_dir/logs/analytics-service.log" "$offset" '"msg":"analytics service listening"' && return 0
    analytics_alive || { log "the analytics service exited; see $run_dir/logs/analytics-service.log"; tail -n 5 "$run_dir/logs/analytics-service.log"; return 1; }
    sleep 0.1
  done
  log "the analytics service did not report listening; see $run_dir/logs/analytics-service.log"
  return 1
}

analytics_down() {
  if analytics_alive; then
    log "stopping the analytics service (SIGTERM: finish the batch in flight, leave the consumer group)"
    local pid; pid=$(cat "$analytics_pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$analytics_pidfile"
}

analytics_status() {
  load_env
  if analytics_alive; then
    echo "analytics up    $ANALYTICS_SERVICE_LISTEN  (gRPC hft.v1.AnalyticsService), metrics http://$ANALYTICS_SERVICE_METRICS_LISTEN/metrics"
  else
    echo "analytics down  $ANALYTICS_SERVICE_LISTEN"
    return 1
  fi
}

gateway_alive() {
  [ -f "$gateway_pidfile" ] && [ -r "/proc/$(cat "$gateway_pidfile")/cmdline" ] &&
    tr '\0' ' ' <"/proc/$(cat "$gateway_pidfile")/cmdline" | grep -qF gateway/src/main.ts
}

gateway_up() {
  mkdir -p "$run_dir/gateway" "$run_dir/logs"
  gateway_alive && return 0
  load_env
  log "starting the gateway on $GATEWAY_LISTEN"
  local offset; offset=$(log_size "$run_dir/logs/gateway.log")
  cd "$root"
  OTEL_SERVICE_NAME=hft-gateway nohup node --conditions=@hft/source --import tsx --import @hft/otel/register gateway/src/main.ts >>"$run_dir/logs/gateway.log" 2>&1 &
  echo $! >"$gateway_pidfile"
  for _ in $(seq 1 150); do
    logged_since "$run_dir/logs/gateway.log" "$offset" '"msg":"gateway listening"' && return 0
    gateway_alive || { log "the gateway exited; see $run_dir/logs/gateway.log"; tail -n 5 "$run_dir/logs/gateway.log"; return 1; }
    sleep 0.1
  done
  log "the gateway did not report listening; see $run_dir/logs/gateway.log"
  return 1
}

gateway_down() {
  if gateway_alive; then
    log "stopping the gateway (SIGTERM: end streams and WebSockets, close idle connections)"
    local pid; pid=$(cat "$gateway_pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$gateway_pidfile"
}

gateway_status() {
  load_env
  if gateway_alive; then
    echo "gateway   up    http://$GATEWAY_LISTEN  (the web console at /; Connect, gRPC, gRPC-Web, REST /api, /ws, /docs, /health, /metrics)"
  else
    echo "gateway   down  $GATEWAY_LISTEN"
    return 1
  fi
}

case "${1:-}" in
  up) engine_up && order_up && analytics_up && gateway_up && engine_status && order_status && analytics_status && gateway_status ;;
  # The order service goes first: it commits its projection while the engine still answers.
  # The analytics service only reads Kafka, so it may stop at any point.
  # The gateway goes first: its clients' streams end before the backends behind them.
  down) gateway_down; analytics_down; order_down; engine_down ;;
  status)
    code=0
    engine_status || code=1
    order_status || code=1
    analytics_status || code=1
    gateway_status || code=1
    exit $code
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
