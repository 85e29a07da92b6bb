#!/usr/bin/env bash
# Command-line tools the tests and operators use, built from the Go module proxy into .deps/bin
# (git-ignored). Idempotent: a tool already at its pinned version is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.deps/bin
mkdir -p "$bin"

tools=(
  "grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl v1.9.3"
)
for entry in "${tools[@]}"; do
  read -r name module version <<<"$entry"
  stamp=$bin/.$name.version
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then continue; fi
  echo "[tools] building $name $version"
  GOBIN=$bin GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" >"$stamp"
done

# Jaeger all-in-one (the trace store and UI of the local stack). `go install` refuses its module
# (its go.mod has replace directives), so it is built inside the downloaded module instead.
jaeger_version=v1.62.0
jaeger_stamp=$bin/.jaeger-all-in-one.version
if [ ! -x "$bin/jaeger-all-in-one" ] || [ "$(cat "$jaeger_stamp" 2>/dev/null)" != "$jaeger_version" ]; then
  echo "[tools] building jaeger-all-in-one $jaeger_version (a few minutes, once)"
  jaeger_dir=$(go mod download -json "github.com/jaegertracing/jaeger@$jaeger_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$jaeger_dir" ] || { echo "[tools] could not download github.com/jaegertracing/jaeger@$jaeger_version" >&2; exit 1; }
  (cd "$jaeger_dir" && GOFLAGS=-mod=mod go build -trimpath -o "$bin/jaeger-all-in-one" ./cmd/all-in-one)
  echo "$jaeger_version" >"$jaeger_stamp"
fi
