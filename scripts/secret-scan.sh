#!/usr/bin/env bash
# The secret scan of the repository: gitleaks over every commit of the checkout (or over the files
# when this is not a git checkout), with the exceptions of .gitleaks.toml. Exit 0 clean, 1 leaks
# found (listed redacted, and in .run/test-results/gitleaks.json).
#   scripts/secret-scan.sh [DIR]   (default: the project; SECRET_SCAN_REPORT moves the report)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-$root}
gitleaks=$root/.deps/bin/gitleaks
[ -x "$gitleaks" ] || bash "$root/scripts/install-tools.sh"
report=${SECRET_SCAN_REPORT:-$root/.run/test-results/gitleaks.json}
mkdir -p "$(dirname "$report")"
if git -C "$target" rev-parse --is-inside-work-tree >/dev/null 2>&1; then mode=git; else mode=dir; fi
"$gitleaks" "$mode" "$target" --config "$root/.gitleaks.toml" --redact --no-banner --no-color --verbose --report-format json --report-path "$report"
