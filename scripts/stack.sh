#!/usr/bin/env bash
# The local stack without Docker: PostgreSQL, Redis, a single-node KRaft Kafka broker,
# Prometheus and Jaeger on loopback, on project ports, with data, logs and pids under .run/ (git-ignored).
#   scripts/stack.sh up|down|status [postgres|redis|kafka|prometheus|jaeger ...]
# `up` installs what is missing and is idempotent; `down` stops only what `up` started. Naming
# servers acts on those alone (the fault suite restarts one at a time); none names all of them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${HFT_STACK_DIR:-$root/.run}
pg_port=${HFT_PG_PORT:-55432}
redis_port=${HFT_REDIS_PORT:-56379}
kafka_port=${HFT_KAFKA_PORT:-59092}
kafka_controller_port=${HFT_KAFKA_CONTROLLER_PORT:-59093}
prometheus_port=${HFT_PROMETHEUS_PORT:-59090}
jaeger_otlp_port=${HFT_JAEGER_OTLP_PORT:-54318}
jaeger_query_port=${HFT_JAEGER_QUERY_PORT:-56686}
# A second Kafka listener for clients that reach the broker through a TCP proxy (tests/faults):
# it listens on HFT_KAFKA_PROXIED_PORT and tells its clients to connect to the proxy's port,
# HFT_KAFKA_PROXIED_ADVERTISED_PORT, so they keep going through the proxy after the bootstrap.
kafka_proxied_port=${HFT_KAFKA_PROXIED_PORT:-}
kafka_proxied_advertised_port=${HFT_KAFKA_PROXIED_ADVERTISED_PORT:-}
pg_db=${HFT_PG_DATABASE:-hft}
pg_user=${HFT_PG_USER:-hft}
pg_password=${HFT_PG_PASSWORD:-hft}
logs=$run_dir/logs
# shellcheck source=scripts/probes.sh
. "$root/scripts/probes.sh"

log() { printf '[stack] %s\n' "$*"; }
fail() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# wait_for <what> <seconds> <command...>: polls the command until it succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what did not become ready within ${seconds}s (logs in $logs)"
    sleep 0.2
  done
}

port_open() { nc -z 127.0.0.1 "$1"; }

# pid_alive <pidfile> <cmdline fragment>: the recorded process runs and is ours (pids are
# reused after a machine restart, so the command line must match too).
pid_alive() {
  local pidfile=$1 fragment=$2 pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$fragment"
}

# ---------------------------------------------------------------- PostgreSQL
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
pg_data=$run_dir/postgres
# PostgreSQL refuses to run as root: as root the cluster belongs to the distribution's
# `postgres` user; otherwise to the current user.
pg_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_superuser_password_file=$run_dir/secrets/postgres-superuser-password
psql_admin() {
  PGPASSWORD=$(cat "$pg_superuser_password_file") "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"
}

pg_up() {
  mkdir -p "$logs" "$run_dir/secrets"
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $pg_data"
    umask 077
    head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$pg_superuser_password_file"
    umask 022
    mkdir -p "$pg_data"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres "$pg_data"
      chmod 755 "$run_dir" "$run_dir/secrets"
    fi
    local pwfile; pwfile=$(mktemp); cp "$pg_superuser_password_file" "$pwfile"; chmod 644 "$pwfile"
    pg_as "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$logs/postgres-initdb.log"
    rm -f "$pwfile"
    cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
# the local stack favours speed; production keeps fsync and synchronous_commit on
synchronous_commit = off
log_destination = 'stderr'
CONF
  fi
  touch "$logs/postgres.log"
  [ "$(id -u)" -ne 0 ] || chown postgres "$logs/postgres.log"
  if ! pg_as "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$pg_port"
    pg_as "$pg_bin/pg_ctl" -D "$pg_data" -l "$logs/postgres.log" -w -t 60 start >/dev/null \
      || fail "PostgreSQL did not start; see $logs/postgres.log"
  fi
  wait_for PostgreSQL 30 "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"
  # The application role may create databases so that tests can make throwaway ones.
  psql_admin <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$pg_user', '$pg_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$pg_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$pg_db', '$pg_user')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$pg_db') \gexec
SQL
}

pg_down() {
  if [ -f "$pg_data/postmaster.pid" ] && pg_as "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    pg_as "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
  fi
}

pg_status() {
  if probe_postgres "postgres://127.0.0.1:$pg_port/$pg_db" >/dev/null; then
    echo "postgres  up    127.0.0.1:$pg_port  database=$pg_db user=$pg_user"
  else
    echo "postgres  down  127.0.0.1:$pg_port"; return 1
  fi
}

# --------------------------------------------------------------------- Redis
redis_dir=$run_dir/redis
redis_pidfile=$redis_dir/redis.pid

redis_up() {
  mkdir -p "$redis_dir" "$logs"
  if pid_alive "$redis_pidfile" redis-server; then return 0; fi
  log "starting Redis on 127.0.0.1:$redis_port"
  redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes \
    --pidfile "$redis_pidfile" --logfile "$logs/redis.log" --dir "$redis_dir" \
    --appendonly yes --appendfsync everysec --save "" --protected-mode yes
  # PONG, not only an answer: a Redis loading its append-only file answers LOADING
  wait_for Redis 15 probe_redis "redis://127.0.0.1:$redis_port"
}

redis_down() {
  if pid_alive "$redis_pidfile" redis-server; then
    log "stopping Redis"
    kill "$(cat "$redis_pidfile")"
    wait_for "Redis shutdown" 15 bash -c "! kill -0 $(cat "$redis_pidfile") 2>/dev/null"
  fi
  rm -f "$redis_pidfile"
}

redis_status() {
  if probe_redis "redis://127.0.0.1:$redis_port" >/dev/null; then
    echo "redis     up    127.0.0.1:$redis_port"
  else
    echo "redis     down  127.0.0.1:$redis_port"; return 1
  fi
}

# --------------------------------------------------------------------- Kafka
kafka_libs=$root/.deps/kafka/libs
kafka_dir=$run_dir/kafka
kafka_pidfile=$kafka_dir/kafka.pid
kafka_config=$kafka_dir/server.properties
kafka_java() { java -Xms256m -Xmx768m -cp "$kafka_libs/*" "$@"; }

kafka_up() {
  mkdir -p "$kafka_dir/data" "$logs"
  if ! compgen -G "$kafka_libs/kafka_2.13-*.jar" >/dev/null; then
    log "fetching the Kafka broker jars with Maven"
    mvn -q -f "$root/deps/kafka/pom.xml" package >"$logs/kafka-fetch.log" 2>&1 \
      || fail "could not fetch Kafka jars; see $logs/kafka-fetch.log"
  fi
  local listeners="PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port"
  local advertised="PLAINTEXT://127.0.0.1:$kafka_port" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ -n "$kafka_proxied_port" ]; then
    [ -n "$kafka_proxied_advertised_port" ] || fail "HFT_KAFKA_PROXIED_PORT needs HFT_KAFKA_PROXIED_ADVERTISED_PORT (the proxy's port)"
    listeners+=",PROXIED://127.0.0.1:$kafka_proxied_port"
    advertised+=",PROXIED://127.0.0.1:$kafka_proxied_advertised_port"
    protocols+=",PROXIED:PLAINTEXT"
  fi
  cat >"$kafka_config" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$kafka_dir/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
  cat >"$kafka_dir/log4j.properties" <<'CONF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
CONF
  if [ ! -f "$kafka_dir/data/meta.properties" ]; then
    log "formatting KRaft storage in $kafka_dir/data"
    local cluster_id; cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    kafka_java -Dlog4j.configuration="file:$kafka_dir/log4j.properties" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$kafka_config" >"$logs/kafka-format.log" 2>&1 \
      || fail "could not format Kafka storage; see $logs/kafka-format.log"
  fi
  if ! pid_alive "$kafka_pidfile" kafka.Kafka; then
    log "starting Kafka (KRaft) on 127.0.0.1:$kafka_port"
    nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$kafka_dir/log4j.properties" -Dkafka.logs.dir="$logs" \
      -cp "$kafka_libs/*" kafka.Kafka "$kafka_config" >>"$logs/kafka.log" 2>&1 &
    echo $! >"$kafka_pidfile"
  fi
  wait_for Kafka 90 port_open "$kafka_port"
  kafka_create_topics
}

kafka_create_topics() {
  local existing
  existing=$(kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$kafka_port" --list 2>>"$logs/kafka-topics.log") \
    || fail "could not list Kafka topics; see $logs/kafka-topics.log"
  while read -r topic partitions retention _; do
    case "$topic" in ''|'#'*) continue ;; esac
    grep -qx -- "$topic" <<<"$existing" && continue
    log "creating topic $topic ($partitions partitions, retention.ms=$retention)"
    kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$kafka_port" --create \
      --if-not-exists --topic "$topic" --partitions "$partitions" --replication-factor 1 \
      --config "retention.ms=$retention" --config min.insync.replicas=1 >>"$logs/kafka-topics.log" 2>&1 \
      || fail "could not create topic $topic; see $logs/kafka-topics.log"
  done <"$root/scripts/kafka-topics.txt"
}

kafka_down() {
  if pid_alive "$kafka_pidfile" kafka.Kafka; then
    log "stopping Kafka"
    local pid; pid=$(cat "$kafka_pidfile")
    kill "$pid"
    # a controlled shutdown flushes the logs; give it time before insisting
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$kafka_pidfile"
}

kafka_status() {
  if pid_alive "$kafka_pidfile" kafka.Kafka && probe_kafka 127.0.0.1 "$kafka_port" >/dev/null; then
    echo "kafka     up    127.0.0.1:$kafka_port"
  else
    echo "kafka     down  127.0.0.1:$kafka_port"; return 1
  fi
}

# ---------------------------------------------------------------- Prometheus
# Scrapes the engine and the services at their local addresses (prometheus/prometheus.yml), with
# the recording and alert rules of prometheus/rules/, keeping exemplars (trace ids on latency buckets).
prometheus_dir=$run_dir/prometheus
prometheus_pidfile=$prometheus_dir/prometheus.pid

prometheus_up() {
  mkdir -p "$prometheus_dir/data" "$logs"
  if pid_alive "$prometheus_pidfile" prometheus; then return 0; fi
  promtool check config "$root/prometheus/prometheus.yml" >"$logs/prometheus-check.log" 2>&1 \
    || fail "prometheus/prometheus.yml does not check out; see $logs/prometheus-check.log"
  log "starting Prometheus on 127.0.0.1:$prometheus_port"
  nohup prometheus --config.file="$root/prometheus/prometheus.yml" --storage.tsdb.path="$prometheus_dir/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$prometheus_port" --web.enable-lifecycle \
    --enable-feature=exemplar-storage \
    >>"$logs/prometheus.log" 2>&1 &
  echo $! >"$prometheus_pidfile"
  wait_for Prometheus 30 curl -sf "http://127.0.0.1:$prometheus_port/-/ready"
}

prometheus_down() {
  if pid_alive "$prometheus_pidfile" prometheus; then
    log "stopping Prometheus"
    kill "$(cat "$prometheus_pidfile")"
    wait_for "Prometheus shutdown" 30 bash -c "! kill -0 $(cat "$prometheus_pidfile") 2>/dev/null"
  fi
  rm -f "$prometheus_pidfile"
}

prometheus_status() {
  if pid_alive "$prometheus_pidfile" prometheus && probe_prometheus "http://127.0.0.1:$prometheus_port" >/dev/null; then
    echo "prometheus up   http://127.0.0.1:$prometheus_port"
  else
    echo "prometheus down http://127.0.0.1:$prometheus_port"; return 1
  fi
}

# -------------------------------------------------------------------- Jaeger
# All-in-one with in-memory storage: OTLP/HTTP in on $jaeger_otlp_port, UI and query API on
# $jaeger_query_port; every other port it opens is on loopback too. Built by install-tools.sh.
jaeger_bin=$root/.deps/bin/jaeger-all-in-one
jaeger_dir=$run_dir/jaeger
jaeger_pidfile=$jaeger_dir/jaeger.pid

jaeger_up() {
  mkdir -p "$jaeger_dir" "$logs"
  if pid_alive "$jaeger_pidfile" jaeger-all-in-one; then return 0; fi
  [ -x "$jaeger_bin" ] || "$root/scripts/install-tools.sh"
  log "starting Jaeger on 127.0.0.1:$jaeger_query_port (OTLP/HTTP 127.0.0.1:$jaeger_otlp_port)"
  SPAN_STORAGE_TYPE=memory nohup "$jaeger_bin" --memory.max-traces=100000 \
    --collector.otlp.enabled=true \
    --collector.otlp.http.host-port="127.0.0.1:$jaeger_otlp_port" \
    --collector.otlp.grpc.host-port="127.0.0.1:$((jaeger_otlp_port - 1))" \
    --query.http-server.host-port="127.0.0.1:$jaeger_query_port" \
    --query.grpc-server.host-port="127.0.0.1:$((jaeger_query_port - 1))" \
    --admin.http.host-port="127.0.0.1:$((jaeger_query_port + 1))" \
    --collector.grpc-server.host-port="127.0.0.1:$((jaeger_otlp_port + 1))" \
    --collector.http-server.host-port="127.0.0.1:$((jaeger_otlp_port + 2))" \
    --http-server.host-port="127.0.0.1:$((jaeger_otlp_port + 3))" \
    --processor.jaeger-compact.server-host-port="127.0.0.1:$((jaeger_otlp_port + 4))" \
    --processor.jaeger-binary.server-host-port="127.0.0.1:$((jaeger_otlp_port + 5))" \
    --processor.zipkin-compact.server-host-port="127.0.0.1:$((jaeger_otlp_port + 6))" \
    >>"$logs/jaeger.log" 2>&1 &
  echo $! >"$jaeger_pidfile"
  wait_for Jaeger 30 curl -sf "http://127.0.0.1:$jaeger_query_port/api/services"
}

jaeger_down() {
  if pid_alive "$jaeger_pidfile" jaeger-all-in-one; then
    log "stopping Jaeger"
    kill "$(cat "$jaeger_pidfile")"
    wait_for "Jaeger shutdown" 30 bash -c "! kill -0 $(cat "$jaeger_pidfile") 2>/dev/null"
  fi
  rm -f "$jaeger_pidfile"
}

jaeger_status() {
  if pid_alive "$jaeger_pidfile" jaeger-all-in-one && probe_jaeger "http://127.0.0.1:$jaeger_query_port" >/dev/null; then
    echo "jaeger    up    http://127.0.0.1:$jaeger_query_port (OTLP/HTTP http://127.0.0.1:$jaeger_otlp_port)"
  else
    echo "jaeger    down  http://127.0.0.1:$jaeger_query_port"; return 1
  fi
}

usage() { echo "usage: $0 up|down|status [postgres|redis|kafka|prometheus|jaeger ...]" >&2; exit 2; }
command=${1:-}
shift || true
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(postgres redis kafka prometheus jaeger)
for server in "${servers[@]}"; do
  case "$server" in postgres|redis|kafka|prometheus|jaeger) ;; *) echo "$0: unknown server \"$server\"" >&2; usage ;; esac
done
# Each server's functions are named after its short name (pg_up, kafka_down, ...).
short() { [ "$1" = postgres ] && echo pg || echo "$1"; }

case "$command" in
  up)
    "$root/scripts/install-system-deps.sh"
    for server in "${servers[@]}"; do "$(short "$server")_up"; done
    status=0
    for server in "${servers[@]}"; do "$(short "$server")_status" || status=1; done
    exit $status
    ;;
  # In reverse order: the servers others depend on stop last.
  down) for ((i = ${#servers[@]} - 1; i >= 0; i--)); do "$(short "${servers[i]}")_down"; done ;;
  status)
    status=0
    for server in "${servers[@]}"; do "$(short "$server")_status" || status=1; done
    exit $status
    ;;
  *) usage ;;
esac
