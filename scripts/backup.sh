#!/usr/bin/env bash
# Backs up the platform's state: the PostgreSQL database (pg_dump) and, with --engine-dir, an
# engine's journal and snapshots, each as a timestamped file with a sha256 checksum beside it;
# then prunes backups older than the retention. See docs/RUNBOOK.md, "Backup and restore".
set -euo pipefail
prog=backup
usage="usage: scripts/backup.sh [--dir DIR] [--format custom|plain] [--retention-days N] [--database-url URL]
                         [--engine-dir DIR [--shard NAME]] [--no-database] [--lock-wait-timeout TIME]
  --dir DIR             where backups go (BACKUP_DIR, default .run/backups)
  --format FORMAT       custom: pg_dump's compressed archive (.dump, default); plain: SQL, gzipped (.sql.gz) (BACKUP_FORMAT)
  --retention-days N    remove backups and checksums older than N days after a successful run (BACKUP_RETENTION_DAYS, default 14)
  --database-url URL    the database (default DATABASE_URL or DATABASE_URL_FILE, from the environment or .env)
  --engine-dir DIR      also back up this engine data directory (journal and snapshots), safe while the engine runs
  --shard NAME          the engine's shard, in the engine backup's name (default: default)
  --no-database         back up only the engine
  --lock-wait-timeout T give up when a table stays locked longer than T (default 60s)"
# shellcheck source=scripts/backup-env.sh
. "$(dirname "$0")/backup-env.sh"

dir=${BACKUP_DIR:-$root/.run/backups}
format=${BACKUP_FORMAT:-custom}
retention_days=${BACKUP_RETENTION_DAYS:-14}
url_flag=
engine_dir=
shard=default
with_database=1
lock_wait_timeout=60s
while [ $# -gt 0 ]; do
  case $1 in
    --dir | --format | --retention-days | --database-url | --engine-dir | --shard | --lock-wait-timeout)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case $1 in
        --dir) dir=$2 ;;
        --format) format=$2 ;;
        --retention-days) retention_days=$2 ;;
        --database-url) url_flag=$2 ;;
        --engine-dir) engine_dir=$2 ;;
        --shard) shard=$2 ;;
        --lock-wait-timeout) lock_wait_timeout=$2 ;;
      esac
      shift 2 ;;
    --no-database) with_database=; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    *) usage_error "unknown argument \"$1\"" ;;
  esac
done
case $format in custom | plain) ;; *) usage_error "--format: expected custom or plain, got \"$format\"" ;; esac
[[ $retention_days =~ ^[1-9][0-9]*$ ]] || usage_error "--retention-days: expected a whole number of days, at least 1, got \"$retention_days\""
[[ $lock_wait_timeout =~ ^[0-9]+(ms|s|min|h)?$ ]] || usage_error "--lock-wait-timeout: expected a PostgreSQL duration such as 60s or 500ms, got \"$lock_wait_timeout\""
[[ $shard =~ ^[A-Za-z0-9_-]+$ ]] || usage_error "--shard: expected letters, digits, _ or -, got \"$shard\""
[ -n "$with_database" ] || [ -n "$engine_dir" ] || usage_error "nothing to back up: --no-database without --engine-dir"

# Everything is written under a hidden .partial name and renamed once complete and checked, so a
# failure or a kill never leaves a file that looks like a good backup; this removes the partials.
partials=()
cleanup() { [ ${#partials[@]} -eq 0 ] || rm -rf -- "${partials[@]}"; }
trap cleanup EXIT

mkdir -p -- "$dir" 2>/dev/null || die "cannot create the backup directory $dir"
[ -d "$dir" ] && [ -w "$dir" ] || die "the backup directory $dir is not writable"
dir=$(cd "$dir" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# publish <partial> <final>: flushes the file to disk, writes its checksum, renames both into
# place (the backup first: a checksum beside it is the sign it is whole).
publish() {
  local partial=$1 final=$2 sum
  [ ! -e "$final" ] || die "$final already exists; not overwriting it"
  sync -- "$partial"
  sum=$(sha256_of "$partial")
  printf '%s  %s\n' "$sum" "$(basename "$final")" >"$partial.sha256"
  partials+=("$partial.sha256")
  sync -- "$partial.sha256"
  mv -- "$partial" "$final"
  mv -- "$partial.sha256" "$final.sha256"
  sync -- "$dir"
  say "wrote $final ($(stat -c %s "$final") bytes, sha256 $sum)"
}

# ------------------------------------------------------------------------------------ database
dump_checkpoint=
backup_database() {
  local name label extension final partial errors
  resolve_database_url "$url_flag"
  name=$(database_name "$database_url")
  label=$(tr -c 'A-Za-z0-9_\n-' '_' <<<"$name")
  extension=$([ "$format" = custom ] && echo dump || echo sql.gz)
  final=$dir/hft-db-$label-$stamp.$extension
  partial=$dir/.$(basename "$final").partial
  errors=$dir/.$(basename "$final").errors
  partials+=("$partial" "$errors")
  say "dumping database $name ($(redact_url "$database_url")) as $format"
  if [ "$format" = custom ]; then
    # The custom format compresses by itself and lets pg_restore pick what to restore.
    pg_tool pg_dump --format=custom --no-owner --lock-wait-timeout="$lock_wait_timeout" --file="$partial" -d "$database_url" 2>"$errors" ||
      die "pg_dump of $name failed; no backup written: $(head -c 2000 "$errors")"
    pg_tool pg_restore --list "$partial" >/dev/null 2>"$errors" || die "the dump of $name does not read back: $(head -c 2000 "$errors")"
    dump_checkpoint=$(pg_tool pg_restore --data-only --table=engine_checkpoints --file=- "$partial" | checkpoint_in_dump_sql "$shard")
  else
    { pg_tool pg_dump --format=plain --no-owner --lock-wait-timeout="$lock_wait_timeout" -d "$database_url" 2>"$errors" | gzip -6 >"$partial"; } ||
      die "pg_dump of $name failed; no backup written: $(head -c 2000 "$errors")"
    gzip -t "$partial" 2>"$errors" || die "the dump of $name does not read back: $(head -c 2000 "$errors")"
    dump_checkpoint=$(gzip -dc "$partial" | checkpoint_in_dump_sql "$shard")
  fi
  publish "$partial" "$final"
}

# -------------------------------------------------------------------------------------- engine
# The copy is consistent while the engine runs: a snapshot is written only after the journal
# holds its sequence, and is immutable once renamed into place; the journal is append-only with
# checksummed records, so a copy of it is a prefix whose torn tail (a group being written)
# recovery cuts. Copying the snapshots first and the journal after them therefore always gives a
# journal that reaches the newest snapshot copied. A snapshot pruned by the engine meanwhile is
# simply skipped.
backup_engine() {
  local source final partial staging errors snapshot copied=() sequence
  [ -d "$engine_dir" ] || die "the engine data directory $engine_dir does not exist"
  source=$(cd "$engine_dir" && pwd)
  final=$dir/hft-engine-$shard-$stamp.tar.gz
  partial=$dir/.$(basename "$final").partial
  staging=$dir/.$(basename "$final").partial.d
  errors=$dir/.$(basename "$final").errors
  partials+=("$partial" "$staging" "$errors")
  mkdir -- "$staging"
  for snapshot in "$source"/snapshot-*.bin; do
    [ -e "$snapshot" ] || continue
    if cp --preserve=timestamps -- "$snapshot" "$staging/" 2>/dev/null; then
      copied+=("$(basename "$snapshot")")
    elif [ -e "$snapshot" ]; then
      die "cannot copy $snapshot"
    fi
  done
  if [ -e "$source/journal.log" ]; then
    cp --preserve=timestamps -- "$source/journal.log" "$staging/" || die "cannot copy $source/journal.log"
    copied+=(journal.log)
  fi
  [ ${#copied[@]} -gt 0 ] || die "$source holds no engine data (no journal.log, no snapshot-*.bin)"
  # The engine's own reading of the copy: it must recover, and says to which sequence.
  sequence=$(engine_data --last-sequence "$staging" 2>"$errors") || die "the copy of $source would not recover: $(cat "$errors")"
  say "copied engine data $source to sequence $sequence (${copied[*]})"
  tar -czf "$partial" -C "$staging" -- "${copied[@]}"
  tar -tzf "$partial" >/dev/null || die "the engine archive does not read back"
  publish "$partial" "$final"
  if [ -n "$dump_checkpoint" ] && [ "$dump_checkpoint" -gt "$sequence" ]; then
    printf '%s: warning: the database backup says shard %s is projected to sequence %s, past this engine backup'"'"'s %s: is %s the engine of shard %s? These two backups cannot be restored together.\n' \
      "$prog" "$shard" "$dump_checkpoint" "$sequence" "$source" "$shard" >&2
  fi
}

# ----------------------------------------------------------------------------------- retention
# Only after every backup of this run succeeded: a failing backup must not also eat the old ones.
prune() {
  local file minutes=$((retention_days * 24 * 60))
  while IFS= read -r -d '' file; do
    rm -f -- "$file" "$file.sha256"
    say "pruned $(basename "$file") and its checksum (older than $retention_days days)"
  done < <(find "$dir" -maxdepth 1 -type f -regextype posix-extended -regex ".*/$backup_name_regex" -mmin +"$minutes" -print0)
  # checksums left without their backup, and partials of runs that were killed
  while IFS= read -r -d '' file; do
    case $file in *.sha256) [ ! -e "${file%.sha256}" ] || continue ;; esac
    rm -rf -- "$file"
    say "pruned $(basename "$file") (older than $retention_days days)"
  done < <(find "$dir" -maxdepth 1 -regextype posix-extended \
    \( -regex ".*/$backup_name_regex\.sha256" -o -regex ".*/\.$backup_name_regex\.(partial|partial\.d|errors)(\.sha256)?" \) \
    -mmin +"$minutes" -print0)
}

[ -z "$with_database" ] || backup_database
[ -z "$engine_dir" ] || backup_engine
prune
