#!/usr/bin/env bash
# The README's test command: installs what is missing, starts the local stack when it is not
# running, then runs every suite (contract, lint, types, unit, engine, faults, integration) and ends with
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
  local name=$1 began=$SECONDS; shift
  echo; echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
  took "$name" "$began"
}
# took <name> <start in SECONDS>: the suite's wall time, in the summary at the end too (CI's budget).
declare -a timings=()
took() { timings+=("$(printf '%5ds  %s' $((SECONDS - $2)) "$1")"); }
# vitest_suite <project>: runs one vitest project and adds its test counts.
vitest_suite() {
  local began=$SECONDS
  echo; echo "=== vitest $1"
  vitest_run "$1"
  vitest_tally "$1" $? "$began"
}
vitest_run() { npx vitest run --project "$1" --reporter=default --reporter=json --outputFile.json="$results/$1.json"; }
# vitest_tally <project> <exit status> <start>: adds the counts of the project's JSON report.
vitest_tally() {
  local project=$1 status=$2 report=$results/$1.json
  local suite_passed=0 suite_failed=0
  if [ -f "$report" ]; then
    suite_passed=$(node -p "require('$report').numPassedTests")
    suite_failed=$(node -p "require('$report').numFailedTests")
  fi
  # a file that fails to load fails no test but must still fail the run
  if [ "$status" -ne 0 ]; then failures+=("vitest $project"); [ "$suite_failed" -gt 0 ] || suite_failed=1; fi
  passed=$((passed + suite_passed)); failed=$((failed + suite_failed))
  took "vitest $project" "$3"
}

# engine_suite <build dir> <cmake options...>: builds the engine and runs its CTest suite, at the
# niceness ENGINE_NICENESS when set (what runs beside it then gets the CPU first).
engine_suite() {
  local dir=$1 began=$SECONDS; shift
  local nice=(nice -n "${ENGINE_NICENESS:-0}")
  echo; echo "=== engine tests ($dir)"
  local log=$results/ctest-$(basename "$dir").log
  if ! cmake -S engine-cpp -B "$dir" -G Ninja "$@" >"$results/cmake-$(basename "$dir").log" 2>&1 || ! "${nice[@]}" ninja -C "$dir" >>"$results/cmake-$(basename "$dir").log" 2>&1; then
    tail -n 40 "$results/cmake-$(basename "$dir").log"
    failed=$((failed + 1)); failures+=("engine build ($dir)"); return
  fi
  (cd "$dir" && "${nice[@]}" ctest --output-on-failure -j 2) 2>&1 | tee "$log"
  local summary; summary=$(grep -E '^[0-9]+% tests passed' "$log" || true)
  local total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary") bad=$(sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/' <<<"$summary")
  if [ -z "$summary" ]; then failed=$((failed + 1)); failures+=("engine tests ($dir)"); return; fi
  passed=$((passed + total - bad)); failed=$((failed + bad))
  [ "$bad" -eq 0 ] || failures+=("engine tests ($dir)")
  took "engine build and tests ($dir)" "$began"
}

set -e
bash scripts/bootstrap.sh
set +e
took "bootstrap" 0

step "contract: buf lint, format, breaking" bash scripts/check-contract.sh
step "prometheus: config and rules check, rule unit tests" bash -c 'promtool check config prometheus/prometheus.yml && promtool check rules prometheus/rules/*.yml && promtool test rules prometheus/tests/*.test.yml'
step "secret scan: gitleaks over every commit" bash scripts/secret-scan.sh
step "eslint" npx eslint --max-warnings=0 .
step "typescript: tsc (every file, tests included)" npx tsc -p tsconfig.check.json
step "typescript: tsc, the web console (browser settings)" npx tsc -p console
vitest_suite unit
engine_suite engine-cpp/build -DCMAKE_BUILD_TYPE=Release
# The fault suite (tests/faults) runs on a stack and processes of its own, which it kills and
# restarts, never the shared ones. Its phases mostly wait for parts to go and come back, so it runs
# while the sanitizer build compiles and tests at a lower priority; its output follows that build's.
echo; echo "=== vitest faults (in the background, beside the sanitizer build)"
faults_began=$SECONDS
vitest_run faults >"$results/faults.log" 2>&1 &
faults_pid=$!
# The sanitizer build runs the same tests with shorter random and fuzz runs: ASan slows them tenfold.
ENGINE_NICENESS=10 HFT_DIFF_COMMANDS=100000 HFT_FUZZ_ITERATIONS=30000 engine_suite engine-cpp/build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHFT_SANITIZE=ON -DHFT_BUILD_SERVER=ON -DHFT_BUILD_BENCHMARKS=OFF
wait "$faults_pid"
faults_status=$?
echo; echo "=== vitest faults"
cat "$results/faults.log"
vitest_tally faults "$faults_status" "$faults_began"
step "local stack up" bash scripts/stack.sh up
step "migrations up" npm run --silent migrate -- up
vitest_suite integration

echo
printf '%s\n' "${timings[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]}"
  shopt -s nullglob
  reports=("$results"/*.json)
  [ ${#reports[@]} -eq 0 ] || node scripts/test-failures.mjs "${reports[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
