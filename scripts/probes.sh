# shellcheck shell=bash
# Protocol-level probes of the stack's servers, sourced by scripts/stack.sh (status) and
# scripts/monitor.sh, so both mean the same thing by "up". Each returns 0 when the server answers
# its own protocol within $probe_timeout seconds (default 3), and prints why not otherwise.
probe_timeout=${probe_timeout:-3}

# probe_postgres <libpq URL or conninfo>: pg_isready, which needs no credentials. Returns its
# code: 1 rejecting connections (starting or stopping), 2 no answer, 3 unusable parameters.
probe_postgres() {
  local bin status=0
  bin=$(command -v pg_isready || ls /usr/lib/postgresql/*/bin/pg_isready 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$bin" ] || { echo "pg_isready not found (Debian package postgresql-client)"; return 3; }
  "$bin" -q -t "$probe_timeout" -d "$1" || status=$?
  case $status in
    0) ;;
    1) echo "rejecting connections (starting up or shutting down)" ;;
    2) echo "no response (nothing listening, or silent for ${probe_timeout}s)" ;;
    *) echo "pg_isready could not make the attempt (exit $status)" ;;
  esac
  return $status
}

# probe_redis <redis:// URL>: PING answered with PONG (the URL may carry a password).
probe_redis() {
  local reply
  reply=$(timeout "$probe_timeout" redis-cli --no-auth-warning -u "$1" ping 2>&1 | head -n 1) || true
  [ "$reply" = PONG ] && return 0
  echo "${reply:-no answer within ${probe_timeout}s}"
  return 1
}

# probe_kafka <host> <port>: a Kafka ApiVersions (v0) request answered with our correlation id
# and no error, so a port held by something else does not count as a broker.
probe_kafka() {
  local out reply
  # request: size 17, api key 18, version 0, correlation id "HFT1", client id "monitor"
  out=$(timeout "$probe_timeout" bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "\x00\x00\x00\x11\x00\x12\x00\x00HFT1\x00\x07monitor" >&3 && head -c 10 <&3 | od -An -tx1' "$1" "$2" 2>&1) || true
  reply=$(grep -E '^( [0-9a-f]{2})+$' <<<"$out" | tr -d ' \n')
  # response: size (4 bytes), correlation id (4), error code (2)
  [ "${reply:8:8}" = 48465431 ] && [ "${reply:16:4}" = 0000 ] && return 0
  if [ -n "$reply" ]; then echo "not a Kafka ApiVersions answer (${reply:0:20})"
  elif grep -q 'connect: ' <<<"$out"; then grep -o 'connect: .*' <<<"$out" | head -n 1
  else echo "no answer within ${probe_timeout}s"; fi
  return 1
}

# probe_http <URL>: a 2xx answer.
probe_http() {
  local error
  error=$(curl -sS -o /dev/null -f --max-time "$probe_timeout" "$1" 2>&1) && return 0
  sed 's/^curl: ([0-9]*) //' <<<"$error"
  return 1
}

# The endpoints that say a Prometheus or a Jaeger query service is ready, from their base URLs.
probe_prometheus() { probe_http "${1%/}/-/ready"; }
probe_jaeger() { probe_http "${1%/}/api/services"; }
