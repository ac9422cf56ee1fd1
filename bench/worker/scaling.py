#!/usr/bin/env python3
"""eddy worker scaling: events/s with 1, 2 and 3 workers over a 12-partition topic of lab events.

Per run: a fresh dev broker (eddy kafka), N workers started at once on a pass-through job into blackhole with 1 s
checkpoints; once the group has settled (all 12 partitions running, owners unchanged for three polls), the workers
are paused (SIGSTOP), EVENTS lab events are produced (eddy produce --events web-traffic, about 600 B each: keep
EVENTS x 600 B / 12 under the dev broker's 5 MB per partition), and the workers continued (SIGCONT). The run ends when
every partition's checkpointed offset reached the topic's end (GET /worker: lag 0 on all 12 partitions). Rate =
EVENTS / (end - continue), so it includes up to one checkpoint interval; CPU-seconds are the workers' user+system time
from /proc over the same span.

With --job aggregation the job is the lab's Day 2 aggregation (hits per host in 5-minute windows, a GROUP BY that
reads a repartition topic: two stages, a group each) into blackhole; the broker is started with the repartition topic
(named by eddy explain --distributed), and the run ends when every partition of both stages is checkpointed at its
topic's end.

Each run first measures the settled workers' idle CPU (--idle-seconds), then processes --waves rounds of EVENTS (each
produced while the workers are paused); the first round pays for warm-up (tiered JIT, first allocations of every
partition task) and is left out of the figure. --threads prints the CPU per thread name for each round.

Usage: bench/worker/scaling.py [--events 72000] [--workers 1,2,3] [--config Release|Debug] [--job pass|aggregation]
       [--waves 4] [--idle-seconds 5] [--threads]
"""
import argparse, json, os, re, signal, subprocess, tempfile, time, urllib.request

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--events", type=int, default=72_000)
ap.add_argument("--workers", default="1,2,3")
ap.add_argument("--config", default="Release")
ap.add_argument("--job", default="pass", choices=["pass", "aggregation"])
ap.add_argument("--idle-seconds", type=float, default=5.0)
ap.add_argument("--waves", type=int, default=4, help="rounds of EVENTS each; the first is warm-up and left out of the figure")
ap.add_argument("--threads", action="store_true", help="also print the workers' CPU by thread name over the run")
args = ap.parse_args()
eddy = ["dotnet", os.path.join(root, "src/Eddy.Cli/bin", args.config, "net10.0/eddy.dll")]
PARTITIONS = 12

JOB = """SET 'pipeline.name' = 'scaling';
SET 'execution.checkpointing.interval' = '1 s';
CREATE TABLE events (url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
  event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')) WITH (
  'connector' = 'kafka', 'topic' = 'perf', 'properties.bootstrap.servers' = 'BOOTSTRAP', 'properties.group.id' = 'scaling-source',
  'properties.session.timeout.ms' = '120000',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR) WITH ('connector' = 'blackhole');
INSERT INTO processed_events SELECT ip, event_timestamp, referrer, host, url FROM events;
"""

AGGREGATION = """SET 'pipeline.name' = 'scaling-agg';
SET 'execution.checkpointing.interval' = '1 s';
CREATE TABLE events (url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
  window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
  WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND) WITH (
  'connector' = 'kafka', 'topic' = 'perf', 'properties.bootstrap.servers' = 'BOOTSTRAP', 'properties.group.id' = 'scaling-source',
  'properties.session.timeout.ms' = '120000',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO processed_events_aggregated
SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, host;
"""
if args.job == "aggregation":
    JOB = AGGREGATION


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pids):
    """CPU-seconds per thread name (digits folded, so 'rdk:broker12' counts as 'rdk:broker#') over all pids."""
    out = {}
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    name = re.sub(r"\d+", "#", f.read().strip())
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def worker_view(urls):
    parts = {}
    for u in urls:
        try:
            doc = json.load(urllib.request.urlopen(u + "/worker", timeout=10))
        except Exception:
            continue
        for j in doc["jobs"]:
            for s in j["stages"]:
                for p in s["tasks"]:
                    parts[(s["stage"], p["partition"])] = p
    return parts


def repartition_topics():
    with tempfile.TemporaryDirectory() as d:
        sql = os.path.join(d, "job.sql")
        with open(sql, "w") as f:
            f.write(JOB.replace("BOOTSTRAP", "127.0.0.1:1"))
        out = subprocess.run(eddy + ["explain", sql, "--distributed"], check=True, capture_output=True, text=True).stdout
    return sorted(set(re.findall(r"writes (\S+-repartition) \(", out)))


def run(n):
    work = tempfile.mkdtemp(prefix="eddy-scaling-")
    topics = ["perf"] + repartition_topics()
    tasks = PARTITIONS * len(topics)
    broker = subprocess.Popen(eddy + ["kafka", "--port", "0", "--partitions", str(PARTITIONS)] + [a for t in topics for a in ("--topic", t)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    bootstrap = None
    for line in broker.stdout:
        m = re.search(r"bootstrap servers: (\S+)", line)
        if m:
            bootstrap = m.group(1)
            break
    sql = os.path.join(work, "job.sql")
    with open(sql, "w") as f:
        f.write(JOB.replace("BOOTSTRAP", bootstrap))
    env = dict(os.environ, EDDY_HOME=os.path.join(work, "home"))
    logs = [os.path.join(work, f"worker-{i}.log") for i in range(n)]
    workers = [subprocess.Popen(eddy + ["worker", sql, "--port", "0"], stdout=subprocess.DEVNULL, stderr=open(logs[i], "w"), env=env)
               for i in range(n)]
    urls = []
    for log in logs:
        while True:
            m = re.search(r"REST API on (\S+)", open(log).read())
            if m:
                urls.append(m.group(1).rstrip("/"))
                break
            time.sleep(0.2)
    # The group settles first, so that the rate is processing, not start-up.
    stable, last = 0, None
    while stable < 3:
        parts = worker_view(urls)
        owners = tuple(sorted((p, v["state"], v["started-at"]) for p, v in parts.items()))
        ok = len(parts) == tasks and all(v["state"] == "RUNNING" for v in parts.values())
        stable = stable + 1 if ok and owners == last else 0
        last = owners
        time.sleep(0.5)
    # The workers are stopped (SIGSTOP) while the input is produced, and continued at once: the rate is the workers'
    # own, not the producer's (the group's session timeout is longer than the pause).
    # What the settled workers burn with no input (polling, timers, checkpoints of unchanged state): reported beside the
    # rate, since on a short run it is a large share of the CPU per event.
    idle0, ti = sum(cpu_seconds(w.pid) for w in workers), time.monotonic()
    time.sleep(args.idle_seconds)
    idle_rate = (sum(cpu_seconds(w.pid) for w in workers) - idle0) / (time.monotonic() - ti)
    # Each wave is produced while the workers are paused, then processed; the first wave also pays for warm-up (tier-0
    # code, first allocations of every partition task), so the figure of record is the mean of the later waves.
    results = []
    for wave in range(args.waves):
        for w in workers:
            os.kill(w.pid, signal.SIGSTOP)
        subprocess.run(eddy + ["produce", "--bootstrap", bootstrap, "--topic", "perf", "--events", "web-traffic", "--count", str(args.events),
                               "--seed", str(7 + wave), "--start", f"2024-01-01T{10 + wave:02d}:00:00Z"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu0 = sum(cpu_seconds(w.pid) for w in workers)
        threads0 = thread_cpu([w.pid for w in workers])
        t0 = time.monotonic()
        for w in workers:
            os.kill(w.pid, signal.SIGCONT)
        end = None
        while time.monotonic() - t0 < 600:
            parts = worker_view(urls)
            if len(parts) == tasks and all(p.get("lag") == 0 and p.get("checkpointed-offset") is not None for p in parts.values()) \
                    and sum(p["end-offset"] for k, p in parts.items() if k[0] == 0) >= args.events * (wave + 1):
                end = time.monotonic()
                break
            time.sleep(0.25)
        if end is None:
            print(f"{n} worker(s): wave {wave + 1} did not finish within 600 s", flush=True)
            break
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu0
        secs = end - t0
        results.append((secs, cpu))
        print(f"  wave {wave + 1}: {args.events} events in {secs:.1f} s, {cpu:.1f} CPU-s ({cpu / args.events * 1e6:.1f} µs per event)", flush=True)
        if args.threads:
            threads1 = thread_cpu([w.pid for w in workers])
            spent = sorted(((v - threads0.get(k, 0), k) for k, v in threads1.items()), reverse=True)
            print("    CPU-s by thread: " + ", ".join(f"{k} {v:.2f}" for v, k in spent if v >= 0.01), flush=True)
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(timeout=120)
    broker.kill()
    steady = results[1:] if len(results) > 1 else results
    if len(results) < args.waves or not steady:
        return
    secs = sum(r[0] for r in steady)
    cpu = sum(r[1] for r in steady)
    events = args.events * len(steady)
    rate = events / secs
    print(f"{n} worker(s): {events} events (waves {args.waves - len(steady) + 1}-{args.waves}) read and checkpointed in {secs:.1f} s = "
          f"{rate:,.0f} events/s in all, {rate / n:,.0f} per worker; {cpu:.1f} CPU-s in the workers ({cpu / events * 1e6:.1f} µs per event); "
          f"idle, the workers burn {idle_rate:.2f} CPU-s per second",
          flush=True)


for n in [int(x) for x in args.workers.split(",")]:
    run(n)
