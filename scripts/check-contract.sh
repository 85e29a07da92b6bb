#!/usr/bin/env bash
# The contract's checks: buf lint (STANDARD), buf format, and buf breaking (FILE) against the
# contract of the previous commit, or of CONTRACT_BASE when set (for example origin/main in CI).
# The imported .proto files (.deps/proto) are not in git, so the previous contract is rebuilt from
# `git archive` with the same imports beside it, and both sides are compared as images.
# Exits non-zero on any violation; skips only the breaking check when there is no previous contract.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
buf_bin=$root/node_modules/.bin/buf
[ -x "$buf_bin" ] || { echo "check-contract: $buf_bin is missing; install the npm dev dependencies first" >&2; exit 2; }
buf() { "$buf_bin" "$@"; }

if [ ! -f .deps/proto/buf/validate/validate.proto ] || [ ! -f .deps/proto/google/api/annotations.proto ]; then
  echo "check-contract: fetching the imported .proto files with Maven"
  mvn -B -q -f deps/proto/pom.xml package
fi

# Lint is configured in buf.yaml to skip the imports; format is limited to proto/ here because
# buf.yaml cannot exclude a module from formatting.
buf lint
buf format proto --diff --exit-code

against=${CONTRACT_BASE:-HEAD~1}
if ! git rev-parse -q --verify "$against^{commit}" >/dev/null || [ -z "$(git ls-tree -d "$against" proto 2>/dev/null)" ]; then
  echo "buf lint and format: clean; buf breaking: skipped, $against has no previous contract"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/previous/.deps"
git archive "$against" proto buf.yaml | tar -x -C "$work/previous"
cp -r .deps/proto "$work/previous/.deps/proto"
(cd "$work/previous" && "$buf_bin" build -o "$work/previous.binpb")
# Both sides as single images: the workspace has two modules (proto/ and the imports), and buf
# refuses to compare a two-module directory against a one-image build.
buf build -o "$work/current.binpb"
buf breaking "$work/current.binpb" --against "$work/previous.binpb"
echo "buf lint, format and breaking (against $against): clean"
