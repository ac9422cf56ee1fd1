#!/usr/bin/env python3
"""eddy worker scaling: events/s with 1, 2 and 3 workers over a 12-partition topic of lab events.

Per run: a fresh dev broker (eddy kafka), EVENTS lab events produced first (eddy produce --events web-traffic), then N
workers started at once on a pass-through job into blackhole with 1 s checkpoints. The run ends when every partition's
checkpointed offset reached the topic's end (GET /worker: lag 0 on all 12 partitions). Rate = EVENTS / (end - the
first partition task's start); CPU-seconds are the workers' user+system time from /proc at the end.

Usage: bench/worker/scaling.py [--events 120000] [--workers 1,2,3] [--config Release|Debug]
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--events", type=int, default=120_000)
ap.add_argument("--workers", default="1,2,3")
ap.add_argument("--config", default="Release")
args = ap.parse_args()
eddy = ["dotnet", os.path.join(root, "src/Eddy.Cli/bin", args.config, "net10.0/eddy.dll")]
PARTITIONS = 12

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def run(n):
    work = tempfile.mkdtemp(prefix="eddy-scaling-")
    broker = subprocess.Popen(eddy + ["kafka", "--port", "0", "--partitions", str(PARTITIONS), "--topic", "perf"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    bootstrap = None
    for line in broker.stdout:
        m = re.search(r"bootstrap servers: (\S+)", line)
        if m:
            bootstrap = m.group(1)
            break
    subprocess.run(eddy + ["produce", "--bootstrap", bootstrap, "--topic", "perf", "--events", "web-traffic", "--count", str(args.events),
                           "--seed", "7", "--start", "2024-01-01T10:00:00Z"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sql = os.path.join(work, "job.sql")
    with open(sql, "w") as f:
        f.write(f"""SET 'pipeline.name' = 'scaling';
SET 'execution.checkpointing.interval' = '1 s';
CREATE TABLE events (url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
  event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')) WITH (
  'connector' = 'kafka', 'topic' = 'perf', 'properties.bootstrap.servers' = '{bootstrap}', 'properties.group.id' = 'scaling-source',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR) WITH ('connector' = 'blackhole');
INSERT INTO processed_events SELECT ip, event_timestamp, referrer, host, url FROM events;
""")
    env = dict(os.environ, EDDY_HOME=os.path.join(work, "home"))
    logs = [os.path.join(work, f"worker-{i}.log") for i in range(n)]
    workers = [subprocess.Popen(eddy + ["worker", sql, "--port", "0"], stdout=subprocess.DEVNULL, stderr=open(logs[i], "w"), env=env)
               for i in range(n)]
    urls, first_start = [], None
    for log in logs:
        while True:
            m = re.search(r"REST API on (\S+)", open(log).read())
            if m:
                urls.append(m.group(1).rstrip("/"))
                break
            time.sleep(0.2)
    started = time.monotonic()
    end = None
    while time.monotonic() - started < 600:
        parts = {}
        for u in urls:
            try:
                doc = json.load(urllib.request.urlopen(u + "/worker", timeout=5))
            except Exception:
                continue
            for j in doc["jobs"]:
                for p in j["partitions"]:
                    parts[p["partition"]] = p
        if first_start is None and parts:
            first_start = time.monotonic()
        if len(parts) == PARTITIONS and all(p.get("lag") == 0 and p.get("checkpointed-offset") is not None for p in parts.values()):
            end = time.monotonic()
            break
        time.sleep(0.25)
    cpu = sum(cpu_seconds(w.pid) for w in workers)
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(timeout=120)
    broker.kill()
    if end is None:
        print(f"{n} worker(s): did not finish within 600 s", flush=True)
        return
    secs = end - first_start
    rate = args.events / secs
    print(f"{n} worker(s): {args.events} events in {secs:.1f} s = {rate:,.0f} events/s in all, {rate / n:,.0f} per worker; "
          f"{cpu:.1f} CPU-s ({cpu / args.events * 1e6:.1f} µs of CPU per event, start-up included)", flush=True)

for n in [int(x) for x in args.workers.split(",")]:
    run(n)
