#!/usr/bin/env bash
# Usage: scripts/lab.sh [--postgres] [OPTIONS]
#
# The lab's pipeline on one machine, no Docker: builds Eddy (./eddy), fetches the geolocation database, starts the dev
# Kafka broker (`eddy kafka`), the web-traffic producer (`eddy produce`), the Eddy server with its dashboard, and
# submits the lab's jobs to it: the geolocating pass-through (Day 1), the 5-minute aggregations (Day 2) and the
# zoomcamp's 1-minute aggregation. Aggregated rows are printed as they come; Ctrl-C stops everything it started.
#
#   scripts/lab.sh                 print sinks: rows on this screen (and in the dashboard's output tab)
#   scripts/lab.sh --postgres      also starts a throwaway PostgreSQL (scripts/pg-test-server.sh) and runs the JDBC
#                                  variants (examples/postgres/): rows land in processed_events,
#                                  processed_events_aggregated(_source) and processed_events_aggregated_1min
#   POSTGRES_URL=jdbc:postgresql://host:5432/postgres scripts/lab.sh --postgres   use that PostgreSQL instead
#
# Options: --rate N (events/s, default 50), --count N (events to produce, default 0: unbounded), --late-share F
# (share of late events, producer's default), --duration S (stop after S seconds; default: until Ctrl-C),
# --kafka-port P (default 9092), --ui-port P (default 8081), --seed S (producer seed, default 1).
# Environment: EDDY_LAB_DIR (logs; default a new temporary folder), POSTGRES_USER/POSTGRES_PASSWORD.
set -euo pipefail
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rate=50 count=0 late_share="" duration=0 kafka_port=9092 ui_port=8081 seed=1 use_pg=0
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) use_pg=1 ;;
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --count) count=$2; shift ;;
    --late-share) late_share=$2; shift ;;
    --kafka-port) kafka_port=$2; shift ;;
    --ui-port) ui_port=$2; shift ;;
    --seed) seed=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "lab.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

lab_dir=${EDDY_LAB_DIR:-$(mktemp -d -t eddy-lab.XXXXXX)}
mkdir -p "$lab_dir"
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[lab $(elapsed)s] $*" >&2; }

# Each background process gets a process group of its own (job control), so Ctrl-C reaches only this script, which
# then stops them in reverse order of start, each before the next: the producer and the jobs while the broker is
# still there to answer them (a producer whose broker is gone waits out its delivery timeout, about a minute).
set -m
pids=() pg_conn="" started_pg=0
stop_process() { # stop_process PID: SIGTERM to its group, SIGKILL after 3 s
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  trap '' INT TERM
  set +m   # no "Terminated" job notices for the processes stopped here
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_process "${pids[$i]}"; done
  if [ "$started_pg" -eq 1 ] && [ -n "$pg_conn" ]; then
    if [ "${EDDY_LAB_KEEP_PG:-0}" = 1 ]; then say "PostgreSQL left running: $pg_conn"
    else scripts/pg-test-server.sh stop "$pg_conn" || true; fi
  fi
  say "stopped; logs in $lab_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
ensure_prereqs
ensure_geo_db
./eddy --version >/dev/null   # builds the CLI the first time (Release, into artifacts/cli), listing each project built
eddy="$root/artifacts/cli/eddy"
say "eddy built"

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then say "gave up waiting for $what (logs in $lab_dir)"; exit 1; fi
    sleep 0.2
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 1. the dev broker: three partitions, as the lab's aggregation job runs at parallelism 3
if port_open "$kafka_port"; then echo "lab.sh: port $kafka_port is taken (another broker?); use --kafka-port" >&2; exit 1; fi
"$eddy" kafka --port "$kafka_port" --partitions 3 --topic web-traffic --topic quiet-topic >"$lab_dir/kafka.log" 2>&1 &
pids+=($!)
wait_for 30 "the Kafka broker" port_open "$kafka_port"
export EDDY_BOOTSTRAP=127.0.0.1:$kafka_port EDDY_TOPIC=web-traffic EDDY_GROUP=lab
say "Kafka broker on $EDDY_BOOTSTRAP (topic web-traffic, 3 partitions)"

# 2. PostgreSQL, when asked for
if [ "$use_pg" -eq 1 ]; then
  if [ -z "${POSTGRES_URL:-}" ]; then
    pg_conn=$(scripts/pg-test-server.sh start)
    started_pg=1
    [[ $pg_conn =~ Port=([0-9]+) ]] && pg_port=${BASH_REMATCH[1]}
    export POSTGRES_URL="jdbc:postgresql://127.0.0.1:$pg_port/postgres"
  fi
  say "PostgreSQL at $POSTGRES_URL"
fi

# 3. the server with its dashboard
if port_open "$ui_port"; then echo "lab.sh: port $ui_port is taken (another eddy server?); use --ui-port" >&2; exit 1; fi
"$eddy" server --slots 8 --port "$ui_port" >"$lab_dir/server.log" 2>&1 &
pids+=($!)
wait_for 30 "the Eddy server" curl -sf "http://127.0.0.1:$ui_port/overview"
say "dashboard on http://localhost:$ui_port"

# 4. the producer. Event time starts 3 s before a 5-minute boundary and keeps pace with the wall clock, so the first
# 1-minute window (5-second watermark) closes about 8 s after the producer starts and the first 5-minute windows
# (15-second watermark) about 18 s after; later ones every minute and every 5 minutes.
now=$(date -u +%s)
start_epoch=$(( now / 300 * 300 - 3 ))
start_iso=$(date -u -d "@$start_epoch" +%Y-%m-%dT%H:%M:%SZ)
"$eddy" produce --bootstrap "$EDDY_BOOTSTRAP" --topic web-traffic --events web-traffic --rate "$rate" --count "$count" \
  --seed "$seed" --start "$start_iso" ${late_share:+--late-share "$late_share"} >"$lab_dir/producer.log" 2>&1 &
pids+=($!)
say "producer: web-traffic at $rate events/s, event time from $start_iso"

# 5. the jobs
if [ "$use_pg" -eq 1 ]; then
  jobs=(examples/postgres/01-pass-through-geo.sql examples/postgres/02-aggregation.sql examples/postgres/03-tumble-1min.sql)
else
  jobs=(examples/kafka/01-pass-through-geo.sql examples/kafka/02-aggregation.sql examples/kafka/03-tumble-upsert.sql)
fi
for job in "${jobs[@]}"; do
  "$eddy" submit --detach --server "http://127.0.0.1:$ui_port" "$job" >&2
done
say "jobs submitted; watch them on http://localhost:$ui_port"

# 6. results as they come
show_pg() {
  local seen="$lab_dir/rows-shown" rows
  : >"$seen"
  while true; do
    rows=$(psql "postgresql://${POSTGRES_USER:-postgres}:${POSTGRES_PASSWORD:-postgres}@${POSTGRES_URL#jdbc:postgresql://}" -At -F ' | ' -c \
      "SELECT 'processed_events_aggregated_1min', event_hour, host, num_hits FROM processed_events_aggregated_1min
       UNION ALL SELECT 'processed_events_aggregated', event_hour, host, num_hits FROM processed_events_aggregated
       ORDER BY 2, 1, 3" 2>/dev/null || true)
    # An upserted row (a window updated by a late event) shows again with its new count.
    if [ -n "$rows" ]; then
      printf '%s\n' "$rows" | grep -Fxv -f "$seen" || true
      printf '%s\n' "$rows" >>"$seen"
    fi
    sleep 1
  done
}
if [ "$use_pg" -eq 1 ]; then
  say "aggregated rows from PostgreSQL (processed_events has every event, with geodata):"
  show_pg &
else
  say "aggregated rows, as the aggregation jobs print them (the pass-through's rows are on the dashboard):"
  # The server keeps each job's printed rows (the dashboard's Output tab, "output" in GET /jobs/<id>); show new ones.
  python3 -u - "http://127.0.0.1:$ui_port" <<'PY' &
import json, sys, time, urllib.request
base, seen = sys.argv[1], {}
def get(path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.load(r)
while True:
    try:
        for job in get("/jobs/overview")["jobs"]:
            if job["name"].endswith(".processed_events"):
                continue
            old = seen.setdefault(job["jid"], set())
            for line in get("/jobs/" + job["jid"])["output"]:
                if line not in old:
                    old.add(line)
                    print(line)
    except Exception:
        pass
    time.sleep(1)
PY
fi
pids+=($!)

if [ "$duration" -gt 0 ]; then
  sleep "$duration"
else
  wait "${pids[0]}"
fi
