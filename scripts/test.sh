#!/usr/bin/env bash
# The README's test command: installs what is missing, starts the local stack when it is not
# running, then runs every suite (contract, lint, types, unit, engine, integration) and ends with
# one line "N passed, N failed" over all of them.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=$root/.run/test-results
rm -rf "$results"; mkdir -p "$results"

passed=0 failed=0
declare -a failures=()
# step <name> <command...>: runs a check that is not itself a test runner; counts as one test.
step() {
  local name=$1; shift
  echo; echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}
# vitest_suite <project>: runs one vitest project and adds its test counts.
vitest_suite() {
  local project=$1 report=$results/$1.json
  echo; echo "=== vitest $project"
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$report"
  local status=$?
  local suite_passed=0 suite_failed=0
  if [ -f "$report" ]; then
    suite_passed=$(node -p "require('$report').numPassedTests")
    suite_failed=$(node -p "require('$report').numFailedTests")
  fi
  # a file that fails to load fails no test but must still fail the run
  if [ $status -ne 0 ]; then failures+=("vitest $project"); [ "$suite_failed" -gt 0 ] || suite_failed=1; fi
  passed=$((passed + suite_passed)); failed=$((failed + suite_failed))
}

# engine_suite <build dir> <cmake options...>: builds the engine and runs its CTest suite.
engine_suite() {
  local dir=$1; shift
  echo; echo "=== engine tests ($dir)"
  local log=$results/ctest-$(basename "$dir").log
  if ! cmake -S engine-cpp -B "$dir" -G Ninja "$@" >"$results/cmake-$(basename "$dir").log" 2>&1 || ! ninja -C "$dir" >>"$results/cmake-$(basename "$dir").log" 2>&1; then
    tail -n 40 "$results/cmake-$(basename "$dir").log"
    failed=$((failed + 1)); failures+=("engine build ($dir)"); return
  fi
  (cd "$dir" && ctest --output-on-failure -j 2) 2>&1 | tee "$log"
  local summary; summary=$(grep -E '^[0-9]+% tests passed' "$log" || true)
  local total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary") bad=$(sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/' <<<"$summary")
  if [ -z "$summary" ]; then failed=$((failed + 1)); failures+=("engine tests ($dir)"); return; fi
  passed=$((passed + total - bad)); failed=$((failed + bad))
  [ "$bad" -eq 0 ] || failures+=("engine tests ($dir)")
}

set -e
bash scripts/bootstrap.sh
set +e

step "contract: buf lint, format, breaking" bash scripts/check-contract.sh
step "prometheus: config and rules check, rule unit tests" bash -c 'promtool check config prometheus/prometheus.yml && promtool check rules prometheus/rules/*.yml && promtool test rules prometheus/tests/*.test.yml'
step "eslint" npx eslint --max-warnings=0 .
step "typescript: tsc (every file, tests included)" npx tsc -p tsconfig.check.json
vitest_suite unit
engine_suite engine-cpp/build -DCMAKE_BUILD_TYPE=Release
# The sanitizer build runs the same tests with a shorter random run: ASan slows it tenfold.
HFT_DIFF_COMMANDS=100000 engine_suite engine-cpp/build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHFT_SANITIZE=ON -DHFT_BUILD_SERVER=ON -DHFT_BUILD_BENCHMARKS=OFF
step "local stack up" bash scripts/stack.sh up
step "migrations up" npm run --silent migrate -- up
vitest_suite integration

echo
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
