#!/usr/bin/env python3
"""Socket.IO benchmark: our sio-echo beside the floor (limitd) and python-socketio, all driven by sioload.

    python Benchmarks/sio_bench.py --bin .build/release [--quick] [--repeat N] [--scenarios a,b] [--servers ...]

Four servers take turns on every scenario: `limitd` (../shared/perf/limitd.c, the smallest server that runs
the app: the floor, built into .build/sioload/), `ours1` (sio-echo --loops 1), `ours` (sio-echo with its
default loops, one per core: what users get) and `python` (python-socketio on aiohttp). The table prints each
of ours divided by limitd's figure beside the target of issue 16.

Both servers run the benchmark app of shared/perf/README.md (echo, echo-ack, join, broadcast) with
production heartbeats (ping interval 25000 ms, ping timeout 20000 ms). For every repetition, scenario and
server, a fresh server starts in its own session (setsid, so sioload samples its CPU and RSS from /proc),
sioload runs the scenario, and the session is stopped again. The servers alternate so that drifts in machine
noise hit both. Scenarios (the table of issue 7):

    echo       100 connections x 4 `echo` messages in flight             -> server CPU us per message
    echo-ack   the same with `echo-ack` (acknowledgements)                -> server CPU us per message
    broadcast  1000 clients in room `bench`, a control client broadcasts  -> server CPU us per delivery
    capacity   open 1000, 5000, 10000 idle connections                    -> RSS KB per connection, handshakes/s
    polling    50 long-polling clients x 4 in flight                      -> server CPU us per message
    rate       open loop, 2000 msgs/s over 100 connections                -> server CPU % of a core, p99
    tls-echo   echo over wss (sio-echo --tls-cert/--tls-key, a certificate made with the openssl CLI),
               driven by our sio-load --tls since sioload speaks no TLS; sio-echo only -> server CPU us per message

The broadcast scenario sends fewer broadcasts to python-socketio (it is ~20x slower per delivery) so that
both runs take a few seconds; CPU per delivery does not depend on the count. The table shows medians over
the repetitions with their range, the ratios to the floor and the issue's targets. Raw results
go to bench-results/socketio-<time>.json. Trust server CPU per message over msgs/s on a busy machine (see
the `other CPU %` rows). Exit status: 0 when every run was clean, 1 when a run had problems, 2 on setup
errors.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (shared helpers: Server, RssSampler, ensure_sioload, /proc readers)

ROOT = bench.ROOT
HERE = bench.HERE
# `ours1` is sio-echo --loops 1, `ours` sio-echo with its default loops (one per core, what users get),
# `limitd` the floor of ../shared/perf (the smallest server that runs the app, one thread).
SERVERS = ("limitd", "ours1", "ours", "python")
SERVER_TITLES = {"limitd": "limitd (floor)", "ours1": "sio-echo --loops 1", "ours": "sio-echo (default loops)",
                 "python": "python-socketio", "before1": "before --loops 1", "before": "before (default loops)"}
# `--before DIR` adds the sio-echo of another build (say, main's) in the same interleaved run.
BEFORE_SERVERS = ("before1", "before")
OURS_KINDS = ("before1", "before", "ours1", "ours")

# name -> sioload arguments (per server where they differ), keys of the result line to keep.
SCENARIOS = {
    "echo": {"argv": ["echo", "--conns", "100", "--window", "4"]},
    "echo-ack": {"argv": ["echo", "--ack", "--conns", "100", "--window", "4"]},
    "broadcast": {"argv": ["broadcast", "--clients", "1000", "--bwindow", "1"]},
    "capacity": {"argv": ["capacity", "--steps", "1000,5000,10000", "--pending", "32"]},
    "polling": {"argv": ["echo", "--transport", "polling", "--conns", "50", "--window", "4"]},
    "rate": {"argv": ["rate", "--rate", "2000", "--conns", "100"]},
    "tls-echo": {"argv": ["echo", "--tls", "--conns", "100", "--window", "4"], "generator": "sio-load", "only": OURS_KINDS},
}
TIMED = {"echo", "echo-ack", "polling", "rate", "tls-echo"}

# The table of issue 16: (label, scenario, key in the summary, format, better: -1 lower / +1 higher, target).
# A target is a ratio to the floor (ours / limitd), except where `abs` marks an absolute figure.
TABLE = [
    ("echo, server CPU us/msg (100 conns x 4)", "echo", "server_cpu_us_per_msg", "{:.2f}", -1, 1.25, False),
    ("echo-ack, server CPU us/msg", "echo-ack", "server_cpu_us_per_msg", "{:.2f}", -1, None, False),
    ("broadcast to 1,000, server CPU us/delivery", "broadcast", "server_cpu_us_per_delivery", "{:.2f}", -1, 1.15, False),
    ("polling echo, server CPU us/msg (50 x 4)", "polling", "server_cpu_us_per_msg", "{:.2f}", -1, 1.3, False),
    ("new connections per second to 10,000", "capacity", "handshakes_per_s", "{:,.0f}", +1, 0.9, False),
    ("RSS per idle connection at 10,000, KB", "capacity", "kb_per_conn", "{:.2f}", -1, 2.0, True),
    ("rate 2,000 msgs/s: server CPU % of a core", "rate", "server_cpu_pct_window", "{:.2f}", -1, 1.2, False),
    ("rate 2,000 msgs/s: p99 ms", "rate", "lat_p99_ms", "{:.2f}", -1, None, False),
]
DETAILS = [
    ("echo msgs/s", "echo", "msgs_per_s", "{:,.0f}", +1),
    ("echo p99 ms", "echo", "lat_p99_ms", "{:.2f}", -1),
    ("TLS echo (wss, sio-load), server CPU us/msg", "tls-echo", "server_cpu_us_per_msg", "{:.2f}", -1),
    ("TLS echo msgs/s", "tls-echo", "msgs_per_s", "{:,.0f}", +1),
    ("echo-ack msgs/s", "echo-ack", "msgs_per_s", "{:,.0f}", +1),
    ("broadcast deliveries/s", "broadcast", "deliveries_per_s", "{:,.0f}", +1),
    ("broadcast all delivered p99 ms", "broadcast", "all_delivered_p99_ms", "{:.2f}", -1),
    ("capacity handshake p99 ms", "capacity", "handshake_p99_ms", "{:.2f}", -1),
    ("polling msgs/s", "polling", "msgs_per_s", "{:,.0f}", +1),
    ("rate p50 ms", "rate", "lat_p50_ms", "{:.3f}", -1),
]
NOISE_KEYS = ("loadgen_cpu_pct", "other_cpu_pct")


def log(msg):
    print(f"[sio-bench] {msg}", file=sys.stderr, flush=True)


def server_argv(kind, args, scenario=None):
    if kind in OURS_KINDS:
        tls = ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key] if scenario == "tls-echo" else []
        loops = ["--loops", "1"] if kind.endswith("1") else (["--loops", str(args.loops)] if args.loops else [])
        exe = args.before_exe if kind.startswith("before") else args.ours_exe
        return [exe, "--port", "0", "--host", "127.0.0.1", "--ping-interval", "25000",
                "--ping-timeout", "20000", "--max-payload", "1000000", *loops, "--app", "bench", *tls]
    if kind == "limitd":
        return [args.limitd, "PORT"]  # LimitdServer puts a free port in
    return [args.python, os.path.join(HERE, "python_socketio_app.py"), "0"]


class LimitdServer(bench.Server):
    """limitd takes its port as an argument and says nothing on stdout: give it a free port, wait until it accepts."""

    def start(self):
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.argv = [a if a != "PORT" else str(self.port) for a in self.argv]
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, start_new_session=True, preexec_fn=bench.raise_nofile_limit)
        self.sid = self.proc.pid
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise bench.SetupError(f"limitd exited (code {self.proc.returncode}){self.stderr_excerpt()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise bench.SetupError(f"limitd: not accepting within {self.ready_timeout:.0f}s")


def ensure_limitd(args):
    """limitd built from ../shared/perf/limitd.c into .build/sioload/ (never into the shared folder)."""
    return args.limitd or bench.build_c_tool(args.limitd_src, "limitd", ["-lpthread"], "--limitd-src or --limitd")


def make_test_certificate(directory):
    """A self-signed EC certificate for 127.0.0.1 (sio-load --tls does not verify it); returns (cert, key)."""
    cert, key = os.path.join(directory, "bench.crt"), os.path.join(directory, "bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def sioload_argv(sioload, server, kind, scenario, args, label):
    if SCENARIOS[scenario].get("generator") == "sio-load":
        sioload = os.path.join(args.bin, "sio-load")
    argv = [sioload, *SCENARIOS[scenario]["argv"], "--port", str(server.port), "--server-sid", str(server.sid),
            "--label", label]
    if scenario in TIMED:
        argv += ["--warmup", str(args.warmup), "--duration", str(args.duration)]
        max_time = args.warmup + args.duration + 40
    elif scenario == "broadcast":
        count = args.broadcasts_python if kind == "python" else args.broadcasts_ours
        argv += ["--broadcasts", str(count), "--bwarm", str(max(5, count // 10))]
        max_time = 120
    else:  # capacity
        argv += ["--settle", str(args.settle)]
        if args.capacity_steps:
            argv[argv.index("--steps") + 1] = args.capacity_steps
        max_time = 150
    return argv + ["--max-time", str(max_time)], max_time


def run_one(sioload, server, kind, scenario, args, label):
    argv, max_time = sioload_argv(sioload, server, kind, scenario, args, label)
    run = {"server": kind, "scenario": scenario, "label": label, "cmd": argv,
           "idle_rss_kb": bench.session_rss_kb(server.sid), "problems": []}
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=bench.raise_nofile_limit)
    try:
        with bench.RssSampler(server.sid) as rss:
            out, err = bench.communicate_within(proc, max_time + 15, run["problems"], "sioload")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run.update(rc=proc.returncode, sioload_stderr=err.strip()[-2000:], peak_rss_kb=rss.peak)
    lines = bench.result_lines(out, run["problems"], "sioload")
    run["lines"] = lines
    result = None
    if scenario == "capacity":
        steps = [l for l in lines if l.get("scenario") == "capacity"]
        result = dict(steps[-1]) if steps else None
        alive = [l for l in lines if l.get("scenario") == "capacity-echo-all"]
        if result is not None:
            result["steps"] = steps
            if alive:
                result["echo_all_ok"] = alive[-1].get("echo_ok")
                if alive[-1].get("echo_ok") != alive[-1].get("open"):
                    run["problems"].append(f"only {alive[-1].get('echo_ok')} of {alive[-1].get('open')} "
                                           "idle connections answered the final echo")
    elif lines:
        result = lines[-1]
    run["result"] = result
    if bench.check_result(result, proc.returncode, run["problems"], "sioload",
                          ("failed_conns", "dropped_after_ready", "protocol_errors", "lost")):
        if scenario in TIMED and not result.get("msgs"):
            run["problems"].append("no replies in the measured window")
        if scenario == "broadcast" and result.get("deliveries") != result.get("expected_deliveries"):
            run["problems"].append(f"deliveries {result.get('deliveries')} != expected "
                                   f"{result.get('expected_deliveries')}")
    if not server.alive():
        run["problems"].append(f"server {server.exit_description()} during the run{server.stderr_excerpt()}")
    if run["problems"] and err.strip():
        run["problems"].append("sioload stderr: " + err.strip()[-600:].replace("\n", " | "))
    return run


def short(result, scenario):
    if not result:
        return "no result"
    if scenario == "broadcast":
        return (f"{result.get('deliveries_per_s', 0):,.0f} deliveries/s, "
                f"{result.get('server_cpu_us_per_delivery', -1):.2f} us/delivery")
    if scenario == "capacity":
        return (f"{result.get('open', 0)} open, {result.get('kb_per_conn', -1):.2f} KB/conn, "
                f"{result.get('handshakes_per_s', -1):,.0f} handshakes/s")
    if scenario == "rate":
        return (f"CPU {result.get('server_cpu_pct_window', -1):.1f} %, p99 {result.get('lat_p99_ms', -1):.2f} ms")
    return (f"{result.get('msgs_per_s', 0):,.0f} msgs/s, {result.get('server_cpu_us_per_msg', -1):.2f} us/msg, "
            f"p99 {result.get('lat_p99_ms', -1):.2f} ms")


def summarize(runs):
    good = [r for r in runs if r["result"] and not r["problems"]] or [r for r in runs if r["result"]]
    if not good:
        return None
    summary = {"runs": len(runs), "clean_runs": sum(1 for r in runs if r["result"] and not r["problems"])}
    keys = {k for r in good for k, v in r["result"].items() if isinstance(v, (int, float))}
    for key in keys:
        vals = [r["result"][key] for r in good if isinstance(r["result"].get(key), (int, float))]
        if vals:
            summary[key] = statistics.median(vals)
            summary[key + "_all"] = vals
    return summary


def fmt(f, v):
    return f.format(v) if isinstance(v, (int, float)) else "-"


def cell(summary, key, f):
    """`median (min-max)` of a figure over the rounds, or just the median for one round."""
    if not summary or not isinstance(summary.get(key), (int, float)):
        return "-"
    vals = summary.get(key + "_all", [])
    if len(vals) > 1:
        return f"{fmt(f, summary[key])} ({fmt(f, min(vals))}-{fmt(f, max(vals))})"
    return fmt(f, summary[key])


def to_floor(a, floor):
    """Ours divided by the floor's figure (costs: > 1 is worse; connections/s: < 1 is worse)."""
    if not all(isinstance(x, (int, float)) and x > 0 for x in (a, floor)):
        return None
    return a / floor


def render_table(summaries, args):
    def get(kind, scenario):
        return summaries.get((kind, scenario))

    ours_kinds = [k for k in OURS_KINDS if k in args.servers]
    header = ["scenario (server CPU from /proc)"]
    header += [SERVER_TITLES[k] for k in args.servers]
    header += [f"{'before ' if k.startswith('before') else ''}{'loops 1' if k.endswith('1') else 'default'} / floor"
               for k in ours_kinds if "limitd" in args.servers]
    header += ["target"]
    rows = []
    for label, sc, key, f, better, target, absolute in TABLE:
        if sc not in args.scenarios:
            continue
        row = [label] + [cell(get(k, sc), key, f) for k in args.servers]
        floor = (get("limitd", sc) or {}).get(key)
        if "limitd" in args.servers:
            for k in ours_kinds:
                ours = (get(k, sc) or {}).get(key)
                r = to_floor(ours, floor)
                if r is None:
                    row.append("-")
                    continue
                text = f"{r:.2f}x"
                if target is not None:
                    met = (ours <= target if absolute else r <= target) if better < 0 else r >= target
                    text += " ok" if met else " NO"
                row.append(text)
        if target is None:
            row.append("-")
        elif absolute:
            row.append(f"<= {target:g} KB")
        else:
            row.append(("<= " if better < 0 else ">= ") + f"{target:g}x")
        rows.append(row)
    rows.append([""] * len(header))
    for label, sc, key, f, better in DETAILS:
        if sc not in args.scenarios:
            continue
        rows.append([label] + [cell(get(k, sc), key, f) for k in args.servers] + [""] * (len(header) - 1 - len(args.servers)))
    for sc in args.scenarios:
        for key in NOISE_KEYS:
            vals = [cell(get(k, sc), key, "{:.0f}") for k in args.servers]
            if any(v != "-" for v in vals):
                rows.append([f"{sc}: {key.replace('_pct', ' %').replace('_', ' ')}"] + vals
                            + [""] * (len(header) - 1 - len(args.servers)))
    for (kind, sc), s in sorted(summaries.items()):
        if s["clean_runs"] < s["runs"]:
            rows.append([f"({SERVER_TITLES[kind]} {sc}: {s['runs'] - s['clean_runs']} of {s['runs']} runs had "
                         "problems)"] + [""] * (len(header) - 1))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    out = [f"Socket.IO benchmark app under sioload, medians of {args.repeat} round(s) (min-max); "
           "'/ floor' is ours divided by limitd's figure, beside the target of issue 16",
           " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))),
           "-+-".join("-" * w for w in widths)]
    for r in rows:
        out.append(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"), help="directory holding sio-echo")
    p.add_argument("--quick", action="store_true", help="short runs, one repetition (under a minute)")
    p.add_argument("--loops", type=int, help="event loops of the `ours` server (default: sio-echo's own, one per "
                   "core); `ours1` always runs --loops 1")
    p.add_argument("--repeat", type=int, help="repetitions (default 3, --quick 1)")
    p.add_argument("--warmup", type=float, help="sioload warm-up seconds (default 2, --quick 0.5)")
    p.add_argument("--duration", type=float, help="sioload measured seconds (default 8, --quick 2)")
    p.add_argument("--broadcasts-ours", type=int, help="broadcasts sent to sio-echo (default 1000, quick 300)")
    p.add_argument("--broadcasts-python", type=int, help="broadcasts sent to python (default 100, quick 20)")
    p.add_argument("--capacity-steps", help="capacity steps (default 1000,5000,10000; quick 10000)")
    p.add_argument("--settle", type=float, help="capacity settle seconds per step (default 2, quick 1)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma list of: " + ",".join(SCENARIOS))
    p.add_argument("--servers", default=",".join(SERVERS),
                   help="comma list of: limitd (floor), ours1 (--loops 1), ours (default loops), python")
    p.add_argument("--before", help="folder with another build's sio-echo, run beside ours (before1, before)")
    p.add_argument("--limitd", help="prebuilt limitd binary (default: build .build/sioload/limitd)")
    p.add_argument("--limitd-src", help="limitd.c (default: beside --sioload-src)")
    p.add_argument("--python", default=sys.executable, help="interpreter with python-socketio and aiohttp")
    p.add_argument("--sioload", help="prebuilt sioload binary (default: build .build/sioload/sioload)")
    p.add_argument("--sioload-src", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "perf", "sioload.c")))
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results"), help="results folder")
    p.add_argument("--ready-timeout", type=float, default=30.0)
    a = p.parse_args()
    q = a.quick
    a.repeat = a.repeat or (1 if q else 3)
    a.warmup = a.warmup if a.warmup is not None else (0.5 if q else 2.0)
    a.duration = a.duration if a.duration is not None else (2.0 if q else 8.0)
    a.broadcasts_ours = a.broadcasts_ours or (300 if q else 1000)
    a.broadcasts_python = a.broadcasts_python or (20 if q else 100)
    a.capacity_steps = a.capacity_steps or ("10000" if q else None)
    a.settle = a.settle if a.settle is not None else (1.0 if q else 2.0)
    a.scenarios = bench.comma_list(a.scenarios)
    a.servers = bench.comma_list(a.servers)
    if a.before:
        # Each of ours gets its `before` twin, run just ahead of it.
        a.servers = [x for k in a.servers if k not in BEFORE_SERVERS
                     for x in ([k.replace("ours", "before"), k] if k in ("ours1", "ours") else [k])]
    bad = [s for s in a.scenarios if s not in SCENARIOS] + [s for s in a.servers
                                                              if s not in SERVERS + BEFORE_SERVERS]
    if bad or a.repeat < 1 or (a.loops is not None and a.loops < 1):
        p.error(f"bad arguments {bad or ''}")
    a.bin = os.path.abspath(a.bin)
    a.limitd_src = a.limitd_src or os.path.join(os.path.dirname(a.sioload_src), "limitd.c")
    return a


def main():
    args = parse_args()
    bench.exit_cleanly_on_signals()
    started = time.monotonic()
    binary = os.path.join(args.bin, "sio-echo")
    try:
        sioload = bench.ensure_sioload(args)
        args.limitd = ensure_limitd(args) if "limitd" in args.servers else None
        ours = any(k in args.servers for k in OURS_KINDS)
        if ours and not os.access(binary, os.X_OK):
            raise bench.SetupError(f"{binary} not found; run `make release` first")
    except bench.SetupError as e:
        log(str(e))
        return 2
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = tempfile.mkdtemp(prefix="sio-bench-")
    args.ours_exe = binary
    args.tls_cert = args.tls_key = None
    if "tls-echo" in args.scenarios and ours:
        args.tls_cert, args.tls_key = make_test_certificate(logdir)
    binary_info = None
    if ours:
        # A private copy: a rebuild of .build/release during the run must not mix binaries.
        args.ours_exe = os.path.join(logdir, "sio-echo")
        shutil.copy2(binary, args.ours_exe)
        args.before_exe = None
        if args.before:
            args.before_exe = os.path.join(logdir, "sio-echo-before")
            shutil.copy2(os.path.join(os.path.abspath(args.before), "sio-echo"), args.before_exe)
        with open(args.ours_exe, "rb") as f:
            binary_info = {"path": binary, "sha256": hashlib.sha256(f.read()).hexdigest()}
    report = {
        "benchmark": "socketio",
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_revision": bench.git_revision(),
        "host": {"machine": platform.machine(), "ncpu": os.cpu_count(), "loadavg_before": os.getloadavg(),
                 "kernel": platform.release()},
        "settings": {k: v for k, v in vars(args).items() if k not in ("ours_exe",)},
        "ours_argv": server_argv("ours", args)[1:],
        "ours1_argv": server_argv("ours1", args)[1:],
        "limitd_argv": [args.limitd, "PORT"],
        "ours_binary": binary_info,
        "python_argv": server_argv("python", args),
        "runs": [],
    }
    failures = 0
    current = None
    try:
        for rep in range(1, args.repeat + 1):
            for sc in args.scenarios:
                for kind in args.servers:
                    if kind not in SCENARIOS[sc].get("only", (kind,)):
                        continue
                    label = f"{kind}-{sc}-{rep}"
                    server_class = LimitdServer if kind == "limitd" else bench.Server
                    current = server_class(kind, server_argv(kind, args, sc), args.ready_timeout, logdir)
                    try:
                        current.start()
                    except bench.SetupError as e:
                        log(str(e))
                        current.stop()
                        current = None
                        report["runs"].append({"server": kind, "scenario": sc, "label": label, "result": None,
                                               "problems": [str(e)]})
                        failures += 1
                        continue
                    run = run_one(sioload, current, kind, sc, args, label)
                    if run["problems"]:
                        kept = current.keep_stderr(os.path.join(args.out, f"socketio-{stamp}-{label}.stderr"))
                        if kept:
                            run["problems"].append(f"server stderr: {os.path.relpath(kept, os.getcwd())}")
                        failures += 1
                    current.stop()
                    current = None
                    report["runs"].append(run)
                    log(f"{label}: {short(run['result'], sc)}"
                        + (f"  PROBLEMS: {'; '.join(p.splitlines()[0] for p in run['problems'])}"
                           if run["problems"] else ""))
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
    table = render_table(summaries, args)
    report["table"] = table
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"socketio-{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
    print(table, flush=True)
    for run in report["runs"]:
        if run["problems"]:
            print(f"PROBLEM {run['label']}: " + "\n  ".join(run["problems"]), flush=True)
    print(f"results: {os.path.relpath(path, os.getcwd())}  ({report['elapsed_s']:.0f}s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
