"""End-to-end tests of the Swift `spaces-worker` against `spaces`: registration, the built-in simulation,
`--exec` commands (JSON result, failure, large input and output, --exec-timeout, the worker's own SIGTERM),
`--concurrency`, reconnection after the server is killed and restarted on the same port, and worker tokens.

The binaries come from SPACES_BIN and SPACES_WORKER_BIN (run_interop.py sets both); SPACES_WORKER_BIN
defaults to `spaces-worker` next to SPACES_BIN. The `spaces` helpers are shared with spaces_e2e_test.py.
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spaces_e2e_test import (ROOT, Spaces, admin, create_space, new_user, spaces_binary, submit,  # noqa: E402
                             wait_for, wait_status)

pytestmark = pytest.mark.timeout(90)

REGISTERED = "Registration successful!"


def worker_binary():
    explicit = os.environ.get("SPACES_WORKER_BIN")
    if explicit:
        return explicit  # run_interop.py sets it: a missing binary is a failure, not a skip
    path = os.path.join(os.path.dirname(spaces_binary()), "spaces-worker")
    if not os.path.exists(path):
        path = os.path.join(ROOT, ".build", "release", "spaces-worker")
    if not os.path.exists(path):
        pytest.skip("spaces-worker is not built")
    return path


class WorkerProcess:
    """One `spaces-worker --verbose` process; its log (stdout and stderr) is collected line by line."""

    def __init__(self, url, spaces, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPACES_")}
        self.command = [worker_binary(), "--host", url, "--spaces", spaces, "--verbose", *map(str, args)]
        # Its own session, so that stop() also finds the --exec commands it started.
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env, start_new_session=True)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def count(self, *texts):
        """Lines holding every one of `texts`."""
        with self.lock:
            return sum(all(text in line for text in texts) for line in self.lines)

    def log(self, limit=4000):
        with self.lock:
            lines = [line if len(line) < 300 else line[:300] + f"... ({len(line)} chars)" for line in self.lines]
        return "\n".join(lines)[-limit:]

    def wait_count(self, text, count=1, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(text) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"worker did not log {text!r} x{count} (exit code {self.proc.poll()}):\n{self.log()}")

    def session_members(self):
        """Ids of the processes in the worker's session: the worker and every command it started (Foundation's
        Process puts each command in a process group of its own, so a process-group kill would miss them)."""
        members = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid and fields[0] != "Z":  # fields: state ppid pgrp session ...
                members.append(int(entry))
        return members

    def stop(self):
        deadline = time.monotonic() + 10
        while True:
            members = self.session_members()
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.proc.poll() is None:
                self.proc.wait(5)
            if not members or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.reader.join(5)


@pytest.fixture
def workers():
    """Starts workers for a test and kills each of them (and their --exec commands) at its end."""
    started = []

    def start(url, spaces, *args):
        worker = WorkerProcess(url, spaces, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def server():
    data_dir = tempfile.mkdtemp(prefix="spaces-worker-e2e-")
    spaces = Spaces(data_dir).start()
    try:
        yield spaces
    finally:
        if spaces.proc.poll() is None:
            spaces.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def admin_session(server):
    return admin(server)


def space_status(session, server, space_id):
    """This space's entry in /admin/websockets/status and its connections."""
    body = session.get(server.url + "/admin/websockets/status").json()
    assert body["success"] is True
    entry = next(s for s in body["all_spaces"] if s["space_id"] == space_id)
    return entry, [c for c in body["connections"] if c["space_id"] == space_id]


def script(tmp_path, name, body):
    """Writes a Python script for --exec and returns the shell command running it."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def start_registered(workers, server, name, *args):
    worker = workers(server.url, name, *args)
    worker.wait_count(REGISTERED)
    return worker


# ---------------------------------------------------------------------------------------------------------------
# Registration and the built-in simulation


def test_registration(server, admin_session, workers):
    space_id, name = create_space(server, admin_session)
    entry, connections = space_status(admin_session, server, space_id)
    assert entry["is_connected"] is False and entry["worker_count"] == 0
    worker = start_registered(workers, server, name)
    assert worker.count(f'Successfully registered for space "{name}"') >= 1, worker.log()
    wait_for(lambda: space_status(admin_session, server, space_id)[0]["is_connected"], what="admin status connected")
    entry, connections = space_status(admin_session, server, space_id)
    assert entry["worker_count"] == 1 and entry["token_required"] is False
    assert len(connections) == 1
    assert connections[0]["space_name"] == name and connections[0]["concurrency"] == 1
    assert connections[0]["connection_id"] in worker.log(limit=10**6), "the worker logs its connection id"
    # Stopping the worker releases the space.
    worker.stop()
    wait_for(lambda: space_status(admin_session, server, space_id)[0]["worker_count"] == 0, what="release")


def test_simulation_answers_requests(server, admin_session, workers):
    space_id, name = create_space(server, admin_session)
    start_registered(workers, server, name, "--delay", "0.1")
    user = new_user(server)
    prompts = [f"hello {i} from the e2e test" for i in range(3)] + ["ünïcødé ✓ prompt"]
    ids = []
    for prompt in prompts:
        answer = submit(user, server, space_id, prompt=prompt)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["request_id"])
    for request_id, prompt in zip(ids, prompts):
        final = wait_status(user, server, request_id, timeout=30)
        assert final["status"] == "completed", final
        result = final["result"]
        assert prompt in result["text_output"]
        assert result["model_used"] == "spaces-worker-simulation"
        assert result["tokens_used"] == len(prompt.split()) + 8
        assert final["deliveries"] == 1


# ---------------------------------------------------------------------------------------------------------------
# --exec


def test_exec_json_result(server, admin_session, workers, tmp_path):
    command = script(tmp_path, "upper.py", """
        import json, os, sys
        payload = json.load(sys.stdin)
        prompt = payload["prompt"]
        print(json.dumps({"text_output": prompt.upper(), "length": len(prompt),
                          "request_id": os.environ.get("SPACES_REQUEST_ID"),
                          "space": os.environ.get("SPACES_SPACE_NAME")}))
    """)
    space_id, name = create_space(server, admin_session)
    start_registered(workers, server, name, "--exec", command)
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="make me loud").json()["request_id"]
    final = wait_status(user, server, request_id, timeout=30)
    assert final["status"] == "completed", final
    assert final["result"] == {"text_output": "MAKE ME LOUD", "length": 12, "request_id": request_id, "space": name}

    # Plain text (not a JSON object) on stdout becomes {text_output}.
    space_id, name = create_space(server, admin_session)
    start_registered(workers, server, name, "--exec", "tr a-z A-Z | tr -d '{}'")
    request_id = submit(user, server, space_id, prompt="plain").json()["request_id"]
    final = wait_status(user, server, request_id, timeout=30)
    assert final["status"] == "completed", final
    assert set(final["result"]) == {"text_output"} and '"PROMPT":"PLAIN"' in final["result"]["text_output"]


def test_exec_failure(server, admin_session, workers, tmp_path):
    command = script(tmp_path, "fail.py", """
        import json, sys
        payload = json.load(sys.stdin)
        print("partial output that is not the result")
        sys.stderr.write("model exploded on: " + payload["prompt"] + "\\n")
        sys.exit(3)
    """)
    space_id, name = create_space(server, admin_session)
    worker = start_registered(workers, server, name, "--exec", command)
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="boom").json()["request_id"]
    final = wait_status(user, server, request_id, timeout=30)
    assert final["status"] == "failed", final
    assert final["result"]["error"] == "model exploded on: boom"
    assert final["result"]["exit_code"] == 3
    assert final["error"] == "model exploded on: boom"
    assert final["deliveries"] == 1, "a failure is an answer, not a reason to redeliver"
    worker.wait_count(f"request {request_id}: failed")
    # The worker keeps serving after a failed command.
    second = submit(user, server, space_id, prompt="again").json()["request_id"]
    assert wait_status(user, server, second, timeout=30)["result"]["error"] == "model exploded on: again"


def test_exec_large_payload(server, admin_session, workers, tmp_path):
    # The server caps prompts at 100,000 characters (413 prompt_too_long), so the input is the largest prompt
    # it accepts (> a 64 KB pipe buffer), and the result is 1 MB. The command writes 1 MB to stderr *before*
    # reading stdin: a runner that wrote all of stdin before draining the output pipes would hang.
    command = script(tmp_path, "big.py", """
        import json, sys
        sys.stderr.write("e" * (1024 * 1024))
        sys.stderr.flush()
        payload = json.load(sys.stdin)
        prompt = payload["prompt"]
        print(json.dumps({"text_output": prompt * 10, "length": len(prompt), "last": prompt[-16:]}))
    """)
    space_id, name = create_space(server, admin_session)
    start_registered(workers, server, name, "--exec", command)
    user = new_user(server)
    prompt = ("0123456789abcdef" * 6250)[:-16] + "-the-end-marker-"
    assert len(prompt) == 100_000
    too_long = submit(user, server, space_id, prompt=prompt + "x")
    assert too_long.status_code == 413 and too_long.json()["code"] == "prompt_too_long"
    answer = submit(user, server, space_id, prompt=prompt)
    assert answer.status_code == 200, answer.text
    final = wait_status(user, server, answer.json()["request_id"], timeout=40)
    assert final["status"] == "completed", {k: v for k, v in final.items() if k not in ("result", "payload")}
    result = final["result"]
    assert result["length"] == 100_000 and result["last"] == "-the-end-marker-"
    assert len(result["text_output"]) == 1_000_000 and result["text_output"] == prompt * 10


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_exec_timeout_and_worker_stop_end_the_commands(server, admin_session, workers, tmp_path):
    # The shell stays the parent of the Python process (a compound command), which killing the shell alone misses.
    pids = tmp_path / "pids.txt"
    command = script(tmp_path, "hang.py", """
        import os, sys, time
        with open(sys.argv[1], "a") as pids:
            pids.write(f"{os.getpid()}\\n")
        time.sleep(60)
    """) + " " + shlex.quote(str(pids)) + "; echo never"
    space_id, name = create_space(server, admin_session)
    worker = start_registered(workers, server, name, "--exec", command, "--exec-timeout", "1")
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="hang").json()["request_id"]
    started = time.monotonic()
    final = wait_status(user, server, request_id, timeout=20)
    assert final["status"] == "failed" and final["result"] == {"error": "command timed out"}, final
    assert time.monotonic() - started < 5, "the answer should not wait for the killed command's pipes"
    first = int(pids.read_text().split()[0])
    wait_for(lambda: not alive(first), timeout=5, what="the timed-out command to be killed")

    # SIGTERM ends the worker and the command it runs.
    request_id = submit(user, server, space_id, prompt="hang again").json()["request_id"]
    wait_for(lambda: len(pids.read_text().split()) == 2, what="the second command to start")
    second = int(pids.read_text().split()[1])
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(10) == 128 + signal.SIGTERM
    wait_for(lambda: not alive(second), timeout=5, what="the command to end with the worker")
    assert worker.session_members() == []


# ---------------------------------------------------------------------------------------------------------------
# --concurrency


def test_concurrency_two(server, admin_session, workers, tmp_path):
    command = script(tmp_path, "slow.py", """
        import json, sys, time
        started = time.time()
        payload = json.load(sys.stdin)
        time.sleep(2.5)
        print(json.dumps({"text_output": payload["prompt"], "started": started, "ended": time.time()}))
    """)
    space_id, name = create_space(server, admin_session, max_concurrency="2")
    worker = start_registered(workers, server, name, "--exec", command, "--concurrency", "2")
    assert worker.count('"concurrency":2') >= 1, worker.log()
    _, connections = space_status(admin_session, server, space_id)
    assert connections[0]["concurrency"] == 2
    user = new_user(server)
    ids = [submit(user, server, space_id, prompt=f"slow {i}").json()["request_id"] for i in range(2)]

    seen = {"in_flight": 0}

    def both_processing():
        entry, connections = space_status(admin_session, server, space_id)
        seen["in_flight"] = max(seen["in_flight"], connections[0]["in_flight"] if connections else 0)
        return entry["processing"] == 2 and seen["in_flight"] == 2
    wait_for(both_processing, timeout=10, what="two requests processing at once")
    finals = [wait_status(user, server, request_id, timeout=30) for request_id in ids]
    assert [f["status"] for f in finals] == ["completed", "completed"], finals
    first, second = (f["result"] for f in finals)
    # The two commands ran at the same time: each started before the other ended. (No bound on how far apart they
    # started: on a loaded machine a second Python start-up can take seconds, and the overlap already proves it.)
    assert first["started"] < second["ended"] and second["started"] < first["ended"], (first, second)


# ---------------------------------------------------------------------------------------------------------------
# Reconnection after the server is killed


def test_reconnects_after_server_killed(workers, tmp_path):
    runs = tmp_path / "runs.txt"
    command = script(tmp_path, "slow.py", """
        import json, os, sys, time
        with open(sys.argv[1], "a") as runs:
            runs.write(os.environ["SPACES_REQUEST_ID"] + "\\n")
        payload = json.load(sys.stdin)
        time.sleep(3)
        print(json.dumps({"text_output": "done: " + payload["prompt"]}))
    """) + " " + shlex.quote(str(runs))
    data_dir = tempfile.mkdtemp(prefix="spaces-worker-kill-")
    first = Spaces(data_dir).start()
    second = None
    try:
        space_id, name = create_space(first)
        user = new_user(first)
        worker = start_registered(workers, first, name, "--exec", command)
        request_id = submit(user, first, space_id, prompt="survive the crash").json()["request_id"]
        wait_for(lambda: runs.exists() and request_id in runs.read_text(), what="the command to start")
        assert wait_status(user, first, request_id, want={"processing"})["deliveries"] == 1
        first.kill()  # SIGKILL while the command runs
        worker.wait_count("disconnected", timeout=10)

        second = Spaces(data_dir, port=first.port).start()
        assert second.port == first.port
        worker.wait_count(REGISTERED, count=2, timeout=30)  # re-registered by itself
        session = admin(second)
        wait_for(lambda: space_status(session, second, space_id)[0]["is_connected"], what="connected again")
        final = wait_status(user, second, request_id, timeout=30)  # the login survives the restart
        assert final["status"] == "completed", final
        assert final["result"] == {"text_output": "done: survive the crash"}
        assert final["deliveries"] == 2, final
        assert worker.count("<- inference_request", request_id) == 2, worker.log()  # delivered again
        # The copy that arrives while the first run is still going is not run a second time (the usual case:
        # the worker is back within about a second, the command takes three); a copy arriving after the first
        # run ended (its result was lost with the connection) is run again.
        deduplicated = worker.count(request_id, "delivered again while still in progress") == 1
        wait_for(lambda: worker.count(f"request {request_id}: completed") == (1 if deduplicated else 2), timeout=10,
                 what="the runs to end")
        assert runs.read_text().split() == [request_id] * (1 if deduplicated else 2), worker.log()
        # And the new server gets new work done by the same worker process.
        again = submit(user, second, space_id, prompt="after the restart").json()["request_id"]
        assert wait_status(user, second, again, timeout=30)["result"] == {"text_output": "done: after the restart"}
        assert worker.proc.poll() is None
    finally:
        for spaces in (first, second):
            if spaces and spaces.proc and spaces.proc.poll() is None:
                spaces.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Worker tokens


def test_worker_token(server, admin_session, workers):
    space_id, name = create_space(server, admin_session, worker_token="w0rker-t0ken")
    wrong = workers(server.url, name, "--token", "not-the-token")
    no_token = workers(server.url, name)
    for refused in (wrong, no_token):
        refused.wait_count("Registration failed: Invalid or missing worker token")
        refused.wait_count("disconnected")
        assert refused.count(REGISTERED) == 0
    entry, connections = space_status(admin_session, server, space_id)
    assert entry["token_required"] is True and entry["worker_count"] == 0 and connections == []
    wrong.stop()
    no_token.stop()

    right = start_registered(workers, server, name, "--token", "w0rker-t0ken", "--delay", "0")
    entry, connections = space_status(admin_session, server, space_id)
    assert entry["is_connected"] is True and len(connections) == 1
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="with a token").json()["request_id"]
    final = wait_status(user, server, request_id, timeout=30)
    assert final["status"] == "completed" and "with a token" in final["result"]["text_output"]
    assert right.count("Registration failed") == 0
