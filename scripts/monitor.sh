#!/usr/bin/env bash
# The platform's health in one run, for cron and Nagios-style alerting: the gateway's /health, the
# gRPC health service of the order service, the analytics service and every engine shard, the
# stack's servers, disk space of the data directories, and the projection and analytics consumer
# lags read from the services' /metrics.
#   scripts/monitor.sh [--json]
# Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (a check could not be made, or a setting is
# wrong). The worst check decides, in the order critical, unknown, warning, ok.
# Addresses are the services' own variables (from the environment, else .env, else .env.example),
# so it can watch another deployment; thresholds and the rest are MONITOR_* variables (usage below).
# Settings are assigned by name (printf -v), which shellcheck cannot follow.
# shellcheck disable=SC2154
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# relative paths in settings (.env's TLS files, say) mean what they mean to scripts/services.sh
cd "$root" || exit 3

usage() {
  cat <<'USAGE'
usage: scripts/monitor.sh [--json]
  --json   print one JSON object: {status, exit_code, checked_at, checks: [{name, status, value, message}]}
Exit status: 0 ok, 1 warning, 2 critical, 3 unknown.
Addresses (the services' variables): GATEWAY_LISTEN, ORDER_SERVICE_LISTEN, ORDER_SERVICE_METRICS_LISTEN,
  ANALYTICS_SERVICE_LISTEN, ANALYTICS_SERVICE_METRICS_LISTEN, ENGINE_SHARDS, DATABASE_URL, REDIS_URL,
  KAFKA_BROKERS (X_FILE works as for the services).
TLS as the services' internal calls use it: with TLS_CA_FILE the services are reached over TLS
  (https, gRPC with TLS) and verified against that CA; TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE
  are presented where a listener asks for a client certificate (mutual TLS).
Monitor settings (defaults in brackets):
  MONITOR_GATEWAY_URL          base URL of the gateway [http(s)://$GATEWAY_LISTEN]
  MONITOR_PROMETHEUS_URL       [http://127.0.0.1:$HFT_PROMETHEUS_PORT, port 59090]
  MONITOR_JAEGER_URL           Jaeger's query service [http://127.0.0.1:$HFT_JAEGER_QUERY_PORT, port 56686]
  MONITOR_DISK_PATHS           space-separated data directories [the postgres, kafka, redis, engine and
                               prometheus folders of $HFT_STACK_DIR (.run/) that exist]; empty: no disk check
  MONITOR_DISK_WARN_PERCENT    [80]    MONITOR_DISK_CRIT_PERCENT    [90]   (used space, at or above)
  MONITOR_PROJECTION_LAG_WARN  [10000] MONITOR_PROJECTION_LAG_CRIT  [100000] (engine sequences)
  MONITOR_ANALYTICS_LAG_WARN   [10000] MONITOR_ANALYTICS_LAG_CRIT   [100000] (messages, worst partition)
  MONITOR_TIMEOUT_SECONDS      longest wait for one answer [3]
  MONITOR_SKIP                 comma-separated checks to leave out: gateway, order-service,
                               analytics-service, engine, postgres, redis, kafka, prometheus, jaeger,
                               disk, projection-lag, analytics-lag
USAGE
}

json=false
for arg in "$@"; do
  case $arg in
    --json) json=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "monitor: unknown argument \"$arg\"" >&2; usage >&2; exit 3 ;;
  esac
done

if ! command -v jq >/dev/null; then
  message="jq not found (scripts/install-system-deps.sh installs it)"
  if $json; then printf '{"status":"unknown","exit_code":3,"checks":[{"name":"monitor","status":"unknown","value":null,"message":"%s"}]}\n' "$message"
  else echo "HFT UNKNOWN: $message"; fi
  exit 3
fi

# shellcheck source=scripts/probes.sh
. "$root/scripts/probes.sh"

# Variables the caller did not set take .env's value, then .env.example's, as the services get
# them; one given as X_FILE is left to its file.
load_defaults() {
  local file line key value
  for file in "$root/.env" "$root/.env.example"; do
    [ -f "$file" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
      key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
      [ -z "${!key+set}" ] && [ -z "$(printenv "${key}_FILE")" ] || continue
      if [[ $value =~ ^\"(.*)\"$ ]] || [[ $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
      export "$key=$value"
    done <"$file"
  done
}
load_defaults

errors=()
# setting_or_file <target> <name>: the value of <name>, or the content of the file <name>_FILE names.
setting_or_file() {
  local target=$1 name=$2 file_name="${2}_FILE" value=""
  if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
    errors+=("$name: set either $name or $file_name, not both")
  elif [ -n "${!file_name:-}" ]; then
    value=$(cat -- "${!file_name}" 2>/dev/null) || errors+=("$file_name: cannot read \"${!file_name}\"")
  else
    value=${!name:-}
  fi
  [ -n "$value" ] || [ -n "${!file_name:-}" ] || errors+=("$name: expected a value; it is missing")
  printf -v "$target" '%s' "$value"
}
# whole_number <target> <name> <default> [max]: a whole number from 0 (to max).
whole_number() {
  local target=$1 name=$2 value=${!2:-$3} max=${4:-}
  if [[ ! $value =~ ^[0-9]{1,15}$ ]] || { [ -n "$max" ] && [ "$value" -gt "$max" ]; }; then
    errors+=("$name: expected a whole number${max:+ from 0 to $max}; got \"$value\"")
    value=$3
  fi
  printf -v "$target" '%d' "$((10#$value))"
}
# dial_address <target> <name>: a host:port to connect to; a wildcard listen address means this host.
dial_address() {
  local target=$1 name=$2 value=${!2:-}
  if [[ ! $value =~ ^([A-Za-z0-9.-]*|\[[0-9a-fA-F:]+\]):[0-9]{1,5}$ ]]; then
    errors+=("$name: expected host:port; got \"$value\"")
  fi
  case $value in 0.0.0.0:* | :*) value=127.0.0.1:${value##*:} ;; \[::\]:*) value="[::1]:${value##*:}" ;; esac
  printf -v "$target" '%s' "$value"
}
# ordered <warn name> <warn> <crit name> <crit>: a warning threshold above the critical one is a mistake.
ordered() { [ "$2" -le "$4" ] || errors+=("$1: $2 is above $3 ($4)"); }

dial_address gateway_address GATEWAY_LISTEN
dial_address order_address ORDER_SERVICE_LISTEN
dial_address order_metrics_address ORDER_SERVICE_METRICS_LISTEN
dial_address analytics_address ANALYTICS_SERVICE_LISTEN
dial_address analytics_metrics_address ANALYTICS_SERVICE_METRICS_LISTEN
setting_or_file database_url DATABASE_URL
setting_or_file redis_url REDIS_URL

# TLS as service-kit/src/tls.ts reads it for outgoing calls.
scheme=http grpc_tls=(-plaintext) curl_tls=()
if [ -n "${TLS_CA_FILE:-}" ]; then
  [ -r "$TLS_CA_FILE" ] || errors+=("TLS_CA_FILE: cannot read \"$TLS_CA_FILE\"")
  scheme=https grpc_tls=(-cacert "$TLS_CA_FILE") curl_tls=(--cacert "$TLS_CA_FILE")
fi
if [ -n "${TLS_CLIENT_CERT_FILE:-}" ] && [ -z "${TLS_CLIENT_KEY_FILE:-}" ]; then
  errors+=("TLS_CLIENT_KEY_FILE: expected with TLS_CLIENT_CERT_FILE (the certificate's private key)")
elif [ -z "${TLS_CLIENT_CERT_FILE:-}" ] && [ -n "${TLS_CLIENT_KEY_FILE:-}" ]; then
  errors+=("TLS_CLIENT_CERT_FILE: expected with TLS_CLIENT_KEY_FILE (the key's certificate)")
elif [ -n "${TLS_CLIENT_CERT_FILE:-}" ]; then
  [ -n "${TLS_CA_FILE:-}" ] || errors+=("TLS_CLIENT_CERT_FILE: expected with TLS_CA_FILE (internal calls use TLS only when the servers' CA is set)")
  [ -r "$TLS_CLIENT_CERT_FILE" ] || errors+=("TLS_CLIENT_CERT_FILE: cannot read \"$TLS_CLIENT_CERT_FILE\"")
  [ -r "$TLS_CLIENT_KEY_FILE" ] || errors+=("TLS_CLIENT_KEY_FILE: cannot read \"$TLS_CLIENT_KEY_FILE\"")
  grpc_tls+=(-cert "$TLS_CLIENT_CERT_FILE" -key "$TLS_CLIENT_KEY_FILE") curl_tls+=(--cert "$TLS_CLIENT_CERT_FILE" --key "$TLS_CLIENT_KEY_FILE")
fi
gateway_url=${MONITOR_GATEWAY_URL:-$scheme://$gateway_address}
prometheus_url=${MONITOR_PROMETHEUS_URL:-http://127.0.0.1:${HFT_PROMETHEUS_PORT:-59090}}
jaeger_url=${MONITOR_JAEGER_URL:-http://127.0.0.1:${HFT_JAEGER_QUERY_PORT:-56686}}
whole_number disk_warn MONITOR_DISK_WARN_PERCENT 80 100
whole_number disk_crit MONITOR_DISK_CRIT_PERCENT 90 100
whole_number projection_warn MONITOR_PROJECTION_LAG_WARN 10000
whole_number projection_crit MONITOR_PROJECTION_LAG_CRIT 100000
whole_number analytics_warn MONITOR_ANALYTICS_LAG_WARN 10000
whole_number analytics_crit MONITOR_ANALYTICS_LAG_CRIT 100000
whole_number probe_timeout MONITOR_TIMEOUT_SECONDS 3
[ "$probe_timeout" -ge 1 ] || errors+=("MONITOR_TIMEOUT_SECONDS: expected at least 1; got \"$probe_timeout\"")
ordered MONITOR_DISK_WARN_PERCENT "$disk_warn" MONITOR_DISK_CRIT_PERCENT "$disk_crit"
ordered MONITOR_PROJECTION_LAG_WARN "$projection_warn" MONITOR_PROJECTION_LAG_CRIT "$projection_crit"
ordered MONITOR_ANALYTICS_LAG_WARN "$analytics_warn" MONITOR_ANALYTICS_LAG_CRIT "$analytics_crit"

# ENGINE_SHARDS as the order service reads it: name=host:port@firstOrderId,...
shards=() malformed=0
IFS=, read -r -a shard_parts <<<"${ENGINE_SHARDS:-}"
for part in "${shard_parts[@]}"; do
  part=${part//[[:space:]]/}
  [ -n "$part" ] || continue
  if [[ $part =~ ^([a-z0-9_-]{1,32})=(([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5})@[0-9]{1,19}$ ]]; then
    shards+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
  else
    errors+=("ENGINE_SHARDS: expected name=host:port@firstOrderId; got \"$part\"") malformed=1
  fi
done
[ ${#shards[@]} -gt 0 ] || [ $malformed -eq 1 ] || errors+=("ENGINE_SHARDS: expected at least one shard")

brokers=() malformed=0
IFS=, read -r -a broker_parts <<<"${KAFKA_BROKERS:-}"
for part in "${broker_parts[@]}"; do
  part=${part//[[:space:]]/}
  [ -n "$part" ] || continue
  [[ $part =~ ^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}$ ]] && brokers+=("$part") || errors+=("KAFKA_BROKERS: expected host:port[,host:port...]; got \"$part\"") malformed=1
done
[ ${#brokers[@]} -gt 0 ] || [ $malformed -eq 1 ] || errors+=("KAFKA_BROKERS: expected host:port[,host:port...]; it is missing")

known_checks=" gateway order-service analytics-service engine postgres redis kafka prometheus jaeger disk projection-lag analytics-lag "
skip=" "
IFS=, read -r -a skip_parts <<<"${MONITOR_SKIP:-}"
for part in "${skip_parts[@]}"; do
  part=${part//[[:space:]]/}
  [ -n "$part" ] || continue
  [[ $known_checks == *" $part "* ]] && skip+="$part " || errors+=("MONITOR_SKIP: \"$part\" is not a check; expected some of:${known_checks% }")
done

run_dir=${HFT_STACK_DIR:-$root/.run}
if [ -n "${MONITOR_DISK_PATHS+set}" ]; then
  read -r -a disk_paths <<<"$MONITOR_DISK_PATHS"
else
  disk_paths=()
  for dir in postgres kafka redis engine prometheus; do [ -d "$run_dir/$dir" ] && disk_paths+=("$run_dir/$dir"); done
  [ ${#disk_paths[@]} -gt 0 ] || disk_paths=("$run_dir")
fi

grpcurl=$root/.deps/bin/grpcurl
[ -x "$grpcurl" ] || grpcurl=$(command -v grpcurl || true)
# The TypeScript services' reflection does not describe grpc.health.v1 (the engine's does): the
# .proto (fetched by scripts/generate-contract.mjs) serves every server alike.
health_proto=()
[ -f "$root/.deps/proto/grpc/health/v1/health.proto" ] && health_proto=(-import-path "$root/.deps/proto" -proto grpc/health/v1/health.proto)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------------------------------- checks
# Each check prints lines "name<TAB>status<TAB>value<TAB>message"; an empty value is JSON null.
result() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(tr '\t\r\n' '   ' <<<"$4" | sed 's/ *$//')"; }
# join <separator> <item...>
join() { local separator=$1 out="" item; shift; for item in "$@"; do out+="${out:+$separator}$item"; done; printf '%s' "$out"; }
# Credentials never appear in a message: a URL is shown without its user information.
without_credentials() { sed -E 's#^([a-z]+://)[^@/]*@#\1#' <<<"$1"; }

check_gateway() {
  local url=${gateway_url%/}/health code
  code=$(curl -sS "${curl_tls[@]}" -o "$work/gateway.body" -w '%{http_code}' --max-time "$probe_timeout" "$url" 2>"$work/gateway.error")
  case $code in
    200) result gateway ok 200 "$url: every dependency answers" ;;
    503)
      local down
      down=$(jq -r '[.dependencies[]? | select(.up | not) | "\(.name) at \(.target): \(.status)"] | join("; ")' "$work/gateway.body" 2>/dev/null)
      result gateway critical 503 "$url: ${down:-unavailable (the gateway names the dependency only to loopback callers and admin tokens)}"
      ;;
    000 | "") result gateway critical "" "$url: $(sed 's/^curl: ([0-9]*) //' "$work/gateway.error")" ;;
    *) result gateway critical "$code" "$url: unexpected HTTP status $code" ;;
  esac
}

# check_grpc <name> <host:port> <service...>: the standard health service, asked for each service.
check_grpc() {
  local name=$1 address=$2; shift 2
  if [ -z "$grpcurl" ]; then result "$name" unknown "" "grpcurl not found (scripts/install-tools.sh puts it in .deps/bin)"; return; fi
  local service out status worst=ok value=SERVING parts=()
  for service in "$@"; do
    if ! out=$("$grpcurl" "${grpc_tls[@]}" -connect-timeout "$probe_timeout" -max-time "$probe_timeout" "${health_proto[@]}" \
      -format json -d "{\"service\":\"$service\"}" "$address" grpc.health.v1.Health/Check 2>&1); then
      out=$(tail -n 3 <<<"$out" | tr '\n' ' ' | sed -E 's/ +$//; s/^Failed to dial target host "[^"]*": //; s/.*error while dialing: dial tcp [^ ]+: //; s/"$//')
      # a server that cannot be reached fails every service alike: say it once
      if [ ${#parts[@]} -eq 0 ] && ! grep -q '^ERROR:' <<<"$out"; then result "$name" critical "" "$address: $out"; return; fi
      parts+=("$service: $out") worst=critical value=""
      continue
    fi
    status=$(jq -r '.status // "UNKNOWN"' <<<"$out" 2>/dev/null || echo "unreadable answer")
    parts+=("$service $status")
    [ "$status" = SERVING ] || { worst=critical; [ "$value" != SERVING ] || value=$status; }
  done
  result "$name" "$worst" "$value" "$address: $(join "; " "${parts[@]}")"
}

check_postgres() {
  local shown out status=0
  shown=$(without_credentials "$database_url")
  out=$(probe_postgres "$database_url") || status=$?
  case $status in
    0) result postgres ok "" "$shown: accepting connections" ;;
    3) result postgres unknown "" "$shown: $out" ;;
    *) result postgres critical "" "$shown: $out" ;;
  esac
}

check_redis() {
  local shown out
  shown=$(without_credentials "$redis_url")
  if out=$(probe_redis "$redis_url"); then result redis ok "" "$shown: PONG"; else result redis critical "" "$shown: $out"; fi
}

check_kafka() {
  local broker out down=() up=0
  for broker in "${brokers[@]}"; do
    if out=$(probe_kafka "${broker%:*}" "${broker##*:}"); then up=$((up + 1)); else down+=("$broker: $out"); fi
  done
  if [ ${#down[@]} -eq 0 ]; then
    result kafka ok "$up" "$(join ", " "${brokers[@]}"): every broker answers"
  elif [ "$up" -eq 0 ]; then
    result kafka critical 0 "no broker answers: $(join "; " "${down[@]}")"
  else
    result kafka warning "$up" "$up of ${#brokers[@]} brokers answer; down: $(join "; " "${down[@]}")"
  fi
}

# Prometheus and Jaeger down is a warning: trading goes on, only watching it does not.
check_http_server() {
  local name=$1 probe=$2 url=$3 out
  if out=$("$probe" "$url"); then result "$name" ok "" "$url: ready"; else result "$name" warning "" "$url: $out"; fi
}

# status_of <value> <warn> <crit>
status_of() { if [ "$1" -ge "$3" ]; then echo critical; elif [ "$1" -ge "$2" ]; then echo warning; else echo ok; fi; }

# One check per filesystem holding the data directories.
check_disks() {
  local path line mount percent
  declare -A holds=() used=()
  local mounts=()
  for path in "${disk_paths[@]}"; do
    if [ ! -e "$path" ]; then result "disk:$path" unknown "" "$path does not exist (MONITOR_DISK_PATHS)"; continue; fi
    if ! line=$(timeout "$probe_timeout" df -P "$path" 2>&1 | tail -n 1) || [[ ! $line =~ ([0-9]+)%[[:space:]]+(/.*)$ ]]; then
      result "disk:$path" unknown "" "df $path: $line"; continue
    fi
    percent=${BASH_REMATCH[1]} mount=${BASH_REMATCH[2]}
    [ -n "${holds[$mount]+set}" ] || { mounts+=("$mount"); holds[$mount]=""; }
    holds[$mount]+="${holds[$mount]:+, }$path" used[$mount]=$percent
  done
  for mount in "${mounts[@]}"; do
    result "disk:$mount" "$(status_of "${used[$mount]}" "$disk_warn" "$disk_crit")" "${used[$mount]}" \
      "${used[$mount]}% used on $mount (warning at $disk_warn%, critical at $disk_crit%), holding ${holds[$mount]}"
  done
}

# check_lag <name> <metrics host:port> <metric> <unit> <warn> <crit> <why there may be no sample>:
# the largest sample of a gauge over its labels.
check_lag() {
  local name=$1 url="$scheme://$2/metrics" metric=$3 unit=$4 warn=$5 crit=$6 absent=$7 text worst
  if ! text=$(curl -sS "${curl_tls[@]}" -f --max-time "$probe_timeout" "$url" 2>&1); then
    result "$name" unknown "" "cannot read $url: $(sed 's/^curl: ([0-9]*) //' <<<"$text")"; return
  fi
  if ! grep -q "^# TYPE $metric gauge" <<<"$text"; then result "$name" unknown "" "$url does not export $metric"; return; fi
  # "<labels> <value>" of the largest sample
  worst=$(sed -nE "s/^$metric(\{[^}]*\})? ([-+0-9.eE]+|NaN).*/\1 \2/p" <<<"$text" | awk '$2 != "NaN" && (best == "" || $2 + 0 > best + 0) { best = $2; labels = $1 } END { if (best != "") print labels, best }')
  if [ -z "$worst" ]; then result "$name" ok "" "$metric has no sample: $absent"; return; fi
  local value=${worst##* } labels=${worst% *}
  value=$(printf '%.0f' "$value")
  result "$name" "$(status_of "$value" "$warn" "$crit")" "$value" "$value $unit behind at $metric$labels (warning at $warn, critical at $crit)"
}

# ------------------------------------------------------------------------------- run and report
checks=0
# start <name> <command...>: runs one check in the background; its lines land in its own file.
start() {
  local name=$1; shift
  [[ $skip == *" ${name%%:*} "* ]] && return
  checks=$((checks + 1))
  printf '%s' "$name" >"$work/$checks.name"
  "$@" >"$work/$checks.out" 2>"$work/$checks.err" &
}

if [ ${#errors[@]} -gt 0 ]; then
  for error in "${errors[@]}"; do result config unknown "" "$error"; done >"$work/results"
else
  start gateway check_gateway
  start order-service check_grpc order-service "$order_address" hft.v1.OrderService hft.v1.MarketDataService
  start analytics-service check_grpc analytics-service "$analytics_address" hft.v1.AnalyticsService
  for shard in "${shards[@]}"; do start "engine:${shard%%=*}" check_grpc "engine:${shard%%=*}" "${shard#*=}" hft.v1.EngineService; done
  start postgres check_postgres
  start redis check_redis
  start kafka check_kafka
  start prometheus check_http_server prometheus probe_prometheus "$prometheus_url"
  start jaeger check_http_server jaeger probe_jaeger "$jaeger_url"
  [ ${#disk_paths[@]} -eq 0 ] || start disk check_disks
  start projection-lag check_lag projection-lag "$order_metrics_address" hft_projection_lag_sequences sequences "$projection_warn" "$projection_crit" \
    "this replica is not the projection leader, or no engine event arrived since it started"
  start analytics-lag check_lag analytics-lag "$analytics_metrics_address" analytics_consumer_lag messages "$analytics_warn" "$analytics_crit" \
    "no partition is assigned to this replica yet"
  wait
  : >"$work/results"
  for ((i = 1; i <= checks; i++)); do
    if [ -s "$work/$i.out" ]; then cat "$work/$i.out"; else result "$(cat "$work/$i.name")" unknown "" "the check gave no result: $(head -c 300 "$work/$i.err")"; fi
  done >"$work/results"
fi

overall=ok code=0
grep -q $'\tcritical\t' "$work/results" && { overall=critical code=2; }
[ $code -eq 0 ] && grep -q $'\tunknown\t' "$work/results" && { overall=unknown code=3; }
[ $code -eq 0 ] && grep -q $'\twarning\t' "$work/results" && { overall=warning code=1; }

if $json; then
  jq -Rn --arg status "$overall" --argjson code "$code" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
    [inputs | split("\t") | {name: .[0], status: .[1], value: (.[2] as $v | if $v == "" then null else ($v | tonumber? // $v) end), message: .[3]}]
    | {status: $status, exit_code: $code, checked_at: $at, checks: .}' <"$work/results"
else
  not_ok=$(awk -F'\t' '$2 != "ok" { printf "%s%s %s", sep, $1, $2; sep = ", " }' "$work/results")
  echo "HFT ${overall^^}${not_ok:+: $not_ok}"
  awk -F'\t' '{ printf "%-8s  %-18s  %s\n", toupper($2), $1, $4 }' "$work/results"
fi
exit $code
