"""Shared helpers for bench/matrix (issue 21): free loopback ports, child processes that are
always killed, bounded waits, HTTP, `sluice bench` runs and the end-to-end measurement, the
services the matrix starts (bench sink, sluice relay, redis-server, influxd, peers), machine
and version facts, and hand-written SVG bar charts (no plotting library needed).

Everything here is loopback only and bounded in time: every wait has a timeout, every child
is recorded and killed (SIGTERM, then SIGKILL) when its row ends, and at exit or on a signal."""

import atexit
import hashlib
import html
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# ---------------------------------------------------------------------------------------
# Processes, ports, waits, HTTP

_ALL = []  # every child ever started, killed at exit


def _kill_all():
    for p in _ALL:
        stop_process(p, grace=3)


atexit.register(_kill_all)


def _on_signal(signum, _frame):
    _kill_all()
    sys.exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(p, grace=10.0):
    """SIGTERM, then SIGKILL if `p` has not exited within `grace` s. Reaps it."""
    if p.poll() is not None:
        return
    try:
        p.terminate()
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    except OSError:
        pass


def cpu_seconds(pid):
    """User + system CPU seconds process `pid` has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Procs:
    """The children of one matrix row: logs under `workdir`, all stopped by `stop_all`."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}

    def spawn(self, name, args, cwd=None, env=None):
        log = open(os.path.join(self.workdir, name + ".log"), "ab")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=cwd or self.workdir, env={**os.environ, **(env or {})},
                             start_new_session=True)
        log.close()
        _ALL.append(p)
        self.procs[name] = p
        return p

    def log_tail(self, name, n=12):
        try:
            with open(os.path.join(self.workdir, name + ".log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def alive(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def stop_all(self):
        """Stops the children, the last started first (a relay before its sink and store)."""
        for p in reversed(list(self.procs.values())):
            stop_process(p)


def wait_until(fn, timeout, step=0.1):
    """Calls `fn` until it returns something true or `timeout` s have passed; returns its
    last value (None on timeout). Exceptions count as false."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception:
            pass
        if time.monotonic() >= end:
            return None
        time.sleep(step)


def http(method, url, body=None, headers=None, timeout=15):
    """(status, body bytes); status 0 when the connection failed. Never raises."""
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception as e:  # refused, reset, timeout
        return 0, str(e).encode()


def http_ok(url, statuses=(200, 204)):
    return http("GET", url, timeout=2)[0] in statuses


class StartError(Exception):
    """A service of a row did not come up."""


def wait_ready(procs, name, url, timeout=30, statuses=(200, 204)):
    """Until `url` answers one of `statuses`; StartError at once if `name` exited, or after
    `timeout` s."""
    end = time.monotonic() + timeout
    while not http_ok(url, statuses):
        if not procs.alive(name):
            raise StartError(f"{name} exited before answering {url}: {procs.log_tail(name)}")
        if time.monotonic() >= end:
            raise StartError(f"{name} not ready at {url} within {timeout} s: {procs.log_tail(name)}")
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------
# Services


class Sink:
    """`sluice bench sink` on a free port: counts points, `GET /stats`."""

    def __init__(self, procs, sluice, name="sink"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = procs.spawn(name, [sluice, "bench", "sink", "--listen", f"127.0.0.1:{self.port}"])
        wait_ready(procs, name, self.url + "/ping")

    def points(self):
        st, body = http("GET", self.url + "/stats", timeout=5)
        if st != 200:
            raise IOError(f"sink /stats: {st}")
        return int(json.loads(body)["points"])


class Relay:
    """`sluice run -c CONFIG` in its own directory (so nothing defaulted lands in the
    repository). `config` may use {port} and {dir}."""

    def __init__(self, procs, binary, config, name="relay", env=None):
        self.port = free_port()
        self.dir = os.path.join(procs.workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = config.replace("{port}", str(self.port)).replace("{dir}", self.dir)
        self.cfg = os.path.join(self.dir, "sluice.toml")
        with open(self.cfg, "w") as f:
            f.write(self.config)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = procs.spawn(name, [binary, "run", "-c", self.cfg], cwd=self.dir,
                                env={"NO_COLOR": "1", **(env or {})})
        wait_ready(procs, name, self.url + "/ping", timeout=60)

    def output_points(self):
        """Points the relay's outputs delivered, from /metrics (sluice_output_points*)."""
        st, body = http("GET", self.url + "/metrics", timeout=5)
        if st != 200:
            raise IOError(f"relay /metrics: {st}")
        n = 0
        for line in body.decode(errors="replace").splitlines():
            if re.match(r"^sluice_output_points[a-z_]*\{", line):
                n += float(line.rsplit(" ", 1)[1])
        return int(n)


class RedisServer:
    def __init__(self, procs, binary, name="redis", extra=("--appendonly", "no")):
        self.port = free_port()
        d = os.path.join(procs.workdir, name)
        os.makedirs(d, exist_ok=True)
        self.url = f"redis://127.0.0.1:{self.port}"
        procs.spawn(name, [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", d,
                           "--save", "", *extra])
        cli = shutil.which("redis-cli")

        def ping():
            if cli:
                r = subprocess.run([cli, "-p", str(self.port), "ping"], capture_output=True, text=True,
                                   timeout=5)
                return r.stdout.strip() == "PONG"
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        if not wait_until(lambda: procs.alive(name) and ping(), 20):
            raise StartError(f"redis-server did not start: {procs.log_tail(name)}")


INFLUXD_CONF = """reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{dir}/meta"
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
  cache-max-memory-size = "8g"
  max-series-per-database = 0
  max-values-per-tag = 0
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  auth-enabled = false
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""


class Influxd:
    """InfluxDB 1.x on free loopback ports with its own directory and config, no auth."""

    def __init__(self, procs, binary, name="influxd"):
        self.port = free_port()
        d = os.path.join(procs.workdir, name)
        os.makedirs(d, exist_ok=True)
        self.cfg = os.path.join(d, "influxdb.conf")
        with open(self.cfg, "w") as f:
            f.write(INFLUXD_CONF.format(rpc_port=free_port(), dir=d, port=self.port))
        self.url = f"http://127.0.0.1:{self.port}"
        procs.spawn(name, [binary, "-config", self.cfg])
        wait_ready(procs, name, self.url + "/ping", timeout=60)

    def query(self, q, db=None, timeout=120):
        params = {"q": q}
        if db:
            params["db"] = db
        st, body = http("POST", self.url + "/query?" + urllib.parse.urlencode(params), timeout=timeout)
        if st != 200:
            raise IOError(f"influxd query {q!r}: {st} {body[:200]!r}")
        return json.loads(body)

    def count(self, db, measurement, field):
        """Exact number of points of `measurement` that have `field` (SELECT count)."""
        r = self.query(f'SELECT count("{field}") FROM "{measurement}"', db)
        try:
            return int(r["results"][0]["series"][0]["values"][0][1])
        except (KeyError, IndexError, TypeError):
            return 0


# ---------------------------------------------------------------------------------------
# Load and measurement


def bench_args(sluice, url, nodes, duration, batch, rate=0, spread=False, extra=()):
    return [sluice, "bench", "--url", url, "--nodes", str(nodes), "--rate", str(rate),
            "--duration", str(duration), "--batch", str(batch), *(["--spread"] if spread else []),
            *extra, "--json"]


def run_bench(args, duration):
    """Runs `sluice bench … --json`; its last JSON line as a dict ({"error": …} if none)."""
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=duration + 180,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": "sluice bench did not finish in time"}
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {"error": (p.stdout + p.stderr)[-300:] or f"exit {p.returncode}"}


def measure(args, duration, delivered, drain_timeout, step=0.05, watch=None):
    """Loads with `sluice bench` (`args`), then polls `delivered()` (points the final store
    has, minus what it had before) until it reaches the acknowledged count or
    `drain_timeout` s have passed since the load ended. END-TO-END points/s = points
    delivered / time from the start of the load until the poll that first saw them all
    (its clock read before the poll is issued). `watch` (name → pid) adds each process's
    CPU seconds over load and drain. Returns the bench report with e2e fields added."""
    before = delivered()
    cpu0 = {n: cpu_seconds(pid) for n, pid in (watch or {}).items()}
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = run_bench(args, duration)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load generator, reaped by now
    load_end = time.monotonic()
    acked = int(r.get("acked", 0) or 0)
    got, t_end = 0, None
    while True:
        t = time.monotonic()
        try:
            got = delivered() - before
        except Exception:
            pass  # keep the last good figure
        if got >= acked:
            t_end = t
            break
        if t - load_end > drain_timeout:
            break
        time.sleep(step)
    r["delivered"] = got
    r["complete"] = t_end is not None
    took = (t_end if t_end is not None else time.monotonic()) - t0
    r["e2e_s"] = took
    r["e2e_points_per_s"] = got / took if took > 0 else 0.0
    r["drain_s"] = max(0.0, (t_end or time.monotonic()) - load_end)
    r["cpu_s"] = {n: round(cpu_seconds(pid) - cpu0[n], 2) for n, pid in (watch or {}).items()}
    r["cpu_s"]["bench"] = round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 2)
    return r


# ---------------------------------------------------------------------------------------
# Facts about the machine and the tools


def _run(args, timeout=20):
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return (p.stdout or p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_facts():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram,
            "kernel": f"{platform.system()} {platform.release()}", "loadavg": load}


def file_id(path):
    """sha256 prefix and mtime of a binary, to tell builds apart."""
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        mtime = time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(path)))
        return f"sha256 {h.hexdigest()[:12]}, built {mtime} UTC"
    except OSError:
        return "unreadable"


def version_of(args, pattern=None):
    """The first line `args` print (or `pattern`'s match in it); when it prints nothing, the
    version of the Debian package that owns the executable."""
    out = _run(args)
    line = out.splitlines()[0] if out else ""
    if pattern:
        m = re.search(pattern, out)
        line = m.group(0) if m else line
    if not line:
        owner = _run(["dpkg-query", "-S", os.path.realpath(args[0])]).split(":")[0]
        if owner and " " not in owner:
            ver = _run(["dpkg-query", "-W", "-f", "${Version}", owner])
            line = f"Debian package {owner} {ver}" if ver else ""
    return line


def git_describe(cwd="."):
    d = _run(["git", "-C", cwd, "describe", "--always", "--dirty", "--tags"])
    return d or "unknown"


def which(path_or_name):
    """An executable path for `path_or_name` (a path or a name on PATH), or None."""
    if not path_or_name:
        return None
    if os.sep in path_or_name:
        return os.path.abspath(path_or_name) if os.access(path_or_name, os.X_OK) else None
    return shutil.which(path_or_name)


# ---------------------------------------------------------------------------------------
# Formatting and SVG


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_ms(v):
    if v is None:
        return "–"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def ratio(a, b):
    return a / b if a and b else None


def _esc(s):
    return html.escape(str(s), quote=True)


def svg_hbars(path, title, subtitle, labels, series, unit, log=False, value_fmt=None):
    """A horizontal grouped bar chart: one group per label, one bar per series.
    `series` = [(name, colour, [value or None per label])]. Linear scale from 0, or log10
    when `log`. Missing values are drawn as 'n/a'."""
    value_fmt = value_fmt or (lambda v: f"{v:,.0f}")
    n_series = len(series)
    bar_h, gap = 14, 12
    group_h = bar_h * n_series + gap
    longest = max((len(str(label)) for label in labels), default=10)
    left, right, top = max(160, min(460, 7 * longest + 20)), 100, 70
    W = left + 680
    plot_w = W - left - right
    H = top + group_h * len(labels) + 60
    values = [v for _, _, vs in series for v in vs if v]
    vmax = max(values) if values else 1.0
    if log:
        vmin = min(values) if values else 1.0
        lo = math.floor(math.log10(max(vmin, 1e-3)))
        hi = math.ceil(math.log10(max(vmax, 10 ** (lo + 1))))
        if hi == lo:
            hi += 1

        def x(v):
            v = min(max(math.log10(max(v, 10 ** lo)), lo), hi)
            return left + plot_w * (v - lo) / (hi - lo)

        ticks = [10 ** e for e in range(lo, hi + 1)]
    else:
        mag = 10 ** math.floor(math.log10(vmax)) if vmax > 0 else 1
        step = next(s * mag for s in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10) if vmax / (s * mag) <= 6)
        top_v = step * math.ceil(vmax / step)

        def x(v):
            return left + plot_w * max(v, 0) / top_v

        ticks = [step * i for i in range(int(round(top_v / step)) + 1)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{_esc(title)}</text>',
           f'<text x="{W / 2}" y="40" text-anchor="middle" fill="#555">{_esc(subtitle)}</text>']
    plot_bottom = top + group_h * len(labels)
    for t in ticks:
        xx = x(t)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 6}" y2="{plot_bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{top - 10}" text-anchor="middle" fill="#555">'
                   f'{_esc(_tick(t))}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{plot_bottom + 18}" text-anchor="middle" fill="#555">'
               f'{_esc(unit)}{" (log scale)" if log else ""}</text>')
    for i, label in enumerate(labels):
        gy = top + group_h * i
        out.append(f'<text x="{left - 8}" y="{gy + bar_h * n_series / 2 + 4:.1f}" text-anchor="end">'
                   f'{_esc(label)}</text>')
        for j, (_, colour, vs) in enumerate(series):
            v = vs[i]
            y = gy + j * bar_h
            if not v:
                out.append(f'<text x="{left + 4}" y="{y + bar_h - 3}" fill="#999">n/a</text>')
                continue
            out.append(f'<rect x="{left}" y="{y}" width="{max(x(v) - left, 1):.1f}" height="{bar_h - 2}" '
                       f'fill="{colour}"/>')
            out.append(f'<text x="{x(v) + 4:.1f}" y="{y + bar_h - 3}">{_esc(value_fmt(v))}</text>')
    for j, (name, colour, _) in enumerate(series):
        lx = left + j * 260
        out.append(f'<rect x="{lx}" y="{H - 26}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 18}" y="{H - 16}">{_esc(name)}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def _tick(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"
