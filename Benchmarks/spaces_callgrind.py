#!/usr/bin/env python3
"""Instructions per request of `spaces` under callgrind (the bench-spaces traffic, counted not timed).

    python Benchmarks/spaces_callgrind.py --bin .build/release --load .build/spaces_load/spaces_load
                                         [--requests 600] [--users 16] [--keep DIR] [--postgres]

`spaces` runs under `valgrind --tool=callgrind`; spaces-worker (concurrency 8, outside valgrind) answers. A warm-up
run of spaces_load, then the counters are zeroed (`callgrind_control -z`), a measured run follows (each submit plus
two status reads), the server waits until every request completed, and the counters are dumped (`-d`). Prints the
server's instructions (Ir) per request: submit, dispatch, result and the two status reads. Unlike CPU time on a
shared machine, the count does not depend on what else runs, so a change shows as a change of a few percent.
The node stores on SQLite, or with --postgres on a PostgreSQL of its own (its processes are not counted).
"""
import argparse
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Cluster"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
from callgrind_costs import total_ir  # noqa: E402
from cluster_support import wait_until  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402
from spaces_bench import admin_session, create_space, run_load, workers_of  # noqa: E402
from spaces_e2e_test import ADMIN_PASSWORD  # noqa: E402

import requests  # noqa: E402


class Front:
    """What spaces_bench's run_load needs of a setup."""

    def __init__(self, port):
        self.front = f"http://127.0.0.1:{port}"


def backlog(front):
    total = 0
    for line in requests.get(front + "/metrics", timeout=60).text.splitlines():
        if line.startswith(("spaces_queue_depth{", "spaces_processing{")):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--load", default=os.path.join(ROOT, ".build", "spaces_load", "spaces_load"))
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--keep", help="folder for the callgrind files (default: a temporary one)")
    parser.add_argument("--postgres", action="store_true", help="store on a PostgreSQL started for the run")
    args = parser.parse_args()
    postgres = PostgresServer().start() if args.postgres else None
    try:
        measure(args, postgres)
    finally:
        if postgres:
            postgres.destroy()


def measure(args, postgres):
    folder = args.keep or tempfile.mkdtemp(prefix="spaces-callgrind-")
    os.makedirs(folder, exist_ok=True)
    out = os.path.join(folder, "spaces.cg")
    # valgrind 3.19 dies in the sigsuspend an async main parks in: a shim hands it a writable mask.
    shim = os.path.join(folder, "valgrind_sigsuspend.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim,
                    os.path.join(ROOT, "Benchmarks", "valgrind_sigsuspend.c")], check=True)
    env = dict(os.environ, SPACES_ADMIN_PASSWORD=ADMIN_PASSWORD, SPACES_PBKDF2_ITERATIONS="1000", SPACES_LOOPS="2",
               LD_PRELOAD=shim)
    command = ["valgrind", "--tool=callgrind", "--compress-strings=no", f"--callgrind-out-file={out}.%p",
               os.path.join(args.bin, "spaces"), "--port", "0", "--host", "127.0.0.1",
               "--data-dir", os.path.join(folder, "data")]
    if postgres:
        command += ["--database", postgres.create_database()]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                              start_new_session=True)
    worker = None
    try:
        port = None
        deadline = time.monotonic() + 300
        while port is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("spaces exited early")
            match = re.search(r"listening on port (\d+)", line)
            port = int(match.group(1)) if match else None
        setup = Front(port)
        session = admin_session(setup.front)
        cookie = "spaces_session=" + session.cookies["spaces_session"]
        space_id, name = create_space(setup.front, session)
        worker = subprocess.Popen([os.path.join(args.bin, "spaces-worker"), "--host", setup.front, "--spaces", name,
                                   "--concurrency", "8", "--delay", "0", "--transports", "websocket"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: workers_of(setup.front, session, space_id) == 1, timeout=120, what="worker registered")
        run_load(args, setup, space_id, cookie, 200)
        wait_until(lambda: backlog(setup.front) == 0, timeout=300, interval=0.2, what="warm-up drained")
        subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True, timeout=120)
        result = run_load(args, setup, space_id, cookie, args.requests)
        # The last results arrive after the last status read; polling /metrics costs a little, counted too.
        wait_until(lambda: backlog(setup.front) == 0, timeout=300, interval=0.5, what="measured run drained")
        subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True, timeout=120)
        dumps = glob.glob(f"{out}.{server.pid}.1")
        if not dumps:
            raise RuntimeError("no callgrind dump")
        ir = total_ir(dumps[0])
        submits = result["submits"]
        backend = "PostgreSQL" if postgres else "SQLite"
        print(f"spaces on {backend}: {ir / submits:,.0f} Ir per request ({submits} submits, {result['failures']} "
              f"failures, Ir {ir}); dump {dumps[0]}", flush=True)
    finally:
        if worker:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


if __name__ == "__main__":
    main()
