#!/usr/bin/env python3
"""Instructions and syscalls per request of `spaces-worker` (the bench-spaces echo worker), counted not timed.

    python Benchmarks/spaces_worker_callgrind.py --bin .build/release --load .build/spaces_load/spaces_load
                                                [--requests 600] [--users 16] [--keep DIR] [--strace]

`spaces` (SQLite, release) runs natively; spaces-worker (concurrency 8, --delay 0, WebSocket) runs under
`valgrind --tool=callgrind`, or under `strace -c -f` with --strace. A warm-up run of spaces_load, then the counters
are zeroed (`callgrind_control -z`), a measured run follows, the server waits until every request completed, and
the counters are dumped (`-d`). Prints the worker's instructions (Ir) per request (or its syscalls per request).
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Cluster"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
from callgrind_costs import total_ir  # noqa: E402
from cluster_support import wait_until  # noqa: E402
from spaces_bench import admin_session, create_space, run_load, workers_of  # noqa: E402
from spaces_callgrind import Front, backlog  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--load", default=os.path.join(ROOT, ".build", "spaces_load", "spaces_load"))
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--keep", help="folder for the callgrind files (default: a temporary one)")
    parser.add_argument("--strace", action="store_true", help="count syscalls (strace -c -f) instead of instructions")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="spaces-worker-callgrind-")
    os.makedirs(folder, exist_ok=True)
    os.environ["SPACES_BIN"] = os.path.join(args.bin, "spaces")
    from spaces_e2e_test import Spaces
    node = Spaces(os.path.join(folder, "data")).start()
    worker = None
    try:
        setup = Front(node.port)
        session = admin_session(setup.front)
        cookie = "spaces_session=" + session.cookies["spaces_session"]
        space_id, name = create_space(setup.front, session)
        worker_command = [os.path.join(args.bin, "spaces-worker"), "--host", setup.front, "--spaces", name,
                          "--concurrency", "8", "--delay", "0", "--transports", "websocket"]
        out = os.path.join(folder, "worker.cg" if not args.strace else "worker.strace")
        env = dict(os.environ)
        if args.strace:
            prefix = ["strace", "-c", "-f", "-o", out]
        else:
            # valgrind 3.19 dies in the sigsuspend an async main parks in: a shim hands it a writable mask.
            shim = os.path.join(folder, "valgrind_sigsuspend.so")
            subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim,
                            os.path.join(ROOT, "Benchmarks", "valgrind_sigsuspend.c")], check=True)
            env["LD_PRELOAD"] = shim
            prefix = ["valgrind", "--tool=callgrind", "--compress-strings=no", f"--callgrind-out-file={out}.%p"]
        worker = subprocess.Popen(prefix + worker_command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=env, start_new_session=True)
        wait_until(lambda: workers_of(setup.front, session, space_id) == 1, timeout=120, what="worker registered")
        run_load(args, setup, space_id, cookie, 200)
        wait_until(lambda: backlog(setup.front) == 0, timeout=300, interval=0.2, what="warm-up drained")
        if args.strace:
            # strace -c counts from the start: the warm-up's requests are counted in, and so is the connection setup.
            result = run_load(args, setup, space_id, cookie, args.requests)
            wait_until(lambda: backlog(setup.front) == 0, timeout=300, interval=0.5, what="measured run drained")
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
            worker = None
            print(open(out).read())
            # Rows: % time, seconds, usecs/call, calls, [errors,] syscall; the last row is the total.
            rows = [line.split() for line in open(out)]
            total = sum(int(row[3]) for row in rows
                        if len(row) >= 5 and row[0][0].isdigit() and row[-1] != "total")
            print(f"spaces-worker: {total} syscalls over {200 + result['submits']} requests "
                  f"(warm-up included): {total / (200 + result['submits']):.1f} per request", flush=True)
            return
        pid = worker.pid
        subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, timeout=120)
        result = run_load(args, setup, space_id, cookie, args.requests)
        wait_until(lambda: backlog(setup.front) == 0, timeout=300, interval=0.5, what="measured run drained")
        subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True, timeout=120)
        dumps = glob.glob(f"{out}.{pid}.1")
        if not dumps:
            raise RuntimeError("no callgrind dump")
        ir = total_ir(dumps[0])
        submits = result["submits"]
        print(f"spaces-worker: {ir / submits:,.0f} Ir per request ({submits} submits, {result['failures']} "
              f"failures, Ir {ir}); dump {dumps[0]}", flush=True)
    finally:
        if worker:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        node.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
