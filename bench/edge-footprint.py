#!/usr/bin/env python3
"""Edge mode's footprint and reduction, in one run (issue 20). Run by hand from the repository
root after `cargo build --release --workspace`:

    python3 bench/edge-footprint.py [SECONDS] [RATE] [LABELS] [WINDOW]   # defaults: 60 1000 20 15s

Starts a counting sink (bench/count-sink.py) as the relay stand-in and one edge (`[edge]`
with WINDOW and default quantiles, memory buffer) forwarding to it, then plays one load tool:
RATE latency points per second, one HTTP write per second, `lat,node=n0,label=l<k> ms=<v>`
over LABELS transaction labels, stamped with the current time. Samples the edge's CPU time
and RSS from /proc over the load, then waits for the last window and prints: CPU as a share
of one core, RSS (peak and end), raw points written, points the edge sent upstream, and the
reduction factor."""

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
LABELS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
WINDOW = sys.argv[4] if len(sys.argv) > 4 else "15s"
SLUICE = os.path.abspath("target/release/sluice")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def window_seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * units[unit]
    raise SystemExit(f"window {text!r}: use e.g. 15s")


work = tempfile.mkdtemp(prefix="edge-footprint-")
procs = []
try:
    sink_port, edge_port = free_port(), free_port()
    procs.append(subprocess.Popen([sys.executable, "bench/count-sink.py", str(sink_port)]))
    wait_http(f"http://127.0.0.1:{sink_port}/ping")
    config = os.path.join(work, "edge.toml")
    with open(config, "w") as f:
        f.write(f"""[server]
http = "127.0.0.1:{edge_port}"

[edge]
window = "{WINDOW}"
drop_tags = ["node"]

[[outputs]]
name = "relay"
url = "http://127.0.0.1:{sink_port}"
api = "v1"
gzip = false
""")
    log = open(os.path.join(work, "edge.log"), "w")
    edge = subprocess.Popen([SLUICE, "run", "-c", config], stdout=log, stderr=log, cwd=work)
    procs.append(edge)
    wait_http(f"http://127.0.0.1:{edge_port}/ping")
    time.sleep(1)

    rng = random.Random(1)
    url = f"http://127.0.0.1:{edge_port}/write?db=lt"
    raw = 0
    peak = 0.0
    c0, t0 = cpu_seconds(edge.pid), time.time()
    for k in range(SECONDS):
        now = time.time_ns()
        body = "".join(
            f"lat,node=n0,label=l{j % LABELS} ms={rng.lognormvariate(3.5, 0.6):.3f} {now + j}\n"
            for j in range(RATE)
        ).encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")) as r:
            assert r.status == 204, r.status
        raw += RATE
        peak = max(peak, rss_mib(edge.pid))
        time.sleep(max(0.0, t0 + k + 1 - time.time()))
    cpu = (cpu_seconds(edge.pid) - c0) / (time.time() - t0)
    rss_end = rss_mib(edge.pid)

    # The last window closes after its end plus allowed_lateness (2 s) and a tick.
    time.sleep(window_seconds(WINDOW) + 4)
    with urllib.request.urlopen(f"http://127.0.0.1:{sink_port}/count") as r:
        upstream = json.loads(r.read())
        upstream = upstream["points"] if isinstance(upstream, dict) else int(upstream)
    print(f"load: {RATE} points/s for {SECONDS} s, {LABELS} labels, window {WINDOW}")
    print(f"edge CPU: {cpu:.2%} of one core")
    print(f"edge RSS: peak {peak:.1f} MiB, end {rss_end:.1f} MiB")
    print(f"raw points written: {raw}; points sent upstream: {upstream}; "
          f"reduction: {raw / max(upstream, 1):.0f}x")
finally:
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
