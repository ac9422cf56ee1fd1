#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, on a free loopback port.
#   scripts/pg-test-server.sh start          prints the Npgsql connection string (the server's data is /tmp/eddy-pg-PORT)
#   scripts/pg-test-server.sh stop CONN|PORT  stops that server and deletes its data
#   scripts/pg-test-server.sh restart CONN|PORT  stops that server (fast: sessions are ended) and starts it again on
#                                            the same port and data (for tests of reconnecting clients)
# The server runs with wal_level = logical (the postgres-cdc connector's tests read its logical replication stream);
# EDDY_PG_WAL_LEVEL=replica starts one without it (a test of the connector's error for that server).
# The cluster runs as the postgres OS user because initdb and postgres refuse to run as root.
set -euo pipefail

pg_bin=${EDDY_PG_BIN:-}
if [ -z "$pg_bin" ]; then
  for v in 17 16 15 14; do
    if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then pg_bin=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
if [ -z "$pg_bin" ] && command -v pg_ctl >/dev/null 2>&1; then pg_bin=$(dirname "$(command -v pg_ctl)"); fi
if [ -z "$pg_bin" ]; then
  echo "pg-test-server: no PostgreSQL server binaries (install the 'postgresql' package)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local attempt port dir
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 20000))
    port_in_use "$port" && continue
    dir=/tmp/eddy-pg-$port
    # mkdir is the lock: two test runs that draw the same port do not share a directory.
    mkdir -m 700 "$dir" 2>/dev/null || continue
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if ! as_pg "$pg_bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1; then
      cat "$dir.initdb.log" >&2
      rm -rf "$dir" "$dir.initdb.log"
      exit 1
    fi
    rm -f "$dir.initdb.log"
    if as_pg "$pg_bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off -c max_connections=200 -c wal_level=${EDDY_PG_WAL_LEVEL:-logical} -c max_replication_slots=64 -c max_wal_senders=64" start >/dev/null 2>&1; then
      echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
      return 0
    fi
    # Another process may have taken the port between the check and the start: try the next one.
    echo "pg-test-server: start on port $port failed (attempt $attempt):" >&2
    tail -n 5 "$dir/server.log" >&2 || true
    rm -rf "$dir"
  done
  echo "pg-test-server: could not start a server" >&2
  exit 1
}

port_of() {
  local arg=${1:-}
  if [[ $arg =~ Port=([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo "$arg"; fi
}

restart() {
  local port dir
  port=$(port_of "${1:-}")
  if ! [[ $port =~ ^[0-9]+$ ]]; then
    echo "usage: $0 restart CONNECTION-STRING|PORT" >&2
    exit 2
  fi
  dir=/tmp/eddy-pg-$port
  [ -d "$dir" ] || { echo "pg-test-server: no server data at $dir" >&2; exit 1; }
  # pg_ctl restart reuses the options the server was started with (postmaster.opts).
  if ! as_pg "$pg_bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null 2>&1; then
    echo "pg-test-server: restart on port $port failed:" >&2
    tail -n 5 "$dir/server.log" >&2 || true
    exit 1
  fi
}

stop() {
  local arg=${1:-} port
  if [[ $arg =~ Port=([0-9]+) ]]; then port=${BASH_REMATCH[1]}; else port=$arg; fi
  if ! [[ $port =~ ^[0-9]+$ ]]; then
    echo "usage: $0 stop CONNECTION-STRING|PORT" >&2
    exit 2
  fi
  local dir=/tmp/eddy-pg-$port
  [ -d "$dir" ] || { echo "pg-test-server: no server data at $dir" >&2; exit 1; }
  as_pg "$pg_bin/pg_ctl" -D "$dir" -w -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  restart) restart "${2:-}" ;;
  *) echo "usage: $0 start | stop CONNECTION-STRING|PORT | restart CONNECTION-STRING|PORT" >&2; exit 2 ;;
esac
