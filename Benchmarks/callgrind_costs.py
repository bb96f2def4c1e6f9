#!/usr/bin/env python3
"""Instructions per unit of work under callgrind: noise-free per-operation costs, sio-echo beside limitd.

    python Benchmarks/callgrind_costs.py --server .build/release/sio-echo --limitd .build/sioload/limitd \\
        --sioload .build/sioload/sioload [--scenarios polling,echo,rate,capacity,broadcast]

Each server runs under `valgrind --tool=callgrind` and sioload warms it up. A cost per message (echo,
polling, rate) is a difference of two measured sioload runs, one twice as long as the other, each between a
zero (`callgrind_control -z`) and a dump (`-d`) taken once the server is idle again: what both runs share (their
connects, sioload's unmeasured warm-up seconds, the closes) cancels, and what is left is the instructions of the
extra messages over their count. `broadcast` (1,000 clients in a room, one broadcast at a time) does the same with
few and with many broadcasts. `capacity` is one run: instructions per connection (handshake + namespace connect;
with `--drain` its close too). Timing under valgrind is ~50x slow, so the runs are small; the counts do not depend
on machine load, which is why they suit a shared machine.
"""
import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

SCENARIOS = {
    "echo": (["echo", "--conns", "20", "--window", "4", "--warmup", "2", "--duration", "6"], "msgs"),
    "polling": (["echo", "--transport", "polling", "--conns", "10", "--window", "1", "--warmup", "2",
                 "--duration", "6"], "msgs"),
    "rate": (["rate", "--rate", "200", "--conns", "20", "--warmup", "2", "--duration", "6"], "msgs"),
    "capacity": (["capacity", "--steps", "300", "--pending", "8", "--settle", "1"], "open"),
    "broadcast": (["broadcast", "--clients", "1000", "--bwarm", "2"], "deliveries"),
}
# The two measured broadcast runs (counts of broadcasts after the warm-up ones); see `measure_broadcast`.
BROADCAST_RUNS = (10, 60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def total_ir(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"no totals in {path}")


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_shim(workdir):
    """valgrind 3.19 dies in the sigsuspend libdispatch parks an async main in; this LD_PRELOAD shim hands
    it a writable mask (see Benchmarks/valgrind_sigsuspend.c)."""
    shim = os.path.join(workdir, "valgrind_sigsuspend.so")
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC", "-o", shim,
                    os.path.join(ROOT, "Benchmarks", "valgrind_sigsuspend.c")], check=True)
    return shim


def measure(kind, binary, sioload, scenario, workdir, shim, drain=False):
    port = free_port()
    out = os.path.join(workdir, f"{kind}-{scenario}.cg")
    if kind == "limitd":
        argv = [binary, str(port)]
    else:
        argv = [binary, "--port", str(port), "--host", "127.0.0.1", "--loops", "1", "--app", "bench",
                "--ping-interval", "25000", "--ping-timeout", "20000"]
    vg = ["valgrind", "--tool=callgrind", "--compress-strings=no", f"--callgrind-out-file={out}.%p"]
    env = dict(os.environ, LD_PRELOAD=shim) if kind != "limitd" else None
    server = subprocess.Popen(vg + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True, env=env)
    try:
        if not wait_port(port, time.monotonic() + 180):
            raise RuntimeError(f"{kind} did not start")
        if scenario == "broadcast":
            return measure_broadcast(sioload, port, server.pid, out)
        load, key = SCENARIOS[scenario]
        if scenario != "capacity":
            return measure_messages(sioload, port, server.pid, out, load, key)
        subprocess.run([sioload, "capacity", "--steps", "100", "--pending", "8", "--settle", "1",
                        "--port", str(port)], capture_output=True, timeout=120)
        wait_idle(server.pid)
        subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True, timeout=60)
        units = sioload_units(sioload, [*load, "--port", str(port), "--max-time", "120"], scenario, key)
        if drain:
            wait_idle(server.pid, 120)
        subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True, timeout=60)
        # The dump callgrind_control asked for (suffix .1), not the one written at exit.
        dumps = glob.glob(out + f".{server.pid}.1")
        return (total_ir(dumps[0]) if dumps else None), units
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def cpu_ticks(pid):
    """User plus system clock ticks the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, deadline_s=60):
    """Waits until the server stops using CPU (it still closes a run's connections after sioload exits, which must
    land in that run's dump and not the next one), at most `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_ticks(pid)
        if now - last <= 1:
            return
        last = now


def sioload_units(sioload, argv, scenario, key):
    """Runs sioload with `argv`; returns the `key` figure of its `scenario` line, or None."""
    r = subprocess.run([sioload, *argv], capture_output=True, text=True, timeout=180)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    result = [l for l in lines if l.get("scenario") == scenario] or lines
    return result[-1].get(key) if result else None


def differenced(pid, out, runs):
    """Runs each of `runs` (callables returning how many units they caused, or None) between a zero and a dump,
    the server idle before the dump; returns the second run's instructions and units minus the first's."""
    counts = []
    for dump, run in enumerate(runs, start=1):
        subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, timeout=60)
        units = run()
        wait_idle(pid)
        subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True, timeout=60)
        dumps = glob.glob(out + f".{pid}.{dump}")
        if not dumps or units is None:
            return None, None
        counts.append((total_ir(dumps[0]), units))
    (ir1, units1), (ir2, units2) = counts
    return ir2 - ir1, units2 - units1


def measure_messages(sioload, port, pid, out, load, key):
    """Instructions per message: a run of the scenario's measured seconds and one of twice as many, differenced."""
    seconds = int(load[load.index("--duration") + 1])
    scenario = load[0]

    def run(duration):
        argv = list(load)
        argv[argv.index("--duration") + 1] = str(duration)
        return lambda: sioload_units(sioload, [*argv, "--port", str(port), "--max-time", "170"], scenario, key)

    run(1)()  # warm-up: the first connections, buffers and code paths
    wait_idle(pid)
    return differenced(pid, out, [run(seconds), run(2 * seconds)])


def broadcast_run(sioload, port, broadcasts):
    """One sioload broadcast run; returns every delivery it caused (warm-up broadcasts included), or None."""
    load, _ = SCENARIOS["broadcast"]
    r = subprocess.run([sioload, *load, "--broadcasts", str(broadcasts), "--port", str(port), "--max-time", "170"],
                       capture_output=True, text=True, timeout=180)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    result = [l for l in lines if l.get("scenario") == "broadcast"]
    if not result or result[-1].get("completed") != broadcasts:
        return None
    warm = int(load[load.index("--bwarm") + 1])
    return (broadcasts + warm) * result[-1]["clients"]


def measure_broadcast(sioload, port, pid, out):
    """Instructions and deliveries of the run with many broadcasts minus the one with few."""
    broadcast_run(sioload, port, 2)  # warm-up: the first clients, rooms and buffers
    wait_idle(pid)
    return differenced(pid, out, [lambda count=count: broadcast_run(sioload, port, count) for count in BROADCAST_RUNS])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", action="append", required=True, help="sio-echo binary (repeat to compare builds)")
    p.add_argument("--limitd", required=True)
    p.add_argument("--sioload", required=True)
    p.add_argument("--scenarios", default="polling,echo,rate,capacity")
    p.add_argument("--keep", help="folder for the callgrind files (default: a temporary one)")
    p.add_argument("--drain", action="store_true",
                   help="dump only once the server is idle after the load (capacity: each connection's close counted)")
    a = p.parse_args()
    workdir = a.keep or tempfile.mkdtemp(prefix="callgrind-costs-")
    os.makedirs(workdir, exist_ok=True)
    shim = build_shim(workdir)
    servers = [("limitd", a.limitd)] + [(f"sio-echo#{i}" if len(a.server) > 1 else "sio-echo", s)
                                        for i, s in enumerate(a.server)]
    print("scenario | " + " | ".join(f"{k} Ir/unit" for k, _ in servers), flush=True)
    for scenario in a.scenarios.split(","):
        cells = []
        floor = None
        for kind, binary in servers:
            ir, units = measure("limitd" if kind == "limitd" else "ours", binary, a.sioload, scenario, workdir, shim,
                                drain=a.drain)
            per = ir / units if ir and units else None
            if kind == "limitd":
                floor = per
            text = f"{per:,.0f}" if per else "-"
            if kind != "limitd" and per and floor:
                text += f" ({per / floor:.2f}x)"
            cells.append(text)
            print(f"  {scenario} {kind}: Ir {ir}, units {units}", file=sys.stderr, flush=True)
        print(f"{scenario} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
