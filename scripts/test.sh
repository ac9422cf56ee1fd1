#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, builds, runs every test project,
# and ends with one line "N passed, N failed[, N skipped]". CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
ensure_prereqs
ensure_browser_test_prereqs
ensure_s3_test_prereqs
ensure_geo_db

config=${EDDY_TEST_CONFIGURATION:-Debug}
log_dir=$(mktemp -d)
pg_conn=""
cleanup() {
  [ -n "$pg_conn" ] && scripts/pg-test-server.sh stop "$pg_conn" || true
  rm -rf "$log_dir"
}
trap cleanup EXIT

echo "== build ($config)"
dotnet build Eddy.slnx -c "$config" -nologo -v quiet -clp:ErrorsOnly

# One PostgreSQL server for every test that needs one; EDDY_TEST_UNDER_SCRIPT makes those tests fail (not start
# their own server) when the variable is missing, so a broken start here is not hidden.
echo "== PostgreSQL test server"
pg_conn=$(scripts/pg-test-server.sh start)
export EDDY_TEST_PG="$pg_conn" EDDY_TEST_UNDER_SCRIPT=1
echo "   $pg_conn"

passed=0 failed=0 skipped=0 status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  # A library the tests load at run time (e.g. a user's message classes for ADD JAR) lives beside them but has no tests.
  if ! grep -q 'Microsoft.NET.Test.Sdk' "$proj"; then
    echo "== $name: not a test project (no Microsoft.NET.Test.Sdk reference), built only"
    continue
  fi
  echo "== $name"
  out="$log_dir/$name.log"
  trx="$name.trx"
  project_status=0
  dotnet test "$proj" -c "$config" --no-build -nologo --logger "console;verbosity=minimal" \
      --logger "trx;LogFileName=$trx" --results-directory "$log_dir" >"$out" 2>&1 || project_status=$?
  if [ "$project_status" -ne 0 ]; then status=1; fi
  # Failures in full (minimal verbosity prints only failing tests and the summary).
  grep -vE '^\s*$' "$out" | grep -vE '^(Test run for|A total of|Results File)' | head -300 || true
  counters=$(grep -o '<Counters [^>]*>' "$log_dir/$trx" 2>/dev/null || true)
  if [ -z "$counters" ]; then
    echo "   $name: the test run produced no results (see above)"
    status=1
    failed=$((failed + 1))
    continue
  fi
  count() { sed -E "s/.* $1=\"([0-9]+)\".*/\1/" <<<"$counters"; }
  p=$(count passed); f=$(count failed); t=$(count total); e=$(count executed)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
  # A fixture's cleanup failure fails the run without failing a test; the summary line must not hide it.
  if [ "$project_status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "   $name: exited with status $project_status although no test failed (a fixture or cleanup failure above): counted as one failure"
    failed=$((failed + 1))
  fi
done

# The README replayed from a clean clone (scripts/walkthrough-test.sh); each of its checks counts as one test.
echo "== walkthrough (README from a clean clone)"
if [ "${EDDY_SKIP_WALKTHROUGH:-0}" = 1 ]; then
  echo "   skipped: EDDY_SKIP_WALKTHROUGH=1"
  skipped=$((skipped + 1))
else
  walk_out="$log_dir/walkthrough.log"
  scripts/walkthrough-test.sh >"$walk_out" 2>&1 || status=1
  grep -E '^(not ok|skipped) - ' "$walk_out" || true
  summary=$(grep -E '^walkthrough: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$walk_out" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "   the walkthrough ended without its summary line:"
    tail -n 30 "$walk_out"
    failed=$((failed + 1))
  else
    echo "   $summary"
    read -r wp wf ws < <(sed -E 's/walkthrough: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/' <<<"$summary")
    passed=$((passed + wp)); failed=$((failed + wf)); skipped=$((skipped + ws))
  fi
fi

if [ "$failed" -gt 0 ]; then status=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
