"""Server CPU per request of SpacesApp on SQLite and on PostgreSQL (issue 14, "Two store backends").

For each backend: `spaces` on a free port (SQLite in a temporary data folder, or `--database postgres://...` on a
PostgreSQL 15 server started in a temporary folder), one python-socketio echo worker at concurrency 8, and USERS
threads that each submit, read the status twice, and at the end wait for every request to complete. Reported:
CPU seconds (user + system, from /proc) of `spaces` and, for PostgreSQL, of the database server's processes,
divided by the number of requests; and the requests per second the run reached.

Usage: python Benchmarks/spaces_store_bench.py [--bin .build/release] [--requests 2000] [--users 16]
"""
import argparse
import asyncio
import concurrent.futures
import os
import sys
import tempfile
import threading
import time

import requests
import socketio

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Tests", "Interop"))
from postgres_server import PostgresServer  # noqa: E402
from spaces_e2e_test import Spaces, create_space, login, new_user, status  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class EchoWorker:
    """An asyncio python-socketio worker that answers every request at once, up to 8 at a time."""

    def __init__(self, url, space):
        self.url, self.space = url, space
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.main()), daemon=True)

    async def main(self):
        client = socketio.AsyncClient()
        self.stop_event = asyncio.Event()
        self.loop = asyncio.get_running_loop()

        @client.on("register_response")
        async def registered(data):
            if data.get("success"):
                self.ready.set()

        @client.on("inference_request")
        async def request(data):
            await client.emit("inference_result", {"request_id": data["request_id"], "status": "completed",
                                                   "result": {"text_output": "echo: " + data["payload"]["prompt"]}})

        await client.connect(self.url, transports=["websocket"])
        await client.emit("register", {"space_name": self.space, "concurrency": 8})
        await self.stop_event.wait()
        await client.disconnect()

    def start(self):
        self.thread.start()
        assert self.ready.wait(10), "worker did not register"
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)


def run(backend, args, postgres):
    data_dir = tempfile.mkdtemp(prefix=f"spaces-bench-{backend}-")
    database = postgres.create_database() if postgres else None
    os.environ["SPACES_BIN"] = os.path.join(args.bin, "spaces")
    spaces = Spaces(data_dir, database=database).start()
    try:
        space_id, name = create_space(spaces, max_concurrency="8")
        worker = EchoWorker(spaces.url, name).start()
        users = [new_user(spaces) for _ in range(args.users)]
        per_user = args.requests // args.users

        def user_load(session):
            ids = []
            for i in range(per_user):
                answer = session.post(f"{spaces.url}/websockets/submit/{space_id}", data={"prompt": f"p{i}"})
                assert answer.status_code == 200, answer.text
                request_id = answer.json()["request_id"]
                ids.append(request_id)
                for _ in range(2):
                    assert status(session, spaces, request_id).status_code == 200
            return session, ids

        # Warm-up (connections, statement caches), not measured.
        for session in users[:2]:
            session.post(f"{spaces.url}/websockets/submit/{space_id}", data={"prompt": "warm"})
        time.sleep(0.5)
        cpu_before = cpu_seconds(spaces.proc.pid)
        db_before = postgres.backend_cpu_seconds() if postgres else 0
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.users) as pool:
            results = list(pool.map(user_load, users))
        for session, ids in results:
            for request_id in ids:
                deadline = time.monotonic() + 30
                while status(session, spaces, request_id).json()["status"] != "completed":
                    assert time.monotonic() < deadline, f"{request_id} did not complete"
                    time.sleep(0.01)
        elapsed = time.monotonic() - started
        total = per_user * args.users
        spaces_cpu = cpu_seconds(spaces.proc.pid) - cpu_before
        db_cpu = (postgres.backend_cpu_seconds() - db_before) if postgres else 0
        worker.stop()
        return {"backend": backend, "requests": total, "seconds": elapsed, "rps": total / elapsed,
                "spaces_us": spaces_cpu / total * 1e6, "db_us": db_cpu / total * 1e6}
    finally:
        spaces.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with PostgresServer() as postgres:
        for _ in range(args.repeat):
            rows.append(run("sqlite", args, None))
            rows.append(run("postgres", args, postgres))
    print(f"{'backend':10} {'requests':>8} {'req/s':>7} {'spaces CPU/req':>15} {'PostgreSQL CPU/req':>19} {'total':>9}")
    for row in rows:
        print(f"{row['backend']:10} {row['requests']:8d} {row['rps']:7.0f} {row['spaces_us']:13.0f}µs "
              f"{row['db_us']:17.0f}µs {row['spaces_us'] + row['db_us']:7.0f}µs")


if __name__ == "__main__":
    main()
