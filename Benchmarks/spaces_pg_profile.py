#!/usr/bin/env python3
"""What one request costs `spaces` on PostgreSQL, counted rather than timed (the bench-spaces traffic).

    python Benchmarks/spaces_pg_profile.py --bin .build/release --load .build/spaces_load/spaces_load
                                           [--requests 1000] [--users 16] [--keep DIR]

One node on a PostgreSQL of its own started with pg_stat_statements; spaces-worker (concurrency 8) answers.
After a warm-up run the statistics are reset, a measured run of spaces_load follows (each submit plus two status
reads), and once every request completed the script prints, per request: the statements the node ran (calls and
the server's execution time of each, from pg_stat_statements), their total (one round trip each: the store sends
one statement per call, transactions aside), and the CPU of the node and of every PostgreSQL process (utime +
stime). Statement counts do not depend on what else runs on the machine; CPU times do (the load average is shown).
With perf(1) installed it also counts the node's system calls and context switches per request (counts, not times:
each round trip to PostgreSQL and each hop between threads shows there).
"""
import argparse
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
from cluster_support import process_cpu_ticks, wait_until  # noqa: E402
from postgres_server import BIN, PostgresServer  # noqa: E402
from spaces_bench import admin_session, create_space, run_load, workers_of  # noqa: E402
from spaces_e2e_test import ADMIN_PASSWORD  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def psql(server, database, sql):
    """Runs `sql` as the superuser; returns its rows, fields separated by tabs."""
    answer = subprocess.run([os.path.join(BIN, "psql"), "-h", server.directory, "-p", str(server.port), "-U", "postgres",
                             "-d", database, "-AtF", "\t", "-c", sql], check=True, capture_output=True, text=True,
                            env=dict(os.environ, PGPASSWORD=server.password))
    return [line.split("\t") for line in answer.stdout.splitlines() if line]


def commits_and_wal_flushes(server, database):
    """Transactions committed in `database` and WAL fsyncs of the whole server so far. Backends report their
    counts at most once a second, hence the pause first."""
    time.sleep(2)
    row = psql(server, database, """
        SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
               (SELECT wal_sync FROM pg_stat_wal)""")[0]
    return int(row[0]), int(row[1])


def queued_or_held(front):
    total = 0
    for line in requests.get(front + "/metrics", timeout=60).text.splitlines():
        if line.startswith(("spaces_queue_depth{", "spaces_processing{")):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


class Front:
    """The part of a bench setup that `run_load` reads."""

    def __init__(self, port):
        self.front = f"http://127.0.0.1:{port}"
        self.sources = None  # users connect from 127.0.0.1


PERF_EVENTS = ("raw_syscalls:sys_enter", "context-switches")


def start_perf(pid):
    """`perf stat` counting the events of PERF_EVENTS in every thread of `pid` (None without perf)."""
    if not shutil.which("perf"):
        return None
    return subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop_perf(perf):
    """The counts `perf stat` reports once interrupted: event name -> count."""
    if perf is None:
        return {}
    perf.send_signal(signal.SIGINT)
    _, report = perf.communicate(timeout=60)
    counts = {}
    for line in report.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] in PERF_EVENTS and fields[0].isdigit():
            counts[fields[2]] = int(fields[0])
    return counts


def start_node(args, folder, database):
    env = dict(os.environ, SPACES_ADMIN_PASSWORD=ADMIN_PASSWORD, SPACES_PBKDF2_ITERATIONS="1000", SPACES_LOOPS="2")
    command = [os.path.join(args.bin, "spaces"), "--port", "0", "--host", "127.0.0.1",
               "--data-dir", os.path.join(folder, "data"), "--database", database]
    return launch_node(command, env, folder)


def launch_node(command, env, folder):
    """Starts `command` (spaces, maybe under valgrind) with its stderr in folder/spaces.log; returns the process
    and the port it reports once it listens."""
    with open(os.path.join(folder, "spaces.log"), "w") as log:
        node = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = node.stdout.readline()
        if not line:
            with open(os.path.join(folder, "spaces.log")) as log:
                raise RuntimeError("spaces exited early: " + log.read()[-2000:])
        match = re.search(r"listening on port (\d+)", line)
        if match:
            return node, int(match.group(1))
    raise RuntimeError("spaces did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--load", default=os.path.join(ROOT, ".build", "spaces_load", "spaces_load"))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--keep", help="folder for the node's data and log (default: a temporary one)")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="spaces-pg-profile-")
    os.makedirs(folder, exist_ok=True)
    server = PostgresServer().start()
    node = worker = None
    try:
        psql(server, "postgres", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        database = server.create_database()
        name = database.rsplit("/", 1)[1]
        psql(server, name, "CREATE EXTENSION pg_stat_statements")
        node, port = start_node(args, folder, database)
        setup = Front(port)
        session = admin_session(setup.front)
        cookie = "spaces_session=" + session.cookies["spaces_session"]
        space_id, space_name = create_space(setup.front, session)
        worker = subprocess.Popen([os.path.join(args.bin, "spaces-worker"), "--host", setup.front, "--spaces", space_name,
                                   "--concurrency", "8", "--delay", "0", "--transports", "websocket"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: workers_of(setup.front, session, space_id) == 1, timeout=120, what="worker registered")
        run_load(args, setup, space_id, cookie, 200)
        wait_until(lambda: queued_or_held(setup.front) == 0, timeout=300, interval=0.2, what="warm-up drained")
        psql(server, name, "SELECT pg_stat_statements_reset()")
        commits_before, flushes_before = commits_and_wal_flushes(server, name)
        node_before, pg_before = process_cpu_ticks(node.pid) / TICKS, server.backend_cpu_seconds()
        load_before = os.getloadavg()[0]
        perf = start_perf(node.pid)
        result = run_load(args, setup, space_id, cookie, args.requests)
        wait_until(lambda: queued_or_held(setup.front) == 0, timeout=300, interval=0.5, what="measured run drained")
        node_cpu = process_cpu_ticks(node.pid) / TICKS - node_before
        kernel_counts = stop_perf(perf)
        pg_cpu = server.backend_cpu_seconds() - pg_before
        submits = result["submits"]
        rows = psql(server, name, """
            SELECT calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC""")
        print(f"{submits} submits ({result['failures']} failures, {result['submits_per_second']} per second), {args.users} users, load average "
              f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}")
        total_calls = 0
        for calls, exec_ms, query in rows:
            per = int(calls) / submits
            total_calls += int(calls)
            if per >= 0.01:
                print(f"  {per:6.2f} calls  {float(exec_ms) * 1000 / int(calls):7.1f} us exec  {query[:110]}")
        print(f"statements per request: {total_calls / submits:.2f} (the /metrics polls of this script included)")
        commits, flushes = (after - before for after, before in
                            zip(commits_and_wal_flushes(server, name), (commits_before, flushes_before)))
        print(f"commits per request: {commits / submits:.2f} (read-only ones included); WAL flushes (fdatasync) per "
              f"request: {flushes / submits:.2f} (a synchronous commit waits for one; the WAL writer's count too)")
        for event, count in kernel_counts.items():
            print(f"{event} of spaces per request: {count / submits:.1f}")
        print(f"CPU per request: spaces {node_cpu / submits * 1e6:,.0f} us, PostgreSQL processes "
              f"{pg_cpu / submits * 1e6:,.0f} us")
    finally:
        if worker:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        if node:
            os.killpg(node.pid, signal.SIGTERM)
            try:
                node.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
        server.destroy()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
