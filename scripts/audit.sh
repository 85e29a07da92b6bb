#!/usr/bin/env bash
# `make audit`: the supply-chain checks. The dependencies of every lock file in the repository
# against the advisory databases (npm audit for the npm workspace; osv-scanner, built from the Go
# module proxy, for npm, Go and Python), then the secret scan (scripts/secret-scan.sh).
#   exit 0  clean (or every finding excepted, with its reason, in osv-scanner.toml)
#   exit 1  a vulnerability or a secret found
#   exit 2  an advisory database could not be reached: nothing can be said of the dependencies
# Reports in .run/audit/.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/.run/audit
bin=$root/.deps/bin
mkdir -p "$out"
osv_version=v2.2.4 # newer: v2.6.0 needs Go 1.27, v2.3.0 could not be verified against the checksum database from here

log() { printf '[audit] %s\n' "$*"; }
found=0 unreachable=0

log "npm audit (package-lock.json)"
npm audit --json >"$out/npm-audit.json" 2>"$out/npm-audit.log"
case $? in
  0) log "npm audit: no known vulnerability" ;;
  *)
    if node -e 'const r = require(process.argv[1]); process.exit(r.metadata?.vulnerabilities ? 0 : 1)' "$out/npm-audit.json" 2>/dev/null; then
      found=1
      node -e 'const v = require(process.argv[1]).metadata.vulnerabilities; console.log(`[audit] npm audit: ${Object.entries(v).map(([k, n]) => `${n} ${k}`).join(", ")} (details: npm audit)`)' "$out/npm-audit.json"
    else
      unreachable=1
      log "npm audit: the registry's advisory service did not answer ($(grep -m1 -o '[0-9]\{3\} [A-Za-z ]*' "$out/npm-audit.log" || echo "see $out/npm-audit.log"))"
    fi
    ;;
esac

if [ ! -x "$bin/osv-scanner" ] || [ "$(cat "$bin/.osv-scanner.version" 2>/dev/null)" != "$osv_version" ]; then
  log "building osv-scanner $osv_version"
  GOBIN=$bin GOFLAGS=-mod=mod go install "github.com/google/osv-scanner/v2/cmd/osv-scanner@$osv_version" && echo "$osv_version" >"$bin/.osv-scanner.version"
fi
mapfile -t lockfiles < <(git ls-files ':(glob)**/package-lock.json' ':(glob)**/go.mod' ':(glob)**/requirements*.txt' 2>/dev/null)
log "osv-scanner: ${lockfiles[*]}"
osv_args=()
for file in "${lockfiles[@]}"; do osv_args+=("--lockfile=$file"); done
[ -f osv-scanner.toml ] && osv_args+=("--config=osv-scanner.toml")
"$bin/osv-scanner" scan source --format=json "${osv_args[@]}" >"$out/osv-scanner.json" 2>"$out/osv-scanner.log"
status=$?
if grep -q "error when retrieving vulns\|no such host\|dial tcp" "$out/osv-scanner.log"; then
  unreachable=1
  log "osv-scanner: the OSV database could not be reached ($(grep -m1 -o 'dial tcp.*' "$out/osv-scanner.log" | cut -c1-100))"
elif [ $status -eq 1 ]; then
  found=1
  log "osv-scanner: vulnerabilities found (see $out/osv-scanner.json)"
elif [ $status -ne 0 ]; then
  unreachable=1
  log "osv-scanner failed (exit $status; see $out/osv-scanner.log)"
else
  log "osv-scanner: no known vulnerability"
fi

log "secret scan"
SECRET_SCAN_REPORT=$out/gitleaks.json bash scripts/secret-scan.sh >"$out/gitleaks.log" 2>&1 || found=1
tail -n 1 "$out/gitleaks.log" | sed 's/^/[audit] gitleaks: /'

if [ $found -ne 0 ]; then log "FAILED: findings above"; exit 1; fi
if [ $unreachable -ne 0 ]; then log "INCOMPLETE: an advisory database could not be reached; the dependencies are not known to be clean"; exit 2; fi
log "clean"
