#!/usr/bin/env bash
# The contract's checks: buf lint (STANDARD), buf format, and buf breaking against the contract of
# the previous commit. The imported .proto files are not in git, so the previous contract is
# rebuilt from `git archive` with the same imports beside it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
buf() { npx --no-install buf "$@"; }

[ -f .deps/proto/buf/validate/validate.proto ] || mvn -q -f deps/proto/pom.xml package

buf lint
buf format --diff --exit-code

against=${CONTRACT_BASE:-HEAD~1}
if ! git rev-parse -q --verify "$against^{commit}" >/dev/null || [ -z "$(git ls-tree -d "$against" proto 2>/dev/null)" ]; then
  echo "buf breaking: skipped, $against has no previous contract"
  exit 0
fi
previous=$(mktemp -d)
trap 'rm -rf "$previous"' EXIT
git archive "$against" proto buf.yaml | tar -x -C "$previous"
mkdir -p "$previous/.deps" && cp -r .deps/proto "$previous/.deps/proto"
(cd "$previous" && npx --no-install --prefix "$root" buf build -o "$previous/previous.binpb")
# Both sides as single images: the workspace has two modules (proto/ and the imports).
buf build -o "$previous/current.binpb"
buf breaking "$previous/current.binpb" --against "$previous/previous.binpb"
echo "buf lint, format and breaking (against $against): clean"
