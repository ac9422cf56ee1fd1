#!/usr/bin/env python3
"""Top frames of a speedscope profile written by `dotnet-trace collect --format Speedscope`.

  bench/tools/speedscope-top.py trace.speedscope.json [--threads N] [--top N] [--match TEXT]

Per thread (the N busiest): inclusive and self share of each frame. dotnet-trace's default profile samples
thread stacks by wall clock and marks each sample's leaf CPU_TIME or a blocked/unmanaged pseudo-frame, so a
thread's busy share is its CPU_TIME samples (older traces without that frame fall back to leaf names that look like
waits). --match keeps only frames whose name contains TEXT (e.g. 'Eddy.').
"""
import json, sys, collections, argparse

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--top", type=int, default=30)
ap.add_argument("--match", default="")
a = ap.parse_args()
doc = json.load(open(a.file))
frames = [f["name"] for f in doc["shared"]["frames"]]
profiles = []
for p in doc["profiles"]:
    if p["type"] == "evented":
        # open/close events: convert to weighted stacks
        stack, last, weights, stacks = [], None, [], []
        for ev in p["events"]:
            if last is not None and stack:
                stacks.append(list(stack)); weights.append(ev["at"] - last)
            last = ev["at"]
            if ev["type"] == "O": stack.append(ev["frame"])
            else: stack.pop()
        profiles.append((p["name"], stacks, weights))
    else:
        profiles.append((p["name"], p["samples"], p["weights"]))

cpu_frame = frames.index("CPU_TIME") if "CPU_TIME" in frames else None
WAIT_NAMES = ("Wait", "Sleep", "Monitor", "Semaphore", "Join", "Blocking", "epoll", "Poll(")

def is_busy(stack):
    if not stack: return False
    if cpu_frame is not None: return stack[-1] == cpu_frame
    return not any(k in frames[stack[-1]] for k in WAIT_NAMES)

def busy(stacks, weights):
    return sum(w for s, w in zip(stacks, weights) if is_busy(s))

profiles.sort(key=lambda p: -busy(p[1], p[2]))
for name, stacks, weights in profiles[: a.threads]:
    total = sum(weights) or 1
    incl, self_ = collections.Counter(), collections.Counter()
    for s, w in zip(stacks, weights):
        for f in set(s): incl[f] += w
        real = [f for f in s if not frames[f].endswith("_TIME")]
        if real: self_[real[-1]] += w
    print(f"== {name}: {total:.0f} units, busy {busy(stacks, weights) / total:.0%}")
    for title, counter in (("self", self_), ("inclusive", incl)):
        print(f"-- {title}")
        shown = [(f, w) for f, w in counter.most_common() if a.match in frames[f]][: a.top]
        for f, w in shown:
            print(f"{w / total:6.1%}  {frames[f][:150]}")
