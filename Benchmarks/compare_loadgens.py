#!/usr/bin/env python3
"""Do our load generator and shared/perf's agree? sioload (C) and sio-load (Swift, our event loop and client
codecs) take turns against the same server, on the same scenarios, and their figures are compared.

    python Benchmarks/compare_loadgens.py --bin .build/release [--repeat N] [--scenarios a,b] [--quick]

For every repetition and scenario, each generator gets a fresh `sio-echo --loops 1 --app bench` (as `make bench`
runs it) with production heartbeats (ping interval 25000 ms, ping timeout 20000 ms), started in its own session
so that both generators sample the server's CPU (utime + stime of the session, from /proc) over their measured
window. The order of the two generators flips every repetition, so a drift in machine noise does not always hit
the same one.

    echo       100 connections x 4 `echo` in flight          -> server CPU us per message
    echo-ack   the same with `echo-ack` (acknowledgements)   -> server CPU us per message
    polling    50 long-polling clients x 4 in flight         -> server CPU us per message
    broadcast  1000 clients in room `bench`, 1 in flight     -> server CPU us per delivery
    rate       open loop, 2000 msgs/s over 100 connections  -> server CPU % of a core (p99 shown)
    capacity   idle connections up to 1000, 5000, 10000      -> handshakes/s to the last step (RSS shown)
    (rate-polling, the open loop over long-polling, on request)

The table shows, for the judged figure (server CPU per message, the one shared/perf recommends trusting; for
capacity the handshake rate), the medians over the repetitions (5 by default, 10 for the short broadcast
runs: the server's cost per message varies by up to a third from one run to the next with either generator,
and per broadcast delivery it is bimodal), their difference in percent (sio-load against sioload), and whether
that is within the tolerance (15 %); msgs/s and latencies follow for information, with each generator's own CPU
per message and share of a core, and the CPU used by everything else (noise). A run whose generator used 95 %
of a core or more measured the generator, not the server, and counts as a problem, as do failed connections,
protocol errors, lost messages and altered answers. Raw results go to bench-results/loadgens-<time>.json. Exit
status: 0 when every judged figure agrees and every run was clean, 1 otherwise, 2 on setup errors.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (shared helpers: Server, ensure_sioload, /proc readers)

ROOT = bench.ROOT
GENERATORS = ("sioload", "sio-load")

# name -> generator arguments (the same for both), the judged key, how the table names it, its format.
SERVER_CPU_PER_MSG = {"key": "server_cpu_us_per_msg", "figure": "server CPU us/msg", "format": "{:.2f}"}
SCENARIOS = {
    "echo": {"argv": ["echo", "--conns", "100", "--window", "4"], **SERVER_CPU_PER_MSG},
    "echo-ack": {"argv": ["echo", "--ack", "--conns", "100", "--window", "4"], **SERVER_CPU_PER_MSG},
    "polling": {"argv": ["echo", "--transport", "polling", "--conns", "50", "--window", "4"], **SERVER_CPU_PER_MSG},
    "broadcast": {"argv": ["broadcast", "--clients", "1000", "--bwindow", "1"],
                  "key": "server_cpu_us_per_delivery", "figure": "server CPU us/delivery", "format": "{:.2f}"},
    "rate": {"argv": ["rate", "--rate", "2000", "--conns", "100"],
             "key": "server_cpu_pct_window", "figure": "server CPU % of a core", "format": "{:.2f}"},
    "rate-polling": {"argv": ["rate", "--transport", "polling", "--rate", "2000", "--conns", "100"],
                     "key": "server_cpu_pct_window", "figure": "server CPU % of a core", "format": "{:.2f}"},
    "capacity": {"argv": ["capacity", "--steps", "1000,5000,10000", "--pending", "32"],
                 "key": "handshakes_per_s", "figure": "handshakes/s", "format": "{:,.0f}"},
}
DEFAULT_SCENARIOS = "echo,echo-ack,polling,broadcast,rate,capacity"
# Shown under the judged figure, not judged: (label, key, format).
RATE_DETAILS = [("server CPU us/msg", "server_cpu_us_per_msg", "{:.2f}"), ("msgs/s", "msgs_per_s", "{:,.1f}"),
                ("p50 ms", "lat_p50_ms", "{:.3f}"), ("p99 ms", "lat_p99_ms", "{:.3f}"),
                ("p999 ms", "lat_p999_ms", "{:.3f}")]
DETAILS = {
    "echo": [("msgs/s", "msgs_per_s", "{:,.0f}"), ("p50 ms", "lat_p50_ms", "{:.3f}"), ("p99 ms", "lat_p99_ms", "{:.3f}")],
    "broadcast": [("deliveries/s", "deliveries_per_s", "{:,.0f}"),
                  ("all delivered p50 ms", "all_delivered_p50_ms", "{:.3f}"),
                  ("all delivered p99 ms", "all_delivered_p99_ms", "{:.3f}")],
    "rate": RATE_DETAILS,
    "rate-polling": RATE_DETAILS,
    "capacity": [("server CPU us/connection", "server_cpu_us_per_conn", "{:.1f}"),
                 ("server RSS KB/connection", "kb_per_conn", "{:.2f}"),
                 ("handshake p50 ms", "handshake_p50_ms", "{:.3f}"), ("handshake p99 ms", "handshake_p99_ms", "{:.3f}"),
                 ("handshakes/s per step", "step_rates", None)],
}
NOISE = [("generator CPU us/msg", "loadgen_cpu_us_per_unit", "{:.2f}"), ("generator CPU % of a core", "loadgen_cpu_pct", "{:.0f}"),
         ("server CPU % of a core", "server_cpu_pct_window", "{:.0f}"), ("other CPU % (noise)", "other_cpu_pct", "{:.0f}")]
# Capacity has no measured window: the generator's CPU per handshake and its share of a core while connecting.
CAPACITY_NOISE = [("generator CPU us/connection", "loadgen_cpu_us_per_unit", "{:.1f}"),
                  ("generator CPU % while connecting", "loadgen_cpu_pct", "{:.0f}")]
# A generator above this share of its core is the bottleneck: the run measures it, not the server.
GENERATOR_BOUND_PCT = 95.0


def log(msg):
    print(f"[compare-loadgens] {msg}", file=sys.stderr, flush=True)


def server_argv(args):
    return [args.server_exe, "--port", "0", "--host", "127.0.0.1", "--ping-interval", "25000",
            "--ping-timeout", "20000", "--max-payload", "1000000", "--loops", str(args.loops), "--app", "bench"]


def generator_argv(exe, scenario, server, args, label):
    argv = [exe, *SCENARIOS[scenario]["argv"], "--port", str(server.port), "--server-sid", str(server.sid),
            "--label", label]
    if scenario == "broadcast":
        argv += ["--broadcasts", str(args.broadcasts), "--bwarm", str(max(5, args.broadcasts // 10))]
        max_time = 120
    elif scenario == "capacity":
        argv += ["--settle", str(args.settle)]
        if args.capacity_steps:
            argv[argv.index("--steps") + 1] = args.capacity_steps
        max_time = 150
    else:
        argv += ["--warmup", str(args.warmup), "--duration", str(args.duration)]
        max_time = args.warmup + args.duration + 40
    return argv + ["--max-time", str(max_time)], max_time


def capacity_result(lines, problems):
    """The last step's line, with every step's rate and the closing check; its CPU figures per connection."""
    steps = [line for line in lines if line.get("scenario") == "capacity"]
    if not steps:
        return None
    result = dict(steps[-1])
    result["step_rates"] = " ".join(f"{s.get('step_handshakes_per_s', -1):,.0f}" for s in steps)
    check = [line for line in lines if line.get("scenario") == "capacity-echo-all"]
    if not check:
        problems.append("no capacity-echo-all line: the closing check did not finish")
    elif check[-1].get("echo_ok") != check[-1].get("open"):
        problems.append(f"only {check[-1].get('echo_ok')} of {check[-1].get('open')} idle connections answered")
    elif check[-1].get("bad_replies"):
        problems.append(f"bad_replies={check[-1]['bad_replies']} in the closing check")
    opened, connect_s = result.get("open") or 0, result.get("connect_s") or 0
    if opened > 0:
        result["server_cpu_us_per_conn"] = 1e6 * result.get("server_cpu_s", 0) / opened
        result["loadgen_cpu_us_per_unit"] = 1e6 * result.get("loadgen_cpu_s", 0) / opened
    if connect_s > 0:
        # Settling costs next to nothing, so this is about the generator's share of its core while connecting.
        result["loadgen_cpu_pct"] = 100 * result.get("loadgen_cpu_s", 0) / connect_s
    return result


def run_one(exe, generator, scenario, server, args, label):
    argv, max_time = generator_argv(exe, scenario, server, args, label)
    run = {"generator": generator, "scenario": scenario, "label": label, "cmd": argv, "problems": []}
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=bench.raise_nofile_limit)
    out, err = bench.communicate_within(proc, max_time + 15, run["problems"], generator)
    run.update(rc=proc.returncode, stderr=err.strip()[-2000:])
    lines = bench.result_lines(out, run["problems"], generator)
    if scenario == "capacity":
        run["lines"] = lines
        result = capacity_result(lines, run["problems"])
    else:
        result = lines[-1] if lines else None
    run["result"] = result
    if bench.check_result(result, proc.returncode, run["problems"], generator,
                          ("failed_conns", "dropped_after_ready", "protocol_errors", "bad_replies", "lost")):
        if not isinstance(result.get(SCENARIOS[scenario]["key"]), (int, float)):
            run["problems"].append(f"no {SCENARIOS[scenario]['key']} in the result")
        if scenario == "broadcast" and result.get("deliveries") != result.get("expected_deliveries"):
            run["problems"].append(f"deliveries {result.get('deliveries')} != expected {result.get('expected_deliveries')}")
        rate = result.get("msgs_per_s", result.get("deliveries_per_s"))
        if scenario != "capacity" and isinstance(rate, (int, float)) and rate > 0 \
                and isinstance(result.get("loadgen_cpu_pct"), (int, float)):
            # The generator's own CPU per message (per delivery for broadcasts; capacity_result gives it per
            # connection), comparable across generators.
            result["loadgen_cpu_us_per_unit"] = result["loadgen_cpu_pct"] * 1e4 / rate
        if result.get("loadgen_cpu_pct", 0) >= GENERATOR_BOUND_PCT:
            run["problems"].append(f"generator-bound: {generator} used {result['loadgen_cpu_pct']:.0f} % of a core")
    if not server.alive():
        run["problems"].append(f"server {server.exit_description()} during the run{server.stderr_excerpt()}")
    if run["problems"] and err.strip():
        run["problems"].append("stderr: " + err.strip()[-600:].replace("\n", " | "))
    return run


def repeats(scenario, args):
    return args.broadcast_repeat if scenario == "broadcast" else args.repeat


def median_of(runs, key):
    vals = [r["result"][key] for r in runs if r["result"] and isinstance(r["result"].get(key), (int, float))]
    return (statistics.median(vals), vals) if vals else (None, [])


def fmt(f, v):
    return f.format(v) if isinstance(v, (int, float)) else "-"


def diff_pct(ours, theirs):
    if not all(isinstance(x, (int, float)) for x in (ours, theirs)) or theirs == 0:
        return None
    return 100.0 * (ours - theirs) / theirs


def render(report, args):
    header = ["scenario", "figure", "sioload", "sio-load", "diff %", f"within {args.tolerance:g} %"]
    rows, verdicts = [], {}
    for sc in args.scenarios:
        runs = [r for r in report["runs"] if r["scenario"] == sc]
        good = [r for r in runs if not r["problems"]] or runs
        by = {g: [r for r in good if r["generator"] == g] for g in GENERATORS}
        key, f = SCENARIOS[sc]["key"], SCENARIOS[sc]["format"]
        a, a_all = median_of(by["sioload"], key)
        b, b_all = median_of(by["sio-load"], key)
        d = diff_pct(b, a)
        ok = d is not None and abs(d) <= args.tolerance
        verdicts[sc] = {"key": key, "sioload": a, "sio-load": b, "diff_pct": d, "ok": ok, "sioload_all": a_all,
                        "sio-load_all": b_all}
        rows.append([sc, SCENARIOS[sc]["figure"], fmt(f, a), fmt(f, b), fmt("{:+.1f}", d), "yes" if ok else "NO"])
        rows.append(["", "  (each run)", " ".join(fmt(f, v) for v in a_all), " ".join(fmt(f, v) for v in b_all), "", ""])
        noise = CAPACITY_NOISE if sc == "capacity" else NOISE
        for label, k, f in DETAILS.get(sc, DETAILS["echo"]) + noise:
            if f is None:  # text: the first clean run's
                x, y = (next((r["result"].get(k) for r in by[g] if r["result"]), "-") for g in GENERATORS)
                rows.append(["", label, str(x), str(y), "", ""])
                continue
            x, _ = median_of(by["sioload"], k)
            y, _ = median_of(by["sio-load"], k)
            dd = diff_pct(y, x) if k not in {n[1] for n in noise} else None
            if sc == "broadcast":
                label = label.replace("us/msg", "us/delivery")
            rows.append(["", label, fmt(f, x), fmt(f, y), fmt("{:+.1f}", dd), ""])
        bad = [r for r in runs if r["problems"]]
        if bad:
            rows.append(["", f"({len(bad)} of {len(runs)} runs had problems)", "", "", "", ""])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    out = [f"sioload (shared/perf, C) against sio-load (ours, Swift) on sio-echo --loops {args.loops}, "
           f"medians of {args.repeat} run(s) each ({args.broadcast_repeat} for broadcast); "
           "diff % = (sio-load - sioload) / sioload",
           " | ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))),
           "-+-".join("-" * w for w in widths)]
    for r in rows:
        out.append(" | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out), verdicts


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"), help="directory holding sio-echo and sio-load")
    p.add_argument("--quick", action="store_true", help="short runs, two repetitions")
    p.add_argument("--repeat", type=int, help="repetitions (default 5, --quick 2)")
    p.add_argument("--broadcast-repeat", type=int,
                   help="repetitions of the broadcast scenario (default twice --repeat: short runs, bimodal figure)")
    p.add_argument("--warmup", type=float, help="warm-up seconds (default 2, --quick 1)")
    p.add_argument("--duration", type=float, help="measured seconds (default 8, --quick 3)")
    p.add_argument("--broadcasts", type=int, help="broadcasts in the broadcast scenario (default 1000, --quick 300)")
    p.add_argument("--capacity-steps", help="capacity steps (default 1000,5000,10000)")
    p.add_argument("--settle", type=float, help="capacity settle seconds per step (default 2, --quick 1)")
    p.add_argument("--loops", type=int, default=1, help="event loops for sio-echo (default 1)")
    p.add_argument("--tolerance", type=float, default=15.0, help="largest accepted difference, percent (15)")
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help="comma list of: " + ",".join(SCENARIOS))
    p.add_argument("--sioload", help="prebuilt sioload binary (default: build .build/sioload/sioload)")
    p.add_argument("--sioload-src", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "perf", "sioload.c")))
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results"), help="results folder")
    p.add_argument("--ready-timeout", type=float, default=30.0)
    a = p.parse_args()
    a.repeat = a.repeat or (2 if a.quick else 5)
    a.broadcast_repeat = a.broadcast_repeat or 2 * a.repeat
    a.warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 2.0)
    a.duration = a.duration if a.duration is not None else (3.0 if a.quick else 8.0)
    a.broadcasts = a.broadcasts or (300 if a.quick else 1000)
    a.settle = a.settle if a.settle is not None else (1.0 if a.quick else 2.0)
    a.scenarios = bench.comma_list(a.scenarios)
    bad = [s for s in a.scenarios if s not in SCENARIOS]
    if bad or a.repeat < 1 or a.broadcast_repeat < 1 or a.loops < 1 or not a.scenarios:
        p.error(f"bad arguments {bad or ''}")
    a.bin = os.path.abspath(a.bin)
    return a


def main():
    args = parse_args()
    bench.exit_cleanly_on_signals()
    started = time.monotonic()
    try:
        sioload = bench.ensure_sioload(args)
        for name in ("sio-echo", "sio-load"):
            if not os.access(os.path.join(args.bin, name), os.X_OK):
                raise bench.SetupError(f"{args.bin}/{name} not found; run `make release` first")
    except bench.SetupError as e:
        log(str(e))
        return 2
    logdir = tempfile.mkdtemp(prefix="compare-loadgens-")
    # Private copies: a rebuild of --bin during the run must not mix binaries.
    args.server_exe = os.path.join(logdir, "sio-echo")
    ours = os.path.join(logdir, "sio-load")
    shutil.copy2(os.path.join(args.bin, "sio-echo"), args.server_exe)
    shutil.copy2(os.path.join(args.bin, "sio-load"), ours)
    exes = {"sioload": sioload, "sio-load": ours}
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = {"benchmark": "loadgens", "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "git_revision": bench.git_revision(), "host": {"ncpu": os.cpu_count(), "loadavg_before": os.getloadavg()},
              "settings": {k: v for k, v in vars(args).items() if k != "server_exe"},
              "server_argv": server_argv(args)[1:], "runs": []}
    current = None
    try:
        for rep in range(1, max(args.repeat, args.broadcast_repeat) + 1):
            for sc in args.scenarios:
                if rep > repeats(sc, args):
                    continue
                order = GENERATORS if rep % 2 else tuple(reversed(GENERATORS))
                for gen in order:
                    label = f"{gen}-{sc}-{rep}"
                    current = bench.Server("sio-echo", server_argv(args), args.ready_timeout, logdir)
                    try:
                        current.start()
                    except bench.SetupError as e:
                        log(str(e))
                        current.stop()
                        current = None
                        report["runs"].append({"generator": gen, "scenario": sc, "label": label, "result": None,
                                               "problems": [str(e)]})
                        continue
                    run = run_one(exes[gen], gen, sc, current, args, label)
                    current.stop()
                    current = None
                    report["runs"].append(run)
                    r = run["result"] or {}
                    log(f"{label}: {SCENARIOS[sc]['figure']} {fmt(SCENARIOS[sc]['format'], r.get(SCENARIOS[sc]['key']))}, "
                        f"{r.get('msgs_per_s', r.get('deliveries_per_s', 0)):,.0f}/s, generator CPU "
                        f"{r.get('loadgen_cpu_pct', -1):.0f} %, other CPU {r.get('other_cpu_pct', -1):.0f} %"
                        + (f"  PROBLEMS: {'; '.join(p.splitlines()[0] for p in run['problems'])}" if run["problems"] else ""))
    finally:
        if current is not None:
            current.stop()
        shutil.rmtree(logdir, ignore_errors=True)
    table, verdicts = render(report, args)
    report["table"] = table
    report["verdicts"] = verdicts
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"loadgens-{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
    print(table, flush=True)
    problems = [r for r in report["runs"] if r["problems"]]
    for run in problems:
        print(f"PROBLEM {run['label']}: " + "\n  ".join(run["problems"]), flush=True)
    outside = [sc for sc, v in verdicts.items() if not v["ok"]]
    if outside:
        print(f"OUTSIDE {args.tolerance:g} %: {', '.join(outside)}", flush=True)
    print(f"results: {os.path.relpath(path, os.getcwd())}  ({report['elapsed_s']:.0f}s)", flush=True)
    return 1 if outside or problems else 0


if __name__ == "__main__":
    sys.exit(main())
