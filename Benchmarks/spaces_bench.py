#!/usr/bin/env python3
"""SpacesApp benchmark (issue 14, `make bench-spaces`): users submitting over HTTP and reading status, an echo
worker at concurrency 8, on three setups:

  sqlite    one node, SQLite in its data folder;
  postgres  one node on PostgreSQL (a server of its own, postgres_server.py);
  cluster   two nodes on PostgreSQL with Redis and a shared uploads folder, behind nginx (deploy/nginx.conf).
            nginx picks a node by `hash $remote_addr consistent`: each user connects from a loopback address of
            its own (spaces_load --source-addrs), chosen by asking nginx which node each address goes to
            (spaces_sources.py), half of them to each node. The worker connects to the second node directly, not
            through nginx: users on the first node are then served by a worker on the other node (claims through
            PostgreSQL, NOTIFY wake-ups, results and live updates crossing over Redis), those on the second by a
            worker of their own node. Direct, because which node nginx would give the worker depends on the node
            ports (free ports, new every run) and the workers have no source-address option; nginx relaying a
            WebSocket is not node work either way.

    python Benchmarks/spaces_bench.py --bin .build/release --load .build/spaces_load/spaces_load
                                      [--setups sqlite,postgres,cluster] [--requests 3000] [--users 16]

Per setup, on fresh processes:
  throughput  spaces-worker (Swift, --concurrency 8 --delay 0, WebSocket) answers; spaces_load (C, ours) runs
              --users kept-alive connections, each submit followed by two status reads, --requests submits in
              all, as fast as the server answers. Server CPU per request: utime + stime of the node processes
              (/proc/PID/stat) from before the first submit until every request is completed, divided by the
              submits (so it covers submit, dispatch, result and the two status reads); with two nodes, the sum
              of both. PostgreSQL's and nginx's own CPU are shown beside it. Each node's counters (/metrics:
              submitted, dispatched, redelivered) show the split, and that every request was delivered and
              completed exactly once.
  latency     the Python echo worker (spaces_latency_worker.py, concurrency 8) notes when each
              `inference_request` arrives; spaces_load submits --rate per second on a fixed schedule. Dispatch
              latency = arrival at the worker - the moment the submit was sent (so it includes the HTTP
              submit itself): p50 and p99.

Targets (printed beside the figures): SQLite <= 300 µs of server CPU per request and >= 3,000 requests/s;
PostgreSQL within 2x SQLite's CPU per request; dispatch p99 <= 10 ms at 300 requests/s in every setup. Raw
figures go to bench-results/spaces-<time>.json. Exit status 0 when every run completed, 1 otherwise.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Cluster"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
from cluster_support import Redis, process_cpu_ticks, wait_until  # noqa: E402
from nginx_support import Nginx  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402
from spaces_sources import node_counters, spread_sources  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def log(message):
    print(f"[bench-spaces] {message}", file=sys.stderr, flush=True)


class Setup:
    """The processes of one setup; `front` is the URL users use, `worker_url` the one workers use, `sources` the
    users' source addresses (None: 127.0.0.1), `nodes` the `spaces` processes."""

    def __init__(self, name, bin_dir):
        self.name = name
        self.bin_dir = bin_dir
        self.folder = tempfile.mkdtemp(prefix=f"bench-spaces-{name}-")
        self.postgres = None
        self.redis = None
        self.proxy = None
        self.nodes = []
        self.sources = None

    def start(self, users):
        os.environ["SPACES_BIN"] = os.path.join(self.bin_dir, "spaces")
        from spaces_e2e_test import Spaces
        database = None
        env = {}
        if self.name in ("postgres", "cluster"):
            self.postgres = PostgresServer().start()
            database = self.postgres.create_database()
        if self.name == "cluster":
            self.redis = Redis().start()
            env = {"SPACES_REDIS": self.redis.url, "SPACES_TRUST_PROXY": "1",
                   "SPACES_UPLOADS_DIR": os.path.join(self.folder, "shared", "uploads"),
                   "SPACES_SESSION_KEY": os.path.join(self.folder, "shared", "session.key")}
        count = 2 if self.name == "cluster" else 1
        self.nodes = [Spaces(os.path.join(self.folder, f"node{index}"), extra_env=env, database=database)
                      for index in range(count)]
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda node: node.start(), self.nodes))
        if self.name == "cluster":
            self.proxy = Nginx(os.path.join(ROOT, "deploy", "nginx.conf"), [node.port for node in self.nodes])
            self.front = self.proxy.url
            self.worker_url = self.nodes[1].url
            self.sources = spread_sources(self.front, [node.url for node in self.nodes], users)
        else:
            self.front = self.worker_url = self.nodes[0].url
        return self

    def cpu_seconds(self):
        return sum(process_cpu_ticks(node.proc.pid) for node in self.nodes) / TICKS

    def nginx_cpu_seconds(self):
        """nginx's master and worker processes."""
        if not self.proxy:
            return 0.0
        pid = self.proxy.proc.pid
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [pid] + [int(child) for child in f.read().split()]
        return sum(process_cpu_ticks(each) for each in pids) / TICKS

    def counters(self):
        """Per node, its /metrics counters (submitted, dispatched, redelivered)."""
        return [node_counters(node.url) for node in self.nodes]

    def completed(self):
        """Requests stored as completed (the store every node shares)."""
        for line in requests.get(self.nodes[0].url + "/metrics", timeout=10).text.splitlines():
            if line.startswith('spaces_requests{status="completed"} '):
                return int(float(line.rsplit(" ", 1)[1]))
        raise RuntimeError("no completed count in /metrics")

    def postgres_cpu_seconds(self):
        return self.postgres.backend_cpu_seconds() if self.postgres else 0.0

    def backlog(self):
        """Requests queued or held by workers, over every node (/metrics)."""
        total = 0
        for node in self.nodes:
            text = requests.get(node.url + "/metrics", timeout=10).text
            for line in text.splitlines():
                if line.startswith(("spaces_queue_depth{", "spaces_processing{")):
                    total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def stop(self):
        if self.proxy:
            self.proxy.stop()
        for node in self.nodes:
            node.stop()
        if self.redis:
            self.redis.stop()
            shutil.rmtree(self.redis.dir, ignore_errors=True)
        if self.postgres:
            self.postgres.destroy()
        shutil.rmtree(self.folder, ignore_errors=True)


def admin_session(front):
    session = requests.Session()
    answer = session.post(front + "/login", data={"username": "admin", "password": "admin-secret-pw"},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return session


def create_space(front, session):
    name = f"bench-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    data = {"name": name, "description": "benchmark", "card_type": "websockets", "ws_enable_prompt": "on",
            "ws_rate_limit_seconds": "0", "max_concurrency": "8"}
    answer = session.post(front + "/admin/space/add", data=data, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return int(answer.headers["Location"].rsplit("/", 1)[1]), name


def workers_of(front, session, space_id):
    body = session.get(front + "/admin/websockets/status", timeout=10).json()
    return next(space for space in body["all_spaces"] if space["space_id"] == space_id).get("worker_count", 0)


def run_load(args, setup, space_id, cookie, requests_count, rate=0, out=None):
    """spaces_load against the front; returns its JSON line plus its own CPU seconds."""
    port = int(setup.front.rsplit(":", 1)[1])
    command = [args.load, "--port", str(port), "--space", str(space_id), "--cookie", cookie,
               "--requests", str(requests_count), "--users", str(args.users), "--reads", "2"]
    if rate:
        command += ["--rate", str(rate)]
    if out:
        command += ["--out", out]
    if setup.sources:
        command += ["--source-addrs", ",".join(setup.sources)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"spaces_load failed ({proc.returncode}): {output}")
    result = json.loads(output)
    result["load_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def wait_drained(setup, timeout=120):
    wait_until(lambda: setup.backlog() == 0, timeout=timeout, interval=0.05, what="every request completed")


def split_and_check(setup, counters_before, completed_before, result):
    """Per node, the submits it accepted and the deliveries it made since `counters_before`; raises unless every
    accepted submit was delivered once, none redelivered, and each completed."""
    after = setup.counters()
    per_node = [{"submitted": a["spaces_requests_submitted_total"] - b["spaces_requests_submitted_total"],
                 "dispatched": a["spaces_requests_dispatched_total"] - b["spaces_requests_dispatched_total"],
                 "redelivered": a["spaces_requests_redelivered_total"] - b["spaces_requests_redelivered_total"]}
                for a, b in zip(after, counters_before)]
    submits = result["submits"]
    completed = setup.completed() - completed_before
    totals = {key: sum(node[key] for node in per_node) for key in ("submitted", "dispatched", "redelivered")}
    if (totals["submitted"], totals["dispatched"], totals["redelivered"], completed, result["failures"]) != \
            (submits, submits, 0, submits, 0):
        raise RuntimeError(f"{submits} submits, {result['failures']} failures, {completed} completed, per node: "
                           f"{per_node}")
    return per_node


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def throughput(args, setup, space_id, name, cookie, session):
    worker_log = open(os.path.join(setup.folder, "spaces-worker.log"), "w")
    worker = subprocess.Popen([os.path.join(args.bin, "spaces-worker"), "--host", setup.worker_url, "--spaces", name,
                               "--concurrency", "8", "--delay", "0", "--transports", "websocket"],
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: workers_of(setup.front, session, space_id) == 1, timeout=30, what="spaces-worker registered")
        run_load(args, setup, space_id, cookie, max(200, args.requests // 10))  # warm-up
        wait_drained(setup)
        counters_before, completed_before = setup.counters(), setup.completed()
        cpu_before, pg_before, worker_before = setup.cpu_seconds(), setup.postgres_cpu_seconds(), process_cpu_ticks(worker.pid)
        nginx_before = setup.nginx_cpu_seconds()
        result = run_load(args, setup, space_id, cookie, args.requests)
        wait_drained(setup)
        cpu = setup.cpu_seconds() - cpu_before
        submits = result["submits"]
        result.update({
            "per_node": split_and_check(setup, counters_before, completed_before, result),
            "server_cpu_us_per_request": cpu / submits * 1e6,
            "nginx_cpu_us_per_request": (setup.nginx_cpu_seconds() - nginx_before) / submits * 1e6,
            "postgres_cpu_us_per_request": (setup.postgres_cpu_seconds() - pg_before) / submits * 1e6,
            "worker_cpu_us_per_request": (process_cpu_ticks(worker.pid) - worker_before) / TICKS / submits * 1e6,
            "load_cpu_us_per_request": result["load_cpu_seconds"] / submits * 1e6,
        })
        return result
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
        worker_log.close()


def latency(args, setup, space_id, name, cookie, session):
    wait_until(lambda: workers_of(setup.front, session, space_id) == 0, timeout=30, what="spaces-worker gone")
    arrivals_path = os.path.join(setup.folder, "arrivals.txt")
    sent_path = os.path.join(setup.folder, "sent.txt")
    worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "Benchmarks", "spaces_latency_worker.py"),
                               setup.worker_url, name, arrivals_path], stdout=subprocess.PIPE, text=True)
    try:
        line = worker.stdout.readline()
        if "registered" not in line:
            raise RuntimeError(f"latency worker: {line!r}")
        run_load(args, setup, space_id, cookie, 300)  # warm-up
        wait_drained(setup)
        counters_before, completed_before = setup.counters(), setup.completed()
        result = run_load(args, setup, space_id, cookie, args.latency_requests, rate=args.rate, out=sent_path)
        wait_drained(setup)
        per_node = split_and_check(setup, counters_before, completed_before, result)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    sent = dict(line.split() for line in open(sent_path))
    arrivals = [line.split() for line in open(arrivals_path)]
    delays = [(int(micros) - int(sent[request_id])) / 1000 for request_id, micros in arrivals if request_id in sent]
    if len(delays) != result["submits"] or len({request_id for request_id, _ in arrivals if request_id in sent}) != len(delays):
        raise RuntimeError(f"{result['submits']} submits but {len(delays)} arrivals at the worker (or some twice)")
    return {"submits": result["submits"], "failures": result["failures"], "rate": args.rate, "per_node": per_node,
            "achieved_rate": result["submits_per_second"],
            "p50_ms": statistics.median(delays), "p99_ms": percentile(delays, 0.99), "max_ms": max(delays)}


def run_setup(args, name):
    log(f"{name}: starting")
    setup = Setup(name, args.bin).start(args.users)
    try:
        if setup.sources:
            log(f"{name}: users' source addresses {','.join(setup.sources)}; worker on {setup.worker_url}")
        session = admin_session(setup.front)
        cookie = "spaces_session=" + session.cookies["spaces_session"]
        space_id, space_name = create_space(setup.front, session)
        log(f"{name}: throughput, {args.requests} requests from {args.users} users")
        figures = {"throughput": throughput(args, setup, space_id, space_name, cookie, session)}
        log(f"{name}: latency at {args.rate} requests/s")
        figures["latency"] = latency(args, setup, space_id, space_name, cookie, session)
        return figures
    finally:
        setup.stop()


def report(results):
    sqlite_cpu = results.get("sqlite", {}).get("throughput", {}).get("server_cpu_us_per_request")
    rows = []
    for name, figures in results.items():
        t, lat = figures["throughput"], figures["latency"]
        cpu = t["server_cpu_us_per_request"]
        if name == "sqlite":
            cpu_target = f"<= 300 µs: {'met' if cpu <= 300 else 'MISSED'}"
            rate_target = f">= 3,000/s: {'met' if t['submits_per_second'] >= 3000 else 'MISSED'}"
        else:
            cpu_target = (f"<= 2x SQLite ({2 * sqlite_cpu:.0f} µs): {'met' if cpu <= 2 * sqlite_cpu else 'MISSED'}"
                          if sqlite_cpu else "<= 2x SQLite (no SQLite run)")
            rate_target = ""
        p99_target = f"<= 10 ms: {'met' if lat['p99_ms'] <= 10 else 'MISSED'}"
        nodes = "all nodes, " if len(t["per_node"]) > 1 else ""
        nginx = f"nginx {t['nginx_cpu_us_per_request']:.0f} µs, " if len(t["per_node"]) > 1 else ""
        rows.append(f"{name:9} server CPU {cpu:7.0f} µs/request ({nodes}{cpu_target}); PostgreSQL "
                    f"{t['postgres_cpu_us_per_request']:.0f} µs, {nginx}worker {t['worker_cpu_us_per_request']:.0f} µs, "
                    f"load generator {t['load_cpu_us_per_request']:.0f} µs")
        if len(t["per_node"]) > 1:
            rows.append(f"{'':9} per node, submitted/dispatched: throughput " + ", ".join(
                f"{n['submitted']}/{n['dispatched']}" for n in t["per_node"]) + "; latency " + ", ".join(
                f"{n['submitted']}/{n['dispatched']}" for n in lat["per_node"]))
        rows.append(f"{'':9} {t['submits_per_second']:7.0f} requests/s {rate_target} ({t['http_per_second']:.0f} HTTP "
                    f"requests/s, {t['submits']} submits, {t['failures']} failures)")
        rows.append(f"{'':9} dispatch at {lat['achieved_rate']:.0f}/s: p50 {lat['p50_ms']:.2f} ms, p99 "
                    f"{lat['p99_ms']:.2f} ms ({p99_target}), max {lat['max_ms']:.2f} ms")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--load", default=os.path.join(ROOT, ".build", "spaces_load", "spaces_load"))
    parser.add_argument("--setups", default="sqlite,postgres,cluster")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--latency-requests", type=int, default=3000)
    args = parser.parse_args()
    results = {}
    failed = False
    for name in args.setups.split(","):
        try:
            results[name] = run_setup(args, name)
        except Exception as error:  # noqa: BLE001 - report and go on with the next setup
            log(f"{name}: failed: {error}")
            failed = True
    print(report(results))
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(ROOT, "bench-results", f"spaces-{stamp}.json"), "w") as out:
        json.dump(results, out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
