#!/usr/bin/env python3
"""What one request costs `spaces` on PostgreSQL with one or two nodes, counted rather than timed.

    python Benchmarks/spaces_cluster_profile.py --bin .build/release --load .build/spaces_load/spaces_load
                                               [--setup cluster|cluster1|postgres] [--callgrind]
                                               [--requests 600] [--users 16] [--keep DIR]

Setups (the bench-spaces traffic: spaces-worker at concurrency 8, each submit followed by two status reads):
  cluster   two nodes on PostgreSQL with Redis and a shared uploads folder, behind nginx (deploy/nginx.conf), as
            `spaces_bench.py --setups cluster` runs them: users spread over both nodes by their source addresses,
            the worker on the second node (directly), so half the requests cross from one node to the other;
  cluster1  the same with one node, users and worker on it (what the second node adds is `cluster` minus this);
  postgres  one node on PostgreSQL, no Redis, no nginx (as `--setups postgres`).

After a warm-up run every counter is reset, a measured run follows, and once every request completed the script
prints, per request: the statements of every node (pg_stat_statements; those that may NOTIFY are the `pg_notify`
and `NOTIFY` rows), the Redis commands (INFO commandstats), and per node its system calls (perf stat tracepoints: accepts,
reads, writes, epoll waits, futex wakes) and, with --callgrind (nodes under valgrind), its instructions. These
counts do not depend on what else runs on the machine; the CPU times printed beside them do.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Cluster"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
from callgrind_costs import total_ir  # noqa: E402
from cluster_support import Redis, process_cpu_ticks, wait_until  # noqa: E402
from nginx_support import Nginx  # noqa: E402
from spaces_bench import admin_session, create_space, run_load, workers_of  # noqa: E402
from spaces_e2e_test import ADMIN_PASSWORD  # noqa: E402
from spaces_pg_profile import launch_node, psql  # noqa: E402
from spaces_sources import node_counters, spread_sources  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SYSCALLS = ["accept4", "read", "recvfrom", "write", "writev", "sendto", "sendmsg", "epoll_wait", "futex"]


class Front:
    """The part of a bench setup that `run_load` reads."""

    def __init__(self, url, sources=None):
        self.front = url
        self.sources = sources


def start_node(args, folder, database, env_extra, shim):
    os.makedirs(folder, exist_ok=True)
    env = dict(os.environ, SPACES_ADMIN_PASSWORD=ADMIN_PASSWORD, SPACES_PBKDF2_ITERATIONS="1000", SPACES_LOOPS="2",
               **env_extra)
    command = [os.path.join(args.bin, "spaces"), "--port", "0", "--host", "127.0.0.1",
               "--data-dir", os.path.join(folder, "data"), "--database", database]
    if args.callgrind:
        env["LD_PRELOAD"] = shim
        command = ["valgrind", "--tool=callgrind", "--compress-strings=no",
                   f"--callgrind-out-file={folder}/spaces.cg.%p"] + command
    return launch_node(command, env, folder)


def backlog(urls):
    total = 0
    for url in urls:
        for line in requests.get(url + "/metrics", timeout=60).text.splitlines():
            if line.startswith(("spaces_queue_depth{", "spaces_processing{")):
                total += int(float(line.rsplit(" ", 1)[1]))
    return total


def redis_commandstats(redis):
    """{command: calls} from INFO commandstats."""
    stats = {}
    for line in redis.command("INFO", "commandstats").splitlines():
        match = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if match:
            stats[match.group(1)] = int(match.group(2))
    return stats


def start_perf(pid, path):
    events = ",".join(f"syscalls:sys_enter_{name}" for name in SYSCALLS)
    return subprocess.Popen(["perf", "stat", "-x", ",", "-o", path, "-e", events, "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_perf(proc, path):
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[2].startswith("syscalls:sys_enter_"):
                counts[fields[2][len("syscalls:sys_enter_"):]] = int(fields[0]) if fields[0].isdigit() else 0
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--load", default=os.path.join(ROOT, ".build", "spaces_load", "spaces_load"))
    parser.add_argument("--setup", choices=["cluster", "cluster1", "postgres"], default="cluster")
    parser.add_argument("--callgrind", action="store_true", help="run the nodes under callgrind (instructions)")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--nginx-config", default=os.path.join(ROOT, "deploy", "nginx.conf"))
    parser.add_argument("--keep", help="folder for the nodes' data, logs and callgrind files")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="spaces-cluster-profile-")
    os.makedirs(folder, exist_ok=True)
    shim = os.path.join(folder, "valgrind_sigsuspend.so")
    if args.callgrind:
        # valgrind 3.19 dies in the sigsuspend an async main parks in: a shim hands it a writable mask.
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim,
                        os.path.join(ROOT, "Benchmarks", "valgrind_sigsuspend.c")], check=True)
    count = 2 if args.setup == "cluster" else 1
    server = PostgresServer().start()
    redis = proxy = worker = None
    nodes = []
    try:
        psql(server, "postgres", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        database = server.create_database()
        name = database.rsplit("/", 1)[1]
        psql(server, name, "CREATE EXTENSION pg_stat_statements")
        env = {}
        if args.setup != "postgres":
            redis = Redis().start()
            env = {"SPACES_REDIS": redis.url, "SPACES_TRUST_PROXY": "1",
                   "SPACES_UPLOADS_DIR": os.path.join(folder, "shared", "uploads"),
                   "SPACES_SESSION_KEY": os.path.join(folder, "shared", "session.key")}
        for index in range(count):
            nodes.append(start_node(args, os.path.join(folder, f"node{index}"), database, env, shim))
        urls = [f"http://127.0.0.1:{port}" for _, port in nodes]
        if args.setup == "postgres":
            front = urls[0]
        else:
            proxy = Nginx(args.nginx_config, [port for _, port in nodes])
            front = proxy.url
        # Two nodes: users spread over both by their source addresses, the worker on the second node.
        sources = spread_sources(front, urls, args.users) if count > 1 else None
        worker_url = urls[-1] if count > 1 else front
        setup = Front(front, sources)
        session = admin_session(front)
        cookie = "spaces_session=" + session.cookies["spaces_session"]
        space_id, space_name = create_space(front, session)
        worker = subprocess.Popen([os.path.join(args.bin, "spaces-worker"), "--host", worker_url, "--spaces", space_name,
                                   "--concurrency", "8", "--delay", "0", "--transports", "websocket"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: workers_of(front, session, space_id) == 1, timeout=120, what="worker registered")
        run_load(args, setup, space_id, cookie, 200)
        wait_until(lambda: backlog(urls) == 0, timeout=300, interval=0.2, what="warm-up drained")
        psql(server, name, "SELECT pg_stat_statements_reset()")
        if redis:
            redis.command("CONFIG", "RESETSTAT")
        for proc, _ in nodes:
            if args.callgrind:
                subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, timeout=120)
        perfs = [start_perf(proc.pid, os.path.join(folder, f"perf{index}.txt")) for index, (proc, _) in enumerate(nodes)]
        time.sleep(0.5)
        counters_before = [node_counters(url) for url in urls]
        cpu_before = [process_cpu_ticks(proc.pid) for proc, _ in nodes]
        load_before = os.getloadavg()[0]
        result = run_load(args, setup, space_id, cookie, args.requests)
        # Polled directly (not through nginx, which would count as accepts) and not too often.
        wait_until(lambda: backlog(urls) == 0, timeout=300, interval=0.5, what="measured run drained")
        cpu = [(process_cpu_ticks(proc.pid) - before) / TICKS for (proc, _), before in zip(nodes, cpu_before)]
        syscalls = [stop_perf(perf, os.path.join(folder, f"perf{index}.txt")) for index, perf in enumerate(perfs)]
        submits = result["submits"]
        counters = [{name: value - before[name] for name, value in node_counters(url).items()}
                    for url, before in zip(urls, counters_before)]
        irs = []
        if args.callgrind:
            for index, (proc, _) in enumerate(nodes):
                subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, timeout=120)
                dumps = glob.glob(os.path.join(folder, f"node{index}", f"spaces.cg.{proc.pid}.1"))
                irs.append(total_ir(dumps[0]) if dumps else 0)
        print(f"setup {args.setup}: {submits} submits ({result['failures']} failures, {result['submits_per_second']} "
              f"per second), {args.users} users, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
        for index in range(count):
            line = (f"  node{index}: submitted {counters[index]['spaces_requests_submitted_total']}, dispatched "
                    f"{counters[index]['spaces_requests_dispatched_total']}, redelivered "
                    f"{counters[index]['spaces_requests_redelivered_total']}; CPU")
            line += f" {cpu[index] / submits * 1e6:,.0f} us/request"
            if irs:
                line += f", {irs[index] / submits:,.0f} Ir/request"
            line += "; syscalls/request: " + ", ".join(
                f"{name} {syscalls[index].get(name, 0) / submits:.2f}" for name in SYSCALLS)
            print(line)
        if irs:
            print(f"  instructions, all nodes: {sum(irs) / submits:,.0f} Ir/request")
        rows = psql(server, name, """
            SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC""")
        total = notifies = 0
        for calls, query in rows:
            total += int(calls)
            if "pg_notify" in query or query.upper().startswith("NOTIFY"):
                notifies += int(calls)
            if int(calls) / submits >= 0.01:
                print(f"  {int(calls) / submits:6.2f} calls  {query[:120]}")
        print(f"  statements/request (all nodes, this script's /metrics polls included): {total / submits:.2f}; "
              f"statements that may NOTIFY: {notifies / submits:.2f} (the submit's INSERT notifies only when queued and "
              f"another node has a worker; the idle node's recvfrom counts the wake-ups it got)")
        if redis:
            stats = redis_commandstats(redis)
            print("  redis commands/request: " + ", ".join(
                f"{command} {calls / submits:.2f}" for command, calls in sorted(stats.items(), key=lambda kv: -kv[1])
                if command not in ("info", "config|resetstat")))
    finally:
        if worker:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        if proxy:
            proxy.stop()
        for proc, _ in nodes:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if redis:
            redis.stop()
            shutil.rmtree(redis.dir, ignore_errors=True)
        server.destroy()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
