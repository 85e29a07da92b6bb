#!/usr/bin/env bash
# Installs the Debian packages the project builds and runs with; does nothing when all are present.
# Idempotent and quiet when there is nothing to do, so every entry point can call it first.
set -euo pipefail

packages=(
  # servers for the local stack
  postgresql redis-server openjdk-17-jre-headless maven prometheus
  # C++ engine toolchain and libraries
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev libcpp-httplib-dev libssl-dev
  # tools the scripts use
  curl ca-certificates procps netcat-openbsd jq openssl
  # virtualenvs of .deps: hadolint, schemathesis, the Python SDK's runtime
  python3-venv
  # the browser the console's end-to-end tests drive (playwright-core), and fonts for its screenshots
  chromium fonts-liberation
  # perf, for the engine's hot spots (engine-cpp/bench/profile.sh)
  linux-perf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# policy-rc.d keeps the packages' own service units (postgres on 5432, redis on 6379) from starting:
# the stack runs its own instances on loopback with project ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
  trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
