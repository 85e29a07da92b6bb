# Sourced by scripts/backup.sh and scripts/restore.sh: the database URL they act on, the
# PostgreSQL tools, the names of backup files, their checksums, and the engine data inspector.
# The caller sets `prog` (its name in messages) before sourcing.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
default_database_url=postgres://hft:hft@127.0.0.1:55432/hft
default_engine_dir=${HFT_STACK_DIR:-$root/.run}/engine
# Backup files: <kind>-<label>-<UTC time>.<format>, each with <file>.sha256 beside it. Retention
# removes only names of this shape; anything else in the directory is left alone.
backup_name_regex='hft-(db|engine)-[A-Za-z0-9_-]+-[0-9]{8}T[0-9]{6}Z\.(dump|sql\.gz|tar\.gz)'

say() { printf '[%s] %s\n' "$prog" "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s\n%s\n' "$prog" "$1" "$usage" >&2; exit 2; }

# PostgreSQL's tools: the newest installed server version's, as scripts/stack.sh uses, since
# pg_dump refuses a server newer than itself; else whatever is on PATH.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/pg_dump" ]; then
  pg_bin=$(dirname "$(command -v pg_dump 2>/dev/null || echo /nonexistent/pg_dump)")
fi
pg_tool() {
  local tool=$1; shift
  [ -x "$pg_bin/$tool" ] || die "$tool not found (looked in /usr/lib/postgresql/*/bin and PATH); run scripts/install-system-deps.sh"
  "$pg_bin/$tool" "$@"
}
# A dead server must fail the script, not hang it; notices (DROP ... CASCADE) are not news.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# dotenv_value <name>: the last value .env gives the variable (quotes removed), read as text
# rather than sourced, the way the services' loadEnvFile reads it.
dotenv_value() {
  [ -f "$root/.env" ] || return 0
  sed -n -E "s/^[[:space:]]*(export[[:space:]]+)?$1=(.*)$/\2/p" "$root/.env" | tail -n 1 |
    sed -E "s/^\"(.*)\"[[:space:]]*$/\1/; s/^'(.*)'[[:space:]]*$/\1/"
}

# resolve_database_url <flag value>: the --database-url flag, else DATABASE_URL or
# DATABASE_URL_FILE from the environment, else from .env, else the local stack's database.
resolve_database_url() {
  local url=$1 file=
  if [ -z "$url" ]; then
    if [ -n "${DATABASE_URL:-}" ] && [ -n "${DATABASE_URL_FILE:-}" ]; then
      die "DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE, not both"
    fi
    url=${DATABASE_URL:-}
    file=${DATABASE_URL_FILE:-}
    if [ -z "$url" ] && [ -z "$file" ]; then
      url=$(dotenv_value DATABASE_URL)
      file=$(dotenv_value DATABASE_URL_FILE)
    fi
    if [ -z "$url" ] && [ -n "$file" ]; then
      [ -r "$file" ] || die "DATABASE_URL_FILE: cannot read \"$file\""
      url=$(tr -d '\r\n' <"$file")
    fi
    url=${url:-$default_database_url}
  fi
  case $url in
    postgres://* | postgresql://*) ;;
    *) die "DATABASE_URL: expected a postgres:// or postgresql:// URL; got \"$(redact_url "$url")\"" ;;
  esac
  database_url=$url
}

# redact_url <url>: the URL without its password, for messages.
redact_url() { sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# database_name <url>: connects and prints current_database(); dies naming the URL and the
# server's answer when it cannot.
database_name() {
  local out
  if ! out=$(pg_tool psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c 'SELECT current_database()' 2>&1); then
    die "cannot connect to the database $(redact_url "$1"): $(sed -E 's/^psql: (error: )?//' <<<"$out" | head -n 3 | tr '\n' ' ')"
  fi
  printf '%s' "$out"
}

# sha256_of <file>
sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

# verify_checksum <file>: dies unless <file>.sha256 exists and matches the file's bytes.
verify_checksum() {
  local file=$1 sum=$1.sha256 expected actual
  [ -f "$sum" ] || die "$file has no checksum file $(basename "$sum") beside it; refusing a backup that cannot be verified"
  expected=$(sed -n -E '1s/^([0-9a-f]{64})  .*/\1/p' "$sum")
  [ -n "$expected" ] || die "$sum is not a sha256sum line (<64 hex digits>  <name>)"
  actual=$(sha256_of "$file")
  [ "$actual" = "$expected" ] || die "$file does not match its checksum (sha256 $actual, expected $expected): the file is corrupted or truncated; nothing was restored"
}

# engine_data [--last-sequence] <dir>: scripts/engine-data.ts, read-only.
engine_data() { "$root/node_modules/.bin/tsx" "$root/scripts/engine-data.ts" "$@"; }

# checkpoint_in_dump_sql <shard>: from a dump's SQL on stdin, the shard's engine_checkpoints
# last_sequence (nothing when the dump has no row for it). Reads all of stdin, so the producer
# is never cut off by a closed pipe.
checkpoint_in_dump_sql() {
  awk -v shard="$1" '
    copying && $0 == "\\." { copying = 0; next }
    copying { split($0, field, "\t"); if (field[s] == shard) print field[q]; next }
    /^COPY public\.engine_checkpoints \(/ {
      cols = $0; sub(/^[^(]*\(/, "", cols); sub(/\).*$/, "", cols)
      n = split(cols, name, ", ")
      for (i = 1; i <= n; i++) { if (name[i] == "shard") s = i; if (name[i] == "last_sequence") q = i }
      copying = 1
    }'
}
