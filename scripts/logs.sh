#!/usr/bin/env bash
# Follows the local logs in .run/logs (`make logs`, `make logs SERVICE=gateway`).
#   scripts/logs.sh [NAME]
# Without NAME: the engine's and the three services' logs together. tail -F keeps following a log
# across restarts (services.sh appends to the same file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
logs=${HFT_STACK_DIR:-$root/.run}/logs
services=(engine order-service analytics-service gateway)
known=("${services[@]}" postgres redis kafka prometheus jaeger)

if [ $# -gt 1 ]; then echo "usage: $0 [${known[*]// /|}]" >&2; exit 2; fi
if [ $# -eq 1 ] && [ -n "$1" ]; then
  if [[ " ${known[*]} " != *" $1 "* ]]; then
    echo "logs: \"$1\" is not a known log; expected one of: ${known[*]}" >&2
    exit 2
  fi
  names=("$1")
else
  names=("${services[@]}")
fi

files=()
for name in "${names[@]}"; do
  [ -f "$logs/$name.log" ] && files+=("$logs/$name.log")
done
if [ ${#files[@]} -eq 0 ]; then
  echo "logs: no log of ${names[*]} in $logs yet; start it first (make up)" >&2
  exit 1
fi
exec tail -n 50 -F "${files[@]}"
