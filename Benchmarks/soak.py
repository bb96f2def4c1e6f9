"""The soak of issue 18 (`make soak SOAK_MINUTES=30`): two servers under load at once for a long time, sampled
every 10 s, then a capacity step.

- `sio-echo` (production heartbeats) under `sio-load soak`: 5,000 WebSocket and 200 polling clients in one room,
  100 of them replaced every second, 500 echoes and 1 broadcast to everyone per second.
- `spaces` (SQLite) with 3 python-socketio workers (Tests/Interop/spaces_mock_app.py) and 20 users submitting over
  HTTP keep-alive, each waiting for its request to complete before the next.
- Every 10 s: RSS, open descriptors and threads of both servers (/proc), sio-echo's sessions and queued output
  (its --stats-interval line) and spaces' queue depth, requests in progress and sessions (/metrics).
- Passes when each server's RSS at the end of the load is within 5 % of its RSS after the warm-up, and its
  descriptors come back to the count before the load once the load stops.
- Then the capacity step: a fresh sio-echo, idle connections up to --capacity from several 127.0.0.x source
  addresses (one address has ~28,000 ephemeral ports), several sio-load processes (each has its own descriptor
  limit): handshakes per second, RSS per connection and one echo on every connection at the end.

Writes samples.csv, samples.json, summary.json and plot.svg into --out and prints the summary.
Usage: python Benchmarks/soak.py [--bin .build/release] [--minutes 30] [--out bench-results/soak-...]
"""
import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
sys.path.insert(0, HERE)
from soak_plot import render  # noqa: E402
from spaces_e2e_test import Spaces, create_space, new_user, status  # noqa: E402


# --------------------------------------------------------------------------------------------------------------
# /proc

def proc_status(pid):
    """RSS in kB and thread count of a process."""
    fields = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["VmRSS"][0]), int(fields["Threads"][0])


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_targets(pid):
    """What each open descriptor points at (socket:[inode], a file...), for telling which one stayed open."""
    targets = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            pass  # closed meanwhile
    return targets


def fd_limit(pid):
    with open(f"/proc/{pid}/limits") as handle:
        for line in handle:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def read_first(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def machine_limits():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {"nofile_soft": soft, "nofile_hard": hard, "file_max": read_first("/proc/sys/fs/file-max"),
            "nr_open": read_first("/proc/sys/fs/nr_open"),
            "ip_local_port_range": read_first("/proc/sys/net/ipv4/ip_local_port_range"),
            "somaxconn": read_first("/proc/sys/net/core/somaxconn"),
            "cpus": os.cpu_count(), "mem_total": read_first("/proc/meminfo").splitlines()[0]}


# --------------------------------------------------------------------------------------------------------------
# Servers and clients

class SIOEcho:
    """sio-echo --app bench with production settings (Node's heartbeats and 45 s to join a namespace, not the
    test suite's 1 s, which a loaded machine misses) and a stats line every `stats` seconds."""

    def __init__(self, binary, log_path, stats=10):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--app", "bench", "--ping-interval", "25000", "--ping-timeout", "20000",
             "--connect-timeout", "45000",
             "--stats-interval", str(stats)], stdout=subprocess.PIPE, stderr=self.log, text=True,
            start_new_session=True)
        line = self.proc.stdout.readline()
        match = re.search(r"listening on port (\d+)", line)
        if not match:
            raise RuntimeError(f"sio-echo did not start: {line!r}")
        self.port = int(match.group(1))

    @property
    def pid(self):
        return self.proc.pid

    def stats(self):
        """The last stats line's fields (sessions, queued_output_bytes), or {} before the first."""
        with open(self.log_path) as handle:
            lines = [line for line in handle if line.startswith("sio-echo stats:")]
        if not lines:
            return {}
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", lines[-1])}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def spaces_metrics(url):
    """Gauges from /metrics, summed over their labels."""
    text = requests.get(url + "/metrics", timeout=5).text
    sums = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            sums[name] = sums.get(name, 0) + float(value)
        except ValueError:
            pass
    return sums


class Users:
    """`count` users, each on its own keep-alive session: submit, poll the status until it is final, again."""

    def __init__(self, spaces, space_id, count):
        self.spaces, self.space_id = spaces, space_id
        self.sessions = [new_user(spaces) for _ in range(count)]
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"submitted": 0, "completed": 0, "errors": 0}
        self.pool = None
        self.futures = []

    def count(self, key):
        with self.lock:
            self.counts[key] += 1

    def run_one(self, session):
        while not self.stop_event.is_set():
            try:
                answer = session.post(f"{self.spaces.url}/websockets/submit/{self.space_id}", data={"prompt": "soak"},
                                      timeout=10)
                if answer.status_code != 200:
                    self.count("errors")
                    self.stop_event.wait(0.5)
                    continue
                self.count("submitted")
                request_id = answer.json()["request_id"]
                deadline = time.monotonic() + 30
                while not self.stop_event.is_set() and time.monotonic() < deadline:
                    if status(session, self.spaces, request_id).json().get("status") == "completed":
                        self.count("completed")
                        break
                    self.stop_event.wait(0.05)
            except requests.RequestException:
                self.count("errors")
                self.stop_event.wait(0.5)

    def start(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(len(self.sessions))
        self.futures = [self.pool.submit(self.run_one, session) for session in self.sessions]

    def stop(self):
        self.stop_event.set()
        self.pool.shutdown(wait=True)
        for session in self.sessions:
            session.close()


def start_spaces(out_dir):
    """spaces on SQLite in a temporary folder, its log in spaces.log, its standard output drained."""
    log = open(os.path.join(out_dir, "spaces.log"), "w")
    saved, sys.stderr = sys.stderr, log  # Spaces hands sys.stderr to the process
    try:
        spaces = Spaces(tempfile.mkdtemp(prefix="spaces-soak-")).start()
    finally:
        sys.stderr = saved
    threading.Thread(target=lambda: [log.write(line) for line in spaces.proc.stdout], daemon=True).start()
    return spaces


def start_workers(spaces, space_name, count, log_dir):
    workers = []
    for index in range(count):
        log = open(os.path.join(log_dir, f"worker-{index}.log"), "w")
        workers.append((subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "Tests", "Interop", "spaces_mock_app.py"), "--url", spaces.url,
             "--space", space_name, "--name", f"soak-w{index}", "--delay", "0.02", "--transports", "websocket"],
            stdout=log, stderr=subprocess.STDOUT), log))
    deadline = time.monotonic() + 30
    while spaces_metrics(spaces.url).get("spaces_worker_connections", 0) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the spaces workers did not register")
        time.sleep(0.2)
    return workers


# --------------------------------------------------------------------------------------------------------------
# Sampling

class Sampler:
    """Every `interval` seconds, one row per server into samples.csv."""

    FIELDS = ["t_s", "phase", "server", "rss_kb", "fds", "threads", "sessions", "queued_output_bytes",
              "queue_depth", "processing", "submitted", "completed"]

    def __init__(self, out_dir, echo, spaces, interval):
        self.echo, self.spaces, self.interval = echo, spaces, interval
        self.rows = []
        self.phase = "baseline"
        self.users = None
        self.started = time.monotonic()
        self.handle = open(os.path.join(out_dir, "samples.csv"), "w", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=self.FIELDS)
        self.writer.writeheader()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def sample(self):
        t = round(time.monotonic() - self.started, 1)
        rows = []
        rss, threads = proc_status(self.echo.pid)
        stats = self.echo.stats()
        rows.append({"t_s": t, "phase": self.phase, "server": "sio-echo", "rss_kb": rss, "fds": open_fds(self.echo.pid),
                     "threads": threads, "sessions": stats.get("sessions", ""),
                     "queued_output_bytes": stats.get("queued_output_bytes", "")})
        rss, threads = proc_status(self.spaces.proc.pid)
        try:
            metrics = spaces_metrics(self.spaces.url)
        except requests.RequestException:
            metrics = {}
        counts = dict(self.users.counts) if self.users else {}
        rows.append({"t_s": t, "phase": self.phase, "server": "spaces", "rss_kb": rss,
                     "fds": open_fds(self.spaces.proc.pid), "threads": threads,
                     "sessions": int(metrics.get("spaces_socket_connections", 0)),
                     "queue_depth": int(metrics.get("spaces_queue_depth", 0)),
                     "processing": int(metrics.get("spaces_processing", 0)),
                     "submitted": counts.get("submitted", ""), "completed": counts.get("completed", "")})
        for row in rows:
            self.writer.writerow(row)
        self.handle.flush()
        self.rows.extend(rows)
        return rows

    def loop(self):
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            self.sample()
            next_at += self.interval
            self.stop_event.wait(max(0, next_at - time.monotonic()))

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self.handle.close()

    def elapsed(self):
        return time.monotonic() - self.started


def last_before(rows, server, t):
    """The last sample of `server` taken at or before t."""
    chosen = [row for row in rows if row["server"] == server and row["t_s"] <= t]
    return chosen[-1] if chosen else None


# --------------------------------------------------------------------------------------------------------------
# The capacity step

def stopped_short_reason(asked, target, opened, echo_ok, server_limit, limit_log):
    """Why the capacity step reached fewer than `asked` connections (None when it reached them all)."""
    if opened >= asked and echo_ok >= asked:
        return None
    reasons = []
    if target < asked:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        reasons.append(f"the server may open {server_limit} descriptors (this machine's hard RLIMIT_NOFILE is {hard}; "
                       f"raising it needs root or CAP_SYS_RESOURCE), so the step aimed at {target}, leaving 200 for "
                       "the server's own files" + (f"; the server logged: {limit_log[0]}" if limit_log else ""))
    if opened < target:
        reasons.append(f"{target - opened} of the {target} connections aimed at did not open")
    if echo_ok < opened:
        reasons.append(f"{opened - echo_ok} open connections did not answer the final echo")
    return "; ".join(reasons)


def capacity_step(args, out_dir):
    echo = SIOEcho(os.path.join(args.bin, "sio-echo"), os.path.join(out_dir, "capacity-sio-echo.log"), stats=5)
    try:
        time.sleep(0.5)
        server_limit = fd_limit(echo.pid)
        client_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        # Each connection is one descriptor on the server; leave room for its own.
        target = min(args.capacity, server_limit - 200)
        processes = max(args.capacity_sources, -(-target // max(1, min(client_limit - 200, 25_000))))
        per_process = target // processes
        target = per_process * processes
        base_rss, _ = proc_status(echo.pid)
        steps = ",".join(str(per_process * k // 4) for k in (1, 2, 3, 4))
        commands = []
        for index in range(processes):
            source = f"127.0.0.{index + 2}"
            commands.append([os.path.join(args.bin, "sio-load"), "capacity", "--host", "127.0.0.1", "--port",
                             str(echo.port), "--sources", source, "--steps", steps, "--settle", "8", "--pending", "48",
                             "--server-pid", str(echo.pid), "--max-time", "600", "--label", source])
        started = time.monotonic()
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for command in commands]
        peak = {"open": 0, "rss_kb": base_rss}
        while any(proc.poll() is None for proc in procs):
            fds = open_fds(echo.pid)
            if fds > peak["open"]:
                peak = {"open": fds, "rss_kb": proc_status(echo.pid)[0]}
            time.sleep(0.5)
        lines = []
        for proc in procs:
            out, err = proc.communicate()
            lines += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            if proc.returncode != 0:
                print(f"sio-load capacity exited {proc.returncode}: {err.strip()[-500:]}", file=sys.stderr)
        steps_done = [line for line in lines if line["scenario"] == "capacity" and line["target"] == per_process]
        echoes = [line for line in lines if line["scenario"] == "capacity-echo-all"]
        opened = sum(line["open"] for line in steps_done)
        connect_s = max([line["connect_s"] for line in steps_done] or [0])
        rss_kb = max([line["rss_kb"] for line in steps_done] or [0])
        echo_ok = sum(line["echo_ok"] for line in echoes)
        with open(echo.log_path) as handle:
            limit_log = [line.strip() for line in handle if "open-file limit" in line]
        return {
            "reached": opened, "stopped_short_because": stopped_short_reason(args.capacity, target, opened, echo_ok,
                                                                              server_limit, limit_log),
            "server_limit_log": limit_log,
            "asked": args.capacity, "target": target, "server_fd_limit": server_limit, "client_fd_limit": client_limit,
            "limited_by_fd_limit": target < args.capacity, "sources": [c[c.index("--sources") + 1] for c in commands],
            "processes": processes, "open": opened, "failed": sum(line["failed_conns"] for line in steps_done),
            "handshakes_per_s": round(opened / connect_s, 1) if connect_s else None,
            "handshake_p99_ms": max([line["handshake_p99_ms"] for line in steps_done] or [0]),
            "rss_base_kb": base_rss, "rss_kb": rss_kb,
            "kb_per_conn": round((rss_kb - base_rss) / opened, 2) if opened else None,
            "peak_server_fds": peak["open"],
            "echo_ok": echo_ok, "echo_open": sum(line["open"] for line in echoes),
            "echo_seconds": max([line["seconds"] for line in echoes] or [0]),
            "wall_s": round(time.monotonic() - started, 1), "lines": lines,
        }
    finally:
        echo.stop()


# --------------------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="default: a third of the run, at most 3 (spaces' recovery buffer fills over 2 minutes)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--conns", type=int, default=5000)
    parser.add_argument("--polling", type=int, default=200)
    parser.add_argument("--churn", type=float, default=100)
    parser.add_argument("--rate", type=float, default=500, help="echoes per second")
    parser.add_argument("--brate", type=float, default=1, help="broadcasts per second to every client")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--cooldown", type=float, default=90, help="most seconds to wait for descriptors to come back")
    parser.add_argument("--capacity", type=int, default=50_000)
    parser.add_argument("--capacity-sources", type=int, default=4)
    parser.add_argument("--skip-capacity", action="store_true")
    args = parser.parse_args()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or os.path.join(ROOT, "bench-results", f"soak-{stamp}")
    os.makedirs(out_dir, exist_ok=True)
    duration = args.minutes * 60
    warmup = (args.warmup_minutes if args.warmup_minutes is not None else min(3, args.minutes / 3)) * 60
    summary = {"started": stamp, "minutes": args.minutes, "warmup_s": warmup, "limits": machine_limits(),
               "load": {"conns": args.conns, "polling": args.polling, "churn_per_s": args.churn,
                        "echo_per_s": args.rate, "broadcasts_per_s": args.brate, "users": args.users,
                        "workers": args.workers}}

    echo = SIOEcho(os.path.join(args.bin, "sio-echo"), os.path.join(out_dir, "sio-echo.log"), stats=int(args.interval))
    os.environ["SPACES_BIN"] = os.path.join(args.bin, "spaces")
    spaces = start_spaces(out_dir)
    workers, users, sampler = [], None, None
    try:
        space_id, space_name = create_space(spaces, max_workers=str(args.workers))
        workers = start_workers(spaces, space_name, args.workers, out_dir)
        users = Users(spaces, space_id, args.users)
        for session in users.sessions:
            session.close()  # the logins' connections: the baseline has none (the cookies stay)
        # Baseline: servers up, workers registered, users logged in, no load yet.
        time.sleep(1)
        sampler = Sampler(out_dir, echo, spaces, args.interval)
        baseline = {row["server"]: row for row in sampler.sample()}
        pids = {"sio-echo": echo.pid, "spaces": spaces.proc.pid}
        baseline_targets = {name: fd_targets(pid) for name, pid in pids.items()}
        sampler.phase = "load"
        sampler.users = users
        load_started = sampler.elapsed()
        load = subprocess.Popen(
            [os.path.join(args.bin, "sio-load"), "soak", "--port", str(echo.port), "--conns", str(args.conns),
             "--polling-conns", str(args.polling), "--churn", str(args.churn), "--rate", str(args.rate),
             "--brate", str(args.brate), "--duration", str(duration), "--report-every", str(args.interval),
             "--connect-timeout", "120", "--pending", "64", "--max-time", str(duration + 300),
             "--sources", "127.0.0.2,127.0.0.3"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(out_dir, "sio-load.log"), "w"), text=True)
        users.start()
        sampler.start()
        progress = []
        with open(os.path.join(out_dir, "sio-load.jsonl"), "w") as log:
            for line in load.stdout:
                log.write(line)
                log.flush()
                if line.startswith("{"):
                    progress.append(json.loads(line))
        load.wait()
        users.stop()
        load_ended = sampler.elapsed()
        sampler.phase = "cooldown"
        # Descriptors back to the baseline: polling sessions cut without a close end at the ping timeout.
        # The count when both are back (a descriptor may come and go afterwards, e.g. a worker's reconnection),
        # else the last one seen at the deadline.
        deadline = time.monotonic() + args.cooldown
        while True:
            settled = {name: open_fds(pid) for name, pid in pids.items()}
            if all(settled[name] <= baseline[name]["fds"] for name in pids) or time.monotonic() >= deadline:
                break
            time.sleep(1)
        leftover = {name: sorted(set(fd_targets(pid)) - set(baseline_targets[name])) for name, pid in pids.items()}
        time.sleep(min(args.interval, 5))
        final = {row["server"]: row for row in sampler.sample()}
        sampler.stop()

        rows = sampler.rows
        servers = {}
        for name in ("sio-echo", "spaces"):
            warm = last_before(rows, name, load_started + warmup)
            end = last_before(rows, name, load_ended)
            load_rows = [row for row in rows if row["server"] == name and row["phase"] == "load"]
            growth = 100 * (end["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"]
            servers[name] = {
                "rss_start_kb": baseline[name]["rss_kb"], "rss_after_warmup_kb": warm["rss_kb"],
                "rss_end_kb": end["rss_kb"], "rss_peak_kb": max(row["rss_kb"] for row in load_rows),
                "rss_growth_pct": round(growth, 2),
                "fds_baseline": baseline[name]["fds"], "fds_peak": max(row["fds"] for row in load_rows),
                "fds_after": settled[name], "fds_final_sample": final[name]["fds"],
                "fds_not_in_baseline": leftover[name], "threads_baseline": baseline[name]["threads"],
                "threads_peak": max(row["threads"] for row in load_rows), "threads_after": final[name]["threads"],
                "rss_ok": growth <= 5.0, "fds_ok": settled[name] <= baseline[name]["fds"],
            }
        summary["servers"] = servers
        summary["sio_load"] = progress[-1] if progress else None
        summary["sio_load_exit"] = load.returncode
        summary["spaces_users"] = dict(users.counts)
        summary["passed"] = load.returncode == 0 and all(s["rss_ok"] and s["fds_ok"] for s in servers.values())
        with open(os.path.join(out_dir, "samples.json"), "w") as handle:
            json.dump(rows, handle, indent=1)
        with open(os.path.join(out_dir, "plot.svg"), "w") as handle:
            handle.write(render(rows, markers=[(load_started, "load"), (load_started + warmup, "warm"),
                                               (load_ended, "load stops")]))
    finally:
        if sampler and not sampler.stop_event.is_set():
            sampler.stop()
        if users and users.pool:
            users.stop()
        for proc, log in workers:
            proc.terminate()
            proc.wait(10)
            log.close()
        spaces.stop()
        echo.stop()

    if not args.skip_capacity:
        summary["capacity"] = capacity_step(args, out_dir)
    with open(os.path.join(out_dir, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    brief = {k: v for k, v in summary.items() if k != "capacity"}
    if "capacity" in summary:
        brief["capacity"] = {k: v for k, v in summary["capacity"].items() if k != "lines"}
    print(json.dumps(brief, indent=1))
    print(f"results in {out_dir}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
