#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, builds, runs every test project,
# and ends with one line "N passed, N failed[, N skipped]". CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
ensure_prereqs

config=${EDDY_TEST_CONFIGURATION:-Debug}
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

echo "== build ($config)"
dotnet build Eddy.slnx -c "$config" -nologo -v quiet -clp:ErrorsOnly

passed=0 failed=0 skipped=0 status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  out="$log_dir/$name.log"
  if ! dotnet test "$proj" -c "$config" --no-build -nologo --logger "console;verbosity=normal" >"$out" 2>&1; then
    status=1
  fi
  # Show failures in full, the rest as a summary.
  grep -E '^\s+(Failed|Error Message|Stack Trace)|^\s{2,}at |Assert\.' "$out" | head -200 || true
  line=$(grep -E '(Passed|Failed)!\s+-\s+Failed:' "$out" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "   $name: no test summary (see output below)"
    tail -40 "$out"
    status=1
    failed=$((failed + 1))
    continue
  fi
  echo "   $line"
  f=$(sed -E 's/.*Failed:\s+([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed:\s+([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped:\s+([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

if [ "$failed" -gt 0 ]; then status=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
