#!/usr/bin/env python3
"""Engine.IO echo benchmark: our eio-echo against python-engineio, both driven by sioload.

    python Benchmarks/bench.py --bin .build/release [--quick] [--loops N] [--repeat N]

For every repetition, scenario and server it starts a fresh server under setsid (session id = pid,
so sioload can sample the server's CPU from /proc), waits for its ready line with a deadline, runs
sioload against it, samples the server's RSS itself while the load runs, and stops the whole
session again. Scenarios (the same for both servers):

    ws       sioload echo, websocket, 100 connections x 4 messages in flight
    polling  sioload echo --transport polling, 50 clients x 4 messages in flight

Our server runs with `--loops 1` by default: one event loop on one core, a fair comparison with the
single-threaded python-engineio/uvicorn server. The table shows medians over the repetitions; the
`ours ahead` column is > 1 when our server is better (ours/theirs for msgs/s, theirs/ours for CPU per
message, latency and RSS). Every run's raw sioload JSON goes to bench-results/engineio-<time>.json.
CPU microseconds per message is the figure to trust on a noisy machine; msgs/s and latency move with
whatever else the machine is doing (see the `other CPU %` row).

sioload is compiled from ../shared/perf/sioload.c (beside the repo clone) into .build/sioload/ when
missing or older than its source. Exit status: 0 when every run was clean, 1 when any run had
problems (sioload errors, dropped or failed connections, a crashed server), 2 on setup errors.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
READY_RE = re.compile(r"listening on port (\d+)")

SCENARIOS = {
    "ws": {"title": "echo websocket (100 conns x 4)", "args": ["--conns", "100", "--window", "4"]},
    "polling": {"title": "echo polling (50 clients x 4)",
                "args": ["--transport", "polling", "--conns", "50", "--window", "4"]},
}
SERVERS = ("ours", "python")
SERVER_TITLES = {"ours": "ours (eio-echo)", "python": "python-engineio"}


class SetupError(Exception):
    pass


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ /proc helpers

def session_pids(sid):
    """PIDs of every process whose session id is `sid` (read from /proc/<pid>/stat)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("latin-1")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] = state, [1] = ppid, [2] = pgrp, [3] = session
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            pids.append(int(name))
    return pids


def session_rss_kb(sid):
    total = 0
    for pid in session_pids(sid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            pass
    return total


class RssSampler:
    """Samples the session's RSS every `interval` seconds in a thread; keeps the peak and the last value."""

    def __init__(self, sid, interval=0.2):
        self.sid, self.interval = sid, interval
        self.peak = self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = session_rss_kb(self.sid)
            if rss:
                self.last = rss
                self.peak = max(self.peak, rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        return False


# ------------------------------------------------------------------ servers

def raise_nofile_limit():
    """Soft RLIMIT_NOFILE up to the hard limit (the capacity scenario holds 10,000 connections)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))


class Server:
    """One server process started in its own session (setsid), ready when it prints `listening on port N`."""

    def __init__(self, name, argv, ready_timeout, logdir):
        self.name, self.argv, self.ready_timeout = name, argv, ready_timeout
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.stderr_path = os.path.join(logdir, f"{name}-{time.monotonic_ns()}.stderr")
        self._lines = queue.Queue()

    def _pump_stdout(self):
        for line in self.proc.stdout:
            if len(self.stdout_lines) < 200:
                self.stdout_lines.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def start(self):
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, start_new_session=True,
                                     preexec_fn=raise_nofile_limit)
        self.sid = self.proc.pid  # start_new_session: setsid() in the child, so session id == pid
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SetupError(f"{self.name}: no ready line within {self.ready_timeout:.0f}s"
                                 f"{self.stderr_excerpt()}")
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait(timeout=5)
                raise SetupError(f"{self.name}: exited (code {code}) before it was ready{self.stderr_excerpt()}")
            m = READY_RE.search(line)
            if m:
                self.port = int(m.group(1))
                return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_description(self):
        code = self.proc.poll()
        if code is None:
            return "running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with code {code}"

    def stderr_excerpt(self, n=12):
        """The first lines of the server's stderr (a Swift crash report starts with its reason)."""
        try:
            self._stderr.flush()
            with open(self.stderr_path, errors="replace") as f:
                lines = [line for line in f.read().splitlines() if line.strip()][:n]
        except (OSError, AttributeError):
            return ""
        return ("\n  server stderr (first lines):\n    " + "\n    ".join(lines)) if lines else ""

    def keep_stderr(self, dest):
        """Copies the server's stderr to `dest` when it is not empty; returns the path or None."""
        try:
            self._stderr.flush()
            if os.path.getsize(self.stderr_path) == 0:
                return None
            shutil.copyfile(self.stderr_path, dest)
            return dest
        except OSError:
            return None

    def stop(self):
        """SIGTERM the process group, SIGKILL what is left of the session after a grace period."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.sid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: ignored SIGTERM for 5s, killing")
        for _ in range(3):
            leftovers = session_pids(self.sid)
            if not leftovers:
                break
            try:
                os.killpg(self.sid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()


def server_argv(kind, args):
    if kind == "ours":
        return [args.ours_exe, "--port", "0", "--path", "/socket.io/",
                "--ping-interval", "25000", "--ping-timeout", "20000", "--loops", str(args.loops)]
    return [args.python, os.path.join(HERE, "python_engineio_echo.py"), "0"]


# ------------------------------------------------------------------ sioload

def ensure_sioload(args):
    if args.sioload:
        if not os.access(args.sioload, os.X_OK):
            raise SetupError(f"--sioload {args.sioload} is not executable")
        return args.sioload
    return build_c_tool(args.sioload_src, "sioload", [], "--sioload-src or --sioload")


def build_c_tool(src, name, libs, flags_hint):
    """A C tool of ../shared/perf compiled into .build/sioload/NAME (never into the shared folder), rebuilt
    when its source is newer; returns its path."""
    out = os.path.join(ROOT, ".build", "sioload", name)
    if os.path.exists(out) and (not os.path.exists(src) or os.path.getmtime(out) >= os.path.getmtime(src)):
        return out
    if not os.path.exists(src):
        raise SetupError(f"{name} source not found at {src} (expected shared/ beside the repo clone; "
                         f"pass {flags_hint})")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = [os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", out + ".tmp", src, *libs]
    log(f"building {name}: " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SetupError(f"building {name} failed:\n{r.stdout}{r.stderr}")
    os.replace(out + ".tmp", out)
    return out


def result_lines(out, problems, who):
    """The JSON lines a load generator printed; unparsable ones become problems."""
    lines = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                problems.append(f"unparsable {who} output: {line[:200]}")
    return lines


def check_result(result, returncode, problems, who, counters):
    """Problems every generator run shares: a bad exit, no result, non-zero failure counters.
    Returns whether there is a result to check further."""
    if returncode != 0:
        problems.append(f"{who} exit code {returncode}")
    if result is None:
        problems.append(f"{who} printed no result")
        return False
    for key in counters:
        if result.get(key):
            problems.append(f"{key}={result[key]}")
    return True


def communicate_within(proc, seconds, problems, who):
    """Waits up to `seconds` for `proc` and returns its (stdout, stderr); past that it is killed, and
    `problems` says so."""
    try:
        return proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        problems.append(f"{who} did not exit within {seconds:.0f}s; killed")
        return out, err


def comma_list(text):
    """The non-empty, stripped items of a comma-separated option."""
    return [item.strip() for item in text.split(",") if item.strip()]


def run_sioload(sioload, server, scenario, args, label):
    max_time = args.warmup + args.duration + 30  # 30 s covers connecting (sioload gives up after 30 s)
    cmd = [sioload, "echo", "--port", str(server.port), *SCENARIOS[scenario]["args"],
           "--warmup", str(args.warmup), "--duration", str(args.duration),
           "--server-sid", str(server.sid), "--max-time", str(max_time), "--label", label]
    idle_rss = session_rss_kb(server.sid)
    run = {"server": server.name, "scenario": scenario, "label": label, "cmd": cmd,
           "idle_rss_kb": idle_rss, "problems": []}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        with RssSampler(server.sid) as rss:
            out, err = communicate_within(proc, max_time + 15, run["problems"], "sioload")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run.update(rc=proc.returncode, sioload_stderr=err.strip(), peak_rss_kb=rss.peak, end_rss_kb=rss.last)
    lines = result_lines(out, run["problems"], "sioload")
    result = lines[-1] if lines else None
    run["result"] = result
    if check_result(result, proc.returncode, run["problems"], "sioload",
                    ("failed_conns", "dropped_after_ready", "protocol_errors")):
        if not result.get("msgs"):
            run["problems"].append("no echo replies in the measured window")
        elif result.get("lat_max_ms", 0) > max(2000.0, 500.0 * args.duration):
            run["problems"].append(f"stall suspected: max round trip {result['lat_max_ms']:.0f} ms")
    if not server.alive():
        run["problems"].append(f"server {server.exit_description()} during the run{server.stderr_excerpt()}")
    if run["problems"] and err.strip():
        run["problems"].append("sioload stderr: " + err.strip().replace("\n", " | "))
    return run


# ------------------------------------------------------------------ report

METRICS = [
    # (label, key in summary, format, ratio direction: +1 ours/theirs, -1 theirs/ours, 0 none)
    ("msgs/s", "msgs_per_s", "{:,.0f}", +1),
    ("p50 ms", "lat_p50_ms", "{:.2f}", -1),
    ("p99 ms", "lat_p99_ms", "{:.2f}", -1),
    ("server CPU us/msg", "server_cpu_us_per_msg", "{:.2f}", -1),
    ("server CPU % (1 core = 100)", "server_cpu_pct_window", "{:.0f}", 0),
    ("server RSS idle MB", "idle_rss_mb", "{:.1f}", -1),
    ("server RSS peak MB", "peak_rss_mb", "{:.1f}", -1),
    ("loadgen CPU %", "loadgen_cpu_pct", "{:.0f}", 0),
    ("other CPU % (noise)", "other_cpu_pct", "{:.0f}", 0),
]


def summarize(runs):
    """Median of every metric over the clean runs (all runs if none was clean)."""
    good = [r for r in runs if r["result"] and not r["problems"]] or [r for r in runs if r["result"]]
    if not good:
        return None
    rows = []
    for r in good:
        row = dict(r["result"])
        row["idle_rss_mb"] = r["idle_rss_kb"] / 1024
        row["peak_rss_mb"] = r["peak_rss_kb"] / 1024
        rows.append(row)
    summary = {"runs": len(runs), "clean_runs": sum(1 for r in runs if r["result"] and not r["problems"])}
    for _, key, _, _ in METRICS:
        vals = [row[key] for row in rows if isinstance(row.get(key), (int, float))]
        if vals:
            summary[key] = statistics.median(vals)
            summary[key + "_min"] = min(vals)
            summary[key + "_max"] = max(vals)
    return summary


def fmt(fmt_str, v):
    return fmt_str.format(v) if isinstance(v, (int, float)) else "-"


def print_table(summaries, scenarios, servers, repeat, loops):
    header = ["scenario / metric", f"ours (eio-echo, {loops} loop{'s' if loops > 1 else ''})",
              SERVER_TITLES["python"], "ours ahead x"]
    lines = []
    for sc in scenarios:
        lines.append([SCENARIOS[sc]["title"], "", "", ""])
        ours, theirs = summaries.get(("ours", sc)), summaries.get(("python", sc))
        for label, key, f, direction in METRICS:
            a = ours.get(key) if ours else None
            b = theirs.get(key) if theirs else None
            ratio = "-"
            if direction and isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0 and b > 0:
                ratio = "{:.2f}".format(a / b if direction > 0 else b / a)
            lines.append(["  " + label, fmt(f, a), fmt(f, b), ratio])
        for name, s in (("ours", ours), ("python", theirs)):
            if name not in servers:
                continue
            if s is None:
                lines.append([f"  ({SERVER_TITLES[name]}: no result)", "", "", ""])
            elif s["clean_runs"] < s["runs"]:
                lines.append([f"  ({SERVER_TITLES[name]}: {s['runs'] - s['clean_runs']} of {s['runs']} runs "
                              "had problems)", "", "", ""])
    widths = [max(len(row[i]) for row in lines + [header]) for i in range(4)]
    out = [f"Engine.IO echo, medians of {repeat} run(s); 'ours ahead x' > 1 means our server is better",
           " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))),
           "-+-".join("-" * w for w in widths)]
    for row in lines:
        out.append(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print("\n".join(out), flush=True)


def package_versions(python):
    code = ("import importlib.metadata as m, json\n"
            "v = {}\n"
            "for p in ('python-engineio', 'uvicorn', 'wsproto', 'websockets', 'httptools', 'uvloop'):\n"
            "    try: v[p] = m.version(p)\n"
            "    except m.PackageNotFoundError: v[p] = None\n"
            "print(json.dumps(v))")
    try:
        r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=30)
        return json.loads(r.stdout)
    except Exception as e:  # informational only
        return {"error": str(e)}


def git_revision():
    try:
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except Exception:
        return None


# ------------------------------------------------------------------ main

def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"),
                   help="directory holding eio-echo (default .build/release)")
    p.add_argument("--quick", action="store_true", help="short runs, one repetition (under a minute)")
    p.add_argument("--loops", type=int, default=1, help="event loops for our server (default 1: single core)")
    p.add_argument("--repeat", type=int, help="repetitions per server and scenario (default 3, --quick 1)")
    p.add_argument("--warmup", type=float, help="sioload warm-up seconds (default 2, --quick 1)")
    p.add_argument("--duration", type=float, help="sioload measured seconds (default 8, --quick 3)")
    p.add_argument("--scenarios", default="ws,polling", help="comma list of: " + ",".join(SCENARIOS))
    p.add_argument("--servers", default="ours,python", help="comma list of: ours,python")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter with python-engineio and uvicorn (default: the one running this script)")
    p.add_argument("--sioload", help="prebuilt sioload binary (default: build .build/sioload/sioload)")
    p.add_argument("--sioload-src", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "perf", "sioload.c")),
                   help="sioload.c to compile (default ../shared/perf/sioload.c beside the repo)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results"), help="results folder")
    p.add_argument("--ready-timeout", type=float, default=30.0, help="seconds to wait for a server's ready line")
    a = p.parse_args()
    a.repeat = a.repeat or (1 if a.quick else 3)
    a.warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 2.0)
    a.duration = a.duration if a.duration is not None else (3.0 if a.quick else 8.0)
    a.scenarios = comma_list(a.scenarios)
    a.servers = comma_list(a.servers)
    bad = [s for s in a.scenarios if s not in SCENARIOS] + [s for s in a.servers if s not in SERVERS]
    if bad or a.repeat < 1 or a.loops < 1 or a.duration <= 0 or a.warmup < 0:
        p.error(f"bad arguments {bad or ''}")
    a.bin = os.path.abspath(a.bin)
    return a


def on_term(signum, frame):
    raise SystemExit(f"bench: got signal {signum}")


def exit_cleanly_on_signals():
    """TERM and HUP end the run through SystemExit, so that the servers it started are stopped."""
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)


def main():
    args = parse_args()
    exit_cleanly_on_signals()
    started = time.monotonic()
    try:
        sioload = ensure_sioload(args)
        if "ours" in args.servers and not os.access(os.path.join(args.bin, "eio-echo"), os.X_OK):
            raise SetupError(f"{args.bin}/eio-echo not found; run `make release` first")
        if "python" in args.servers and shutil.which(args.python) is None and not os.access(args.python, os.X_OK):
            raise SetupError(f"python interpreter {args.python} not found")
    except SetupError as e:
        log(str(e))
        return 2

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = tempfile.mkdtemp(prefix="eio-bench-")
    # Run a private copy of eio-echo: a rebuild of .build/release during the benchmark must not mix binaries.
    binary = os.path.join(args.bin, "eio-echo")
    args.ours_exe = binary
    binary_info = None
    if "ours" in args.servers:
        args.ours_exe = os.path.join(logdir, "eio-echo")
        try:
            shutil.copy2(binary, args.ours_exe)
            with open(args.ours_exe, "rb") as f:
                binary_info = {"path": binary, "sha256": hashlib.sha256(f.read()).hexdigest(),
                               "mtime": datetime.datetime.fromtimestamp(os.path.getmtime(binary))
                               .isoformat(timespec="seconds")}
        except OSError as e:
            shutil.rmtree(logdir, ignore_errors=True)
            log(f"cannot copy {binary}: {e}")
            return 2
    report = {
        "benchmark": "engineio-echo",
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "host": {"machine": platform.machine(), "ncpu": os.cpu_count(), "loadavg_before": os.getloadavg(),
                 "kernel": platform.release()},
        "settings": {"quick": args.quick, "repeat": args.repeat, "warmup_s": args.warmup,
                     "duration_s": args.duration, "loops": args.loops, "scenarios": args.scenarios,
                     "servers": args.servers, "sioload": sioload,
                     "ours_argv": [binary, *server_argv("ours", args)[1:]], "python_argv": server_argv("python", args)},
        "ours_binary": binary_info,
        "python_packages": package_versions(args.python) if "python" in args.servers else None,
        "runs": [],
    }
    os.makedirs(args.out, exist_ok=True)
    current = None
    failures = 0
    try:
        for rep in range(1, args.repeat + 1):
            for sc in args.scenarios:
                for kind in args.servers:  # alternate servers so slow drifts in machine noise hit both
                    label = f"{kind}-{sc}-{rep}"
                    current = Server(kind, server_argv(kind, args), args.ready_timeout, logdir)
                    try:
                        current.start()
                    except SetupError as e:
                        log(str(e))
                        current.stop()
                        current = None
                        report["runs"].append({"server": kind, "scenario": sc, "label": label, "result": None,
                                               "problems": [str(e)]})
                        failures += 1
                        continue
                    log(f"{label}: {SERVER_TITLES[kind]} on port {current.port} (sid {current.sid})")
                    run = run_sioload(sioload, current, sc, args, label)
                    run["server_stdout"] = current.stdout_lines[1:]
                    if run["problems"]:
                        kept = current.keep_stderr(os.path.join(args.out, f"engineio-{stamp}-{label}.stderr"))
                        if kept:
                            run["server_stderr_file"] = kept
                            run["problems"].append(f"full server stderr: {os.path.relpath(kept, os.getcwd())}")
                    current.stop()
                    current = None
                    report["runs"].append(run)
                    r = run["result"] or {}
                    log(f"{label}: {r.get('msgs_per_s', 0):,.0f} msgs/s, p99 {r.get('lat_p99_ms', -1):.2f} ms, "
                        f"{r.get('server_cpu_us_per_msg', -1):.2f} us/msg, peak RSS {run['peak_rss_kb'] / 1024:.1f} MB"
                        + (f"  PROBLEMS: {'; '.join(p.splitlines()[0] for p in run['problems'])}"
                           if run["problems"] else ""))
                    if run["problems"]:
                        failures += 1
    finally:
        if current is not None:
            current.stop()
        shutil.rmtree(logdir, ignore_errors=True)

    summaries = {}
    for kind in args.servers:
        for sc in args.scenarios:
            s = summarize([r for r in report["runs"] if r["server"] == kind and r["scenario"] == sc])
            if s:
                summaries[(kind, sc)] = s
    report["summary"] = {f"{k}/{sc}": v for (k, sc), v in summaries.items()}
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"engineio-{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
    print_table(summaries, args.scenarios, args.servers, args.repeat, args.loops)
    for run in report["runs"]:
        if run["problems"]:
            print(f"PROBLEM {run['label']}: " + "\n  ".join(run["problems"]), flush=True)
    print(f"results: {os.path.relpath(path, os.getcwd())}  ({report['elapsed_s']:.0f}s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
