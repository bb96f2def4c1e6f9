"""Faults injected into a running `spaces` on SQLite (issue 18 §4), each checked from the outside: HTTP users,
python-socketio workers, and the database file itself once the server is stopped.

- Disk full: the data folder sits on a small tmpfs (mounted here as root; without the right to mount, the
  file-size limit RLIMIT_FSIZE of the server process plays the full disk). Submits answer 503
  `storage_full`, nothing accepted before is lost or damaged (`PRAGMA integrity_check`), and once space is
  freed the server accepts again and every request completes.
- A worker whose network goes silent: a TCP relay between a worker and `spaces` stops forwarding without
  closing anything (half-open). The server finds the worker dead within pingInterval + pingTimeout and its
  request is redelivered to another worker.
- SIGKILL during a burst of 1,000 submissions: after a restart every request answered 200 exists and
  completes, and none runs twice except one that was in flight at the kill (the documented redelivery).
"""
import concurrent.futures
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spaces_e2e_test import (Spaces, create_space, new_user, status, submit, wait_for,  # noqa: E402
                             wait_status)
from spaces_mock_app import Behaviour, SyncWorker  # noqa: E402

pytestmark = pytest.mark.timeout(240)


def stop_workers(*workers):
    for worker in workers:
        if worker:
            worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# Disk full


class SmallTmpfs:
    """A tmpfs of `size` bytes at `path`, filled and freed with a ballast file."""

    name = "tmpfs"

    def __init__(self, path, size):
        self.path = path
        self.size = size
        self.ballast = os.path.join(path, "ballast")

    def mount(self):
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", self.path],
                                capture_output=True, text=True)
        return result.returncode == 0

    def attach(self, pid):
        pass

    def fill(self):
        """Writes the ballast until the file system refuses (ENOSPC)."""
        chunk = b"\0" * 65536
        with open(self.ballast, "ab", buffering=0) as ballast:
            try:
                while True:
                    ballast.write(chunk)
            except OSError:
                pass
        for size in (4096, 512, 1):  # the last partial blocks
            try:
                with open(self.ballast, "ab", buffering=0) as ballast:
                    while True:
                        ballast.write(b"\0" * size)
            except OSError:
                pass

    def free(self):
        os.unlink(self.ballast)

    def close(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True)


class FileSizeLimit:
    """Where mounting is refused: the server's RLIMIT_FSIZE, lowered to the size its largest file has now (`spaces`
    ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of killing it)."""

    name = "RLIMIT_FSIZE"

    def __init__(self, path):
        self.path = path
        self.pid = None

    def attach(self, pid):
        self.pid = pid

    def fill(self):
        largest = max(os.path.getsize(os.path.join(self.path, name)) for name in os.listdir(self.path)
                      if os.path.isfile(os.path.join(self.path, name)))
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))

    def free(self):
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def close(self):
        pass


@pytest.fixture
def small_disk():
    root = tempfile.mkdtemp(prefix="spaces-full-")
    disk = SmallTmpfs(root, 8 * 1024 * 1024)
    if os.environ.get("SPACES_FAULTS_NO_MOUNT") or not disk.mount():
        disk = FileSizeLimit(root)
    yield disk
    disk.close()
    shutil.rmtree(root, ignore_errors=True)


def test_disk_full_answers_503_storage_full_and_loses_nothing(small_disk):
    data_dir = small_disk.path
    spaces = Spaces(data_dir).start()
    small_disk.attach(spaces.proc.pid)
    holder = rescuer = None
    try:
        space_id, name = create_space(spaces)
        user = new_user(spaces)
        # A worker that takes one request and never answers keeps the space open for submits; the rest queue.
        holder = SyncWorker(spaces.url, name, name="holder", behaviour=Behaviour(silent=True)).start()
        prompts = {}
        for i in range(5):
            prompt = f"before the disk filled {i} " + "p" * 1000
            answer = submit(user, spaces, space_id, prompt=prompt)
            assert answer.status_code == 200, answer.text
            prompts[answer.json()["request_id"]] = prompt

        small_disk.fill()
        refusal = None
        for i in range(400):
            prompt = f"while filling {i} " + "q" * 50_000
            answer = submit(user, spaces, space_id, prompt=prompt)
            if answer.status_code == 200:
                prompts[answer.json()["request_id"]] = prompt
                continue
            refusal = answer
            break
        assert refusal is not None, f"{small_disk.name}: 400 submits of 50 KB never filled the disk"
        assert refusal.status_code == 503, refusal.text
        body = refusal.json()
        assert body["code"] == "storage_full" and body["error"], body
        assert int(refusal.headers["Retry-After"]) > 0
        # Still full: a second submit is refused the same way, and what was accepted is readable.
        again = submit(user, spaces, space_id, prompt="still full " + "r" * 50_000)
        assert again.status_code == 503 and again.json()["code"] == "storage_full", again.text
        for request_id in prompts:
            assert status(user, spaces, request_id).status_code == 200

        small_disk.free()
        after = submit(user, spaces, space_id, prompt="after the disk was freed")
        assert after.status_code == 200, after.text
        prompts[after.json()["request_id"]] = "after the disk was freed"

        # Every accepted request completes, with its prompt intact.
        holder.stop()
        rescuer = SyncWorker(spaces.url, name, name="rescuer").start()
        for request_id, prompt in prompts.items():
            final = wait_status(user, spaces, request_id, timeout=60)
            assert final["status"] == "completed", final
            assert final["result"]["text_output"] == "echo: " + prompt, request_id
        rescuer.stop()
        rescuer = None
        spaces.stop()
        assert spaces.proc.returncode == 0

        database = sqlite3.connect(os.path.join(data_dir, "spaces.sqlite3"))
        try:
            assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = dict(database.execute("SELECT id, status FROM requests WHERE space_id = ?", (space_id,)))
        finally:
            database.close()
        assert set(stored) == set(prompts), "the database must hold exactly the accepted requests"
        assert set(stored.values()) == {"completed"}
        print(f"disk full ({small_disk.name}): {len(prompts)} accepted, refused with storage_full, none lost")
    finally:
        stop_workers(holder, rescuer)
        spaces.stop()


# ---------------------------------------------------------------------------------------------------------------
# A worker whose network goes silent


class SilentRelay:
    """Forwards TCP between clients and `target`; `silence()` stops forwarding in both directions without
    closing anything, as a network that drops every packet (the sockets stay open: no FIN, no RST)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.silent = threading.Event()
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source, destination):
        while not self.silent.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                destination.shutdown(socket.SHUT_WR)
                return
            if self.silent.is_set():
                return  # dropped, like everything after the silence
            destination.sendall(data)

    def silence(self):
        self.silent.set()

    def close(self):
        self.listener.close()
        for sock in self.sockets:
            sock.close()


PING_INTERVAL_MS = 1000
PING_TIMEOUT_MS = 1000


def test_worker_with_silent_network_is_found_dead_and_its_request_redelivered():
    data_dir = tempfile.mkdtemp(prefix="spaces-silent-")
    spaces = Spaces(data_dir, extra_env={"SPACES_PING_INTERVAL": str(PING_INTERVAL_MS),
                                         "SPACES_PING_TIMEOUT": str(PING_TIMEOUT_MS)}).start()
    relay = SilentRelay(spaces.port)
    doomed = rescuer = None
    try:
        space_id, name = create_space(spaces, max_workers="2")
        user = new_user(spaces)
        doomed = SyncWorker(f"http://127.0.0.1:{relay.port}", name, name="doomed", transports=["websocket"],
                            behaviour=Behaviour(delay=60)).start()
        request_id = submit(user, spaces, space_id, prompt="survive the silence").json()["request_id"]
        wait_for(lambda: doomed.received, what="dispatch to the doomed worker")
        rescuer = SyncWorker(spaces.url, name, name="rescuer").start()

        relay.silence()
        silenced = time.monotonic()
        wait_for(lambda: rescuer.received, timeout=(PING_INTERVAL_MS + PING_TIMEOUT_MS) / 1000 + 5,
                 what="redelivery to the rescuer")
        found_dead_after = time.monotonic() - silenced
        # The server's ping goes out at most pingInterval after the silence and waits pingTimeout for its pong;
        # half a second of slack for the loop and this test's polling.
        assert found_dead_after <= (PING_INTERVAL_MS + PING_TIMEOUT_MS) / 1000 + 0.5, found_dead_after
        final = wait_status(user, spaces, request_id)
        assert final["status"] == "completed" and final["result"]["model_used"] == "rescuer", final
        assert final["deliveries"] == 2
        print(f"silent worker found dead {found_dead_after:.2f} s after its network went quiet")
    finally:
        stop_workers(doomed, rescuer)
        relay.close()
        spaces.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# SIGKILL during a burst of submissions

BURST = int(os.environ.get("SPACES_KILL_BURST", "1000"))


def test_sigkill_during_a_burst_loses_no_answered_request():
    data_dir = tempfile.mkdtemp(prefix="spaces-burst-")
    first = Spaces(data_dir).start()
    before = after = None
    try:
        space_id, name = create_space(first)
        users = [new_user(first) for _ in range(8)]
        before = SyncWorker(first.url, name, name="before", behaviour=Behaviour(delay=0.005)).start()
        answered = []  # request ids answered 200
        lock = threading.Lock()
        killed = threading.Event()

        def run_user(index):
            user = users[index]
            for i in range(index, BURST, len(users)):
                try:
                    response = submit(user, first, space_id, prompt=f"burst {i}")
                except requests.RequestException:
                    return  # the server is gone
                if response.status_code != 200:
                    assert killed.is_set(), response.text
                    return
                with lock:
                    answered.append((index, response.json()["request_id"]))
                    if len(answered) == BURST // 3:
                        first.kill()
                        killed.set()

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(users)) as pool:
            list(pool.map(run_user, range(len(users))))
        assert killed.is_set() and len(answered) >= BURST // 3
        before.stop()
        ran_before = set(before.done)

        second = Spaces(data_dir).start()
        try:
            sessions = []
            for user in users:
                session = requests.Session()
                session.cookies.update(user.cookies)
                sessions.append(session)
            after = SyncWorker(second.url, name, name="after").start()
            for index, request_id in answered:
                final = wait_status(sessions[index], second, request_id, timeout=60)
                assert final["status"] == "completed", final
            ran_after = set(after.done)
            twice = ran_before & ran_after
            # Only what the first worker was running when the server died may run again: one request at a time.
            assert len(twice) <= 1, twice
            assert len(after.done) == len(ran_after), "the new worker ran a request twice"
            print(f"SIGKILL: {len(answered)} answered 200 before the kill, all completed after restart; "
                  f"{len(twice)} redelivered")
        finally:
            if after:
                after.stop()
            second.stop()
    finally:
        if before:
            before.stop()
        if first.proc.poll() is None:
            first.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
