#!/usr/bin/env bash
# Restores what scripts/backup.sh wrote: a database backup (.dump or .sql.gz) into the configured
# database, then pending migrations; and/or an engine backup (.tar.gz) into a stopped engine's
# data directory. Every file's checksum is verified and the pair's consistency checked before
# anything changes. See docs/RUNBOOK.md, "Backup and restore".
set -euo pipefail
prog=restore
usage="usage: scripts/restore.sh [--yes] [--database-url URL] [--engine-dir DIR] [--shard NAME] [--no-engine-check] FILE [FILE]
  FILE                  hft-db-*.dump or hft-db-*.sql.gz (database), hft-engine-*.tar.gz (engine); at most one of each
  --yes                 do not ask for confirmation (required when stdin is not a terminal)
  --database-url URL    the database (default DATABASE_URL or DATABASE_URL_FILE, from the environment or .env)
  --engine-dir DIR      the engine data directory to restore into, or to check a database backup against
                        (default .run/engine)
  --shard NAME          the engine's shard in engine_checkpoints (default: from the engine backup's name, else default)
  --no-engine-check     skip the check that the engine is not behind PostgreSQL's checkpoint (see the runbook first)"
# shellcheck source=scripts/backup-env.sh
. "$(dirname "$0")/backup-env.sh"

assume_yes=
url_flag=
engine_dir=$default_engine_dir
shard=
engine_check=1
db_file=
engine_file=
while [ $# -gt 0 ]; do
  case $1 in
    --database-url | --engine-dir | --shard)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case $1 in
        --database-url) url_flag=$2 ;;
        --engine-dir) engine_dir=$2 ;;
        --shard) shard=$2 ;;
      esac
      shift 2 ;;
    --yes) assume_yes=1; shift ;;
    --no-engine-check) engine_check=; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    -*) usage_error "unknown option \"$1\"" ;;
    *)
      case $1 in
        *.dump | *.sql.gz) [ -z "$db_file" ] || usage_error "two database backups given: $db_file and $1"; db_file=$1 ;;
        *.tar.gz) [ -z "$engine_file" ] || usage_error "two engine backups given: $engine_file and $1"; engine_file=$1 ;;
        *) usage_error "\"$1\" is not a backup: expected a name ending in .dump or .sql.gz (database) or .tar.gz (engine)" ;;
      esac
      shift ;;
  esac
done
[ -n "$db_file" ] || [ -n "$engine_file" ] || usage_error "no backup file given"
[ -z "$shard" ] || [[ $shard =~ ^[A-Za-z0-9_-]+$ ]] || usage_error "--shard: expected letters, digits, _ or -, got \"$shard\""
if [ -z "$shard" ]; then
  shard=default
  [[ $(basename "${engine_file:-x}") =~ ^hft-engine-([A-Za-z0-9_-]+)-[0-9]{8}T[0-9]{6}Z\.tar\.gz$ ]] && shard=${BASH_REMATCH[1]}
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hft-restore.XXXXXX")
staging=
created_engine_dir=
cleanup() {
  rm -rf -- "$work"
  [ -z "$staging" ] || rm -rf -- "$staging"
  # a directory made for a restore that was then refused (it is empty unless the restore happened)
  [ -z "$created_engine_dir" ] || rmdir -- "$engine_dir" 2>/dev/null || true
}
trap cleanup EXIT

# ------------------------------------------------------------ 1. verify (nothing changes yet)
for file in ${db_file:+"$db_file"} ${engine_file:+"$engine_file"}; do
  [ -f "$file" ] || die "$file does not exist"
  verify_checksum "$file"
done
if [ -n "$db_file" ]; then
  case $db_file in
    *.dump) dump_sql() { pg_tool pg_restore --no-owner --file=- "$db_file"; }
      pg_tool pg_restore --list "$db_file" >/dev/null 2>"$work/errors" || die "$db_file is not a readable pg_dump archive: $(cat "$work/errors")"
      dump_checkpoint=$(pg_tool pg_restore --data-only --table=engine_checkpoints --file=- "$db_file" | checkpoint_in_dump_sql "$shard") ;;
    *) dump_sql() { gzip -dc -- "$db_file"; }
      gzip -t -- "$db_file" 2>"$work/errors" || die "$db_file is not a readable gzip file: $(cat "$work/errors")"
      dump_checkpoint=$(gzip -dc -- "$db_file" | checkpoint_in_dump_sql "$shard") ;;
  esac
  dump_checkpoint=${dump_checkpoint:-0}
fi
if [ -n "$engine_file" ]; then
  tar -tzf "$engine_file" >"$work/members" 2>"$work/errors" || die "$engine_file is not a readable tar.gz archive: $(cat "$work/errors")"
  bad=$(grep -v -E '^(journal\.log|snapshot-[0-9]+\.bin)$' "$work/members" || true)
  [ -z "$bad" ] || die "$engine_file holds files an engine backup does not: $(tr '\n' ' ' <<<"$bad")"
fi

if [ -z "$assume_yes" ] && [ ! -t 0 ]; then
  die "refusing to restore without confirmation: stdin is not a terminal; pass --yes to restore anyway. Nothing was changed."
fi

# -------------------------------------------------------------------- 2. what the targets hold
if [ -n "$db_file" ] || [ -n "$engine_check" ]; then resolve_database_url "$url_flag"; fi
if [ -n "$db_file" ]; then
  db_name=$(database_name "$database_url")
  # A running service would keep writing from what it remembers of the old database.
  others=$(pg_tool psql -X -q -At -v ON_ERROR_STOP=1 -d "$database_url" -c \
    "SELECT count(*) || ' (' || coalesce(string_agg(DISTINCT coalesce(nullif(application_name, ''), 'unnamed'), ', '), '') || ')'
       FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
  [ "${others%% *}" = 0 ] || die "$others other sessions are connected to database $db_name: stop the services using it first (scripts/services.sh down). Nothing was changed."
fi

engine_dir_in_use() {
  local pid journal fd
  if [ -f "$engine_dir/engine.pid" ]; then
    pid=$(cat "$engine_dir/engine.pid")
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF hft-engine; then echo "$pid"; return 0; fi
  fi
  journal=$(realpath -m -- "$engine_dir/journal.log")
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$(readlink -- "$fd" 2>/dev/null)" = "$journal" ]; then pid=${fd#/proc/}; echo "${pid%%/*}"; return 0; fi
  done
  return 1
}

if [ -n "$engine_file" ]; then
  if pid=$(engine_dir_in_use); then
    die "the engine data directory $engine_dir is in use by process $pid: stop the engine first (scripts/services.sh down). Nothing was changed."
  fi
  if [ ! -d "$engine_dir" ]; then
    mkdir -p -- "$engine_dir"
    created_engine_dir=1
  fi
  engine_dir=$(cd "$engine_dir" && pwd)
  # Unpacked beside its destination (same filesystem: the move into place is a rename). The
  # engine ignores subdirectories of its data directory.
  staging=$(mktemp -d "$engine_dir/.restore-XXXXXX")
  tar -xzf "$engine_file" -C "$staging" --no-same-owner
  for file in "$staging"/*; do
    [ ! -e "$file" ] || { [ -f "$file" ] && [ ! -L "$file" ]; } || die "$engine_file holds $(basename "$file") as something other than a regular file"
  done
  engine_summary=$(engine_data "$staging" 2>"$work/errors") || die "$engine_file would not recover: $(cat "$work/errors")"
  engine_sequence=$(sed -n 's/^last sequence //p' <<<"$engine_summary")
elif [ -n "$engine_check" ]; then
  [ -d "$engine_dir" ] || die "cannot check the database backup against the engine: $engine_dir does not exist. Pass --engine-dir with shard $shard's engine data directory, or --no-engine-check once you have checked that the engine's sequence (GetStats last_sequence) is at least $dump_checkpoint. Nothing was changed."
  engine_sequence=$(engine_data --last-sequence "$engine_dir" 2>"$work/errors") || die "cannot read the engine data in $engine_dir: $(cat "$work/errors")"
fi

# ------------------------------------------------------- 3. the engine may not be behind the database
# The projection resumes after engine_checkpoints.last_sequence. An engine behind that point
# would sequence new commands (and hand out order and trade ids) that PostgreSQL believes it has
# already applied: they would never be projected, and the ids would collide with recorded ones.
if [ -n "$engine_check" ]; then
  if [ -n "$db_file" ]; then
    checkpoint=$dump_checkpoint
    checkpoint_source="the database backup $(basename "$db_file")"
  else
    checkpoint=$(pg_tool psql -X -q -At -v ON_ERROR_STOP=1 -d "$database_url" -c \
      "SELECT coalesce((SELECT last_sequence FROM engine_checkpoints WHERE shard = '$shard'), 0)" 2>"$work/errors") ||
      die "cannot read shard $shard's checkpoint from $(redact_url "$database_url"): $(cat "$work/errors") (--no-engine-check skips this check)"
    checkpoint_source="database $(redact_url "$database_url")"
  fi
  engine_source=$([ -n "$engine_file" ] && echo "the engine backup $(basename "$engine_file")" || echo "the engine data in $engine_dir")
  if [ "$engine_sequence" -lt "$checkpoint" ]; then
    die "$engine_source ends at sequence $engine_sequence, but $checkpoint_source has shard $shard projected to sequence $checkpoint. An engine behind PostgreSQL would hand out sequences and order ids that PostgreSQL already holds (docs/RUNBOOK.md, \"Backup and restore\"). Restore an engine backup taken after the database backup, or an older database backup. Nothing was changed."
  fi
  say "consistent: shard $shard projected to sequence $checkpoint ($checkpoint_source), engine at $engine_sequence ($engine_source)"
fi

# ---------------------------------------------------------------------------------- 4. confirm
if [ -z "$assume_yes" ]; then
  [ -z "$db_file" ] || echo "This replaces everything in schema public of database $db_name ($(redact_url "$database_url")) with $db_file."
  [ -z "$engine_file" ] || echo "This replaces the journal and snapshots in $engine_dir with $engine_file (the current ones are kept aside)."
  read -r -p "Type yes to restore: " answer
  [ "$answer" = yes ] || die "restore cancelled; nothing was changed."
fi

# ---------------------------------------------------------------------------------- 5. restore
# The database first: its restore is one transaction, so a failure there leaves both untouched.
if [ -n "$db_file" ]; then
  say "restoring database $db_name from $db_file"
  {
    # What the dump holds replaces the whole schema, so tables newer than the backup go too
    # and the migrations below find the schema exactly as the backup had it.
    printf '%s\n' 'DROP SCHEMA IF EXISTS public CASCADE;' 'CREATE SCHEMA public AUTHORIZATION pg_database_owner;' 'GRANT USAGE ON SCHEMA public TO PUBLIC;' \
      "COMMENT ON SCHEMA public IS 'standard public schema';"
    dump_sql
  } | PGAPPNAME=hft-restore pg_tool psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$database_url" -f - >/dev/null 2>"$work/errors" ||
    die "restoring $db_file failed and was rolled back; the database is unchanged: $(head -c 2000 "$work/errors")"
fi

if [ -n "$engine_file" ]; then
  aside=$engine_dir/before-restore-$(date -u +%Y%m%dT%H%M%SZ)
  current=()
  for file in "$engine_dir"/journal.log "$engine_dir"/snapshot-*.bin "$engine_dir"/snapshot-*.bin.tmp; do
    [ ! -e "$file" ] || current+=("$file")
  done
  if [ ${#current[@]} -gt 0 ]; then
    mkdir -- "$aside"
    mv -- "${current[@]}" "$aside/"
  fi
  for file in "$staging"/*; do
    [ ! -e "$file" ] || mv -- "$file" "$engine_dir/"
  done
  sync -- "$engine_dir"
  rmdir -- "$staging"
  staging=
fi

# --------------------------------------------------------------------- 6. migrate, and report
if [ -n "$db_file" ]; then
  say "applying pending migrations"
  (cd "$root" && env -u DATABASE_URL_FILE DATABASE_URL="$database_url" npm run --silent migrate -- up) ||
    die "the backup was restored, but migrating it failed (above); fix that, then run: npm run migrate -- up"
  say "database $db_name restored from $db_file:"
  pg_tool psql -X -q -v ON_ERROR_STOP=1 -d "$database_url" -P pager=off -P footer=off -c \
    "SELECT table_name AS \"table\",
            (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', table_name), false, true, '')))[1]::text::bigint AS rows
       FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1" \
    -c "SELECT shard, last_sequence AS \"engine checkpoint\" FROM engine_checkpoints ORDER BY shard" \
    -c "SELECT version AS migration, name, applied_at AS applied FROM schema_migrations ORDER BY version"
fi
if [ -n "$engine_file" ]; then
  say "engine data directory $engine_dir restored from $engine_file:"
  sed 's/^/  /' <<<"$engine_summary"
  [ ! -d "${aside:-}" ] || say "its previous journal and snapshots are in $aside; delete them once the restored engine has started"
fi
