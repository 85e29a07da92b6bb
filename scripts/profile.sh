#!/usr/bin/env bash
# CPU flame graphs of the order service or the gateway under load, as in docs/profiles/:
#   scripts/profile.sh orders|gateway <label> [flags of the orders benchmark...]
# Runs the benchmark (scripts/bench.sh) with PROF_DIR in a scratch directory, then renders the main
# thread's profile of each server process (scripts/flamegraph.ts, start-up left out) as
#   docs/profiles/order-service-<label>.svg                       (orders; -2, -3... for --replicas)
#   docs/profiles/gateway-<label>.svg, gateway-platform-<label>.svg  (gateway: in front of the bare
#                                                                    server, and of the order service)
# Tracing follows the environment, as for the benchmarks; OTEL_SDK_DISABLED=true profiles without.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage() { echo "usage: $0 orders|gateway <label> [flags of the orders benchmark...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
which=$1 label=$2
shift 2
[[ $label =~ ^[a-z0-9-]+$ ]] || { echo "profile: the label must be lowercase letters, digits and dashes (got \"$label\")" >&2; exit 2; }
out=$root/docs/profiles
# The servers' start-up (module loading) is not load: their first seconds are left out.
skip=${PROFILE_SKIP_S:-10}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out" "$scratch/prof"

# The main thread's profile of process $1 (the other thread of a tsx process is its module loader).
main_profile() { ls "$scratch"/prof/CPU.*."$1".0.*.cpuprofile 2>/dev/null | head -1; }
render() { npx tsx scripts/flamegraph.ts "$1" "$2" --title="$3" --from="$skip" | sed "s|^|profile: |"; }

case $which in
  orders)
    PROF_DIR=$scratch/prof bash scripts/bench.sh orders "$@" | tee "$scratch/bench.txt"
    n=0
    for pid in $(ls "$scratch"/prof | sed -n 's/^CPU\.[0-9]*\.[0-9]*\.\([0-9]*\)\.0\..*/\1/p' | sort -un); do
      n=$((n + 1))
      suffix=$([ "$n" -eq 1 ] && echo "" || echo "-$n")
      render "$(main_profile "$pid")" "$out/order-service-$label$suffix.svg" "order service$suffix, $label ($(git rev-parse --short HEAD))"
    done
    ;;
  gateway)
    [ $# -eq 0 ] || usage
    PROF_DIR=$scratch/prof bash scripts/bench.sh gateway 2> >(tee "$scratch/pids.txt" >&2) | tee "$scratch/bench.txt"
    platform=${ORDER_SERVICE_LISTEN:-127.0.0.1:50061}
    overBare=$(grep "^gateway/src/main.ts" "$scratch/pids.txt" | grep -v " $platform:" | sed -n 's/.*: pid \([0-9]*\)$/\1/p')
    overPlatform=$(grep "^gateway/src/main.ts $platform:" "$scratch/pids.txt" | sed -n 's/.*: pid \([0-9]*\)$/\1/p')
    render "$(main_profile "$overBare")" "$out/gateway-$label.svg" "gateway in front of the bare server, $label ($(git rev-parse --short HEAD))"
    render "$(main_profile "$overPlatform")" "$out/gateway-platform-$label.svg" "gateway in front of the order service, $label ($(git rev-parse --short HEAD))"
    ;;
  *) usage ;;
esac
