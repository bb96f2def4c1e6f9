"""End-to-end tests of SpacesApp: `spaces` on a free port with a temporary data folder, driven by real
python-socketio workers (sync and async, the three transport choices) and HTTP users (requests.Session).

The binary comes from SPACES_BIN (run_interop.py sets it), else .build/release/spaces, else .build/debug/spaces.
The tests that use a `backend` run twice: on SQLite (the data folder) and on a real PostgreSQL server started for
this module (`--database postgres://...`; see postgres_server.py).
"""
import base64
import concurrent.futures
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
import requests
import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postgres_server import PostgresServer  # noqa: E402
from spaces_mock_app import AsyncWorker, Behaviour, SyncWorker  # noqa: E402

pytestmark = pytest.mark.timeout(120)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ADMIN_PASSWORD = "admin-secret-pw"
FINAL = {"completed", "failed", "timeout", "canceled"}


def spaces_binary():
    if os.environ.get("SPACES_BIN"):
        return os.environ["SPACES_BIN"]
    for kind in ("release", "debug"):
        path = os.path.join(ROOT, ".build", kind, "spaces")
        if os.path.exists(path):
            return path
    pytest.skip("spaces is not built")


class Spaces:
    """One `spaces` process on a free port."""

    def __init__(self, data_dir, extra_env=None, port=0, database=None):
        self.data_dir = data_dir
        self.database = database  # None: SQLite in the data folder
        self.extra_env = extra_env or {}
        self.requested_port = port  # 0: a free port; a restart may ask for the previous one
        self.proc = None
        self.port = None
        self.stdout_lines = []

    def start(self):
        env = dict(os.environ, SPACES_ADMIN_PASSWORD=ADMIN_PASSWORD, SPACES_PBKDF2_ITERATIONS="1000",
                   SPACES_LOOPS="2", **self.extra_env)
        command = [spaces_binary(), "--port", str(self.requested_port), "--host", "127.0.0.1", "--data-dir", self.data_dir]
        if self.database:
            command += ["--database", self.database]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"spaces exited early ({self.proc.poll()})")
            self.stdout_lines.append(line)
            match = re.search(r"listening on port (\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
        raise RuntimeError("spaces did not start")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self, timeout=15):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.terminate()


class Backend:
    """Where a test's `spaces` keeps its store: `new_database()` is None for SQLite, else a fresh PostgreSQL database."""

    def __init__(self, name, postgres=None):
        self.name = name
        self.postgres = postgres

    def new_database(self):
        return self.postgres.create_database() if self.postgres else None


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request):
    if request.param == "sqlite":
        yield Backend("sqlite")
        return
    with PostgresServer() as postgres:
        yield Backend("postgres", postgres)


@pytest.fixture(scope="module")
def server(backend):
    data_dir = tempfile.mkdtemp(prefix="spaces-e2e-")
    spaces = Spaces(data_dir, database=backend.new_database()).start()
    yield spaces
    spaces.stop()
    assert spaces.proc.returncode == 0, "spaces did not exit cleanly on SIGTERM"
    shutil.rmtree(data_dir, ignore_errors=True)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(base, username, password):
    session = requests.Session()
    response = session.post(base + "/login", data={"username": username, "password": password}, allow_redirects=False)
    assert response.status_code == 302, response.text
    return session


def admin(server):
    return login(server.url, "admin", ADMIN_PASSWORD)


def new_user(server, name=None):
    name = name or unique("user")
    response = requests.post(server.url + "/register", data={"username": name, "password": "pw-" + name},
                             allow_redirects=False)
    assert response.status_code == 302, response.text
    session = login(server.url, name, "pw-" + name)
    session.username = name
    return session


def create_space(server, session=None, **fields):
    session = session or admin(server)
    data = {"name": unique("space"), "description": "a test space", "card_type": "websockets",
            "ws_enable_prompt": "on", "ws_rate_limit_seconds": "0"}
    data.update({k: v for k, v in fields.items() if v is not None})
    data = {k: v for k, v in data.items() if v is not False}
    response = session.post(server.url + "/admin/space/add", data=data, allow_redirects=False)
    assert response.status_code == 302, response.text
    space_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return space_id, data["name"]


def submit(session, server, space_id, **fields):
    files = fields.pop("files", None)
    return session.post(f"{server.url}/websockets/submit/{space_id}", data=fields, files=files)


def status(session, server, request_id, **params):
    return session.get(server.url + "/websockets/status", params={"request_id": request_id, **params})


def wait_status(session, server, request_id, want=FINAL, timeout=20):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = status(session, server, request_id).json()
        if body.get("status") in want:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{request_id} did not reach {want}: {body}")


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def ws_status(server, space_id):
    body = admin(server).get(server.url + "/admin/websockets/status").json()
    return next(s for s in body["all_spaces"] if s["space_id"] == space_id)


# ---------------------------------------------------------------------------------------------------------------
# Happy path over every transport, sync and async workers


TRANSPORTS = {"websocket": ["websocket", "polling"], "polling": ["polling"], "upgrade": ["polling", "websocket"]}


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_happy_path(server, kind, transport):
    space_id, name = create_space(server)
    worker_class = SyncWorker if kind == "sync" else AsyncWorker
    worker = worker_class(server.url, name, name=f"{kind}-{transport}", transports=TRANSPORTS[transport]).start()
    try:
        response = worker.responses[0]
        assert response["success"] is True and response["space_id"] == space_id and response["connection_id"]
        user = new_user(server)
        answer = submit(user, server, space_id, prompt="hello world")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["success"] is True
        final = wait_status(user, server, body["request_id"])
        assert final["status"] == "completed", final
        result = final["result"]
        assert result["text_output"] == "echo: hello world"
        assert set(result) >= {"text_output", "confidence", "model_used", "processing_time_seconds", "tokens_used",
                               "timestamp"}
        assert result["model_used"] == f"{kind}-{transport}"
        for key in ("request_id", "status", "result", "created_at", "updated_at", "queue_position", "progress",
                    "started_at", "finished_at"):
            assert key in final
        request = worker.received[0]
        assert request["request_id"] == body["request_id"]
        assert request["username"] == user.username
        assert request["payload"]["prompt"] == "hello world" and request["payload"]["timestamp"]
    finally:
        worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# Registration


def test_registration_errors(server):
    space_id, name = create_space(server)
    standard_id, standard_name = create_space(server, card_type="standard")

    # space_name missing: refused, the socket stays open and may register afterwards.
    worker = SyncWorker(server.url, name, name="late")
    worker.sio.on("connect", lambda: worker.register({}))
    worker.start(wait=False)
    wait_for(lambda: worker.responses, what="register_response")
    assert worker.responses[0] == {"success": False, "message": "space_name is required"}
    time.sleep(0.3)
    assert worker.sio.connected
    worker.register()
    assert worker.registered.wait(5)

    # Registering again on the same socket: idempotent success.
    worker.register()
    wait_for(lambda: len(worker.responses) == 3, what="second success")
    assert worker.responses[2]["success"] is True
    assert ws_status(server, space_id)["worker_count"] == 1

    for bad_name, message in [
        ("no such space " + uuid.uuid4().hex, None),
        (standard_name, None),
        (name.upper(), None),  # names are case-sensitive
    ]:
        refused = SyncWorker(server.url, bad_name, name="refused").start(wait=False)
        assert refused.refused.wait(5)
        assert refused.responses[0] == {"success": False,
                                        "message": f'Space "{bad_name}" not found or is not a WebSocket space'}
        assert refused.disconnected.wait(5), "server should disconnect after the failure"

    # A second worker beyond max_workers (1) is refused; the holder keeps serving.
    second = SyncWorker(server.url, name, name="second").start(wait=False)
    assert second.refused.wait(5)
    assert second.responses[0] == {"success": False, "message": "Space already has a connected app"}
    assert second.disconnected.wait(5)
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="still served").json()["request_id"]
    assert wait_status(user, server, request_id)["result"]["model_used"] == "late"

    # Released on disconnect: no ghost connection.
    worker.stop()
    wait_for(lambda: ws_status(server, space_id)["worker_count"] == 0, what="release on disconnect")
    third = SyncWorker(server.url, name, name="third").start()
    third.stop()


def test_token_protected_space(server):
    space_id, name = create_space(server, worker_token="s3cret-token")
    plain = SyncWorker(server.url, name, name="no-token").start(wait=False)
    assert plain.refused.wait(5)
    assert plain.responses[0]["success"] is False and "token" in plain.responses[0]["message"]
    assert plain.disconnected.wait(5)
    wrong = SyncWorker(server.url, name, name="wrong", register_extra={"token": "nope"}).start(wait=False)
    assert wrong.refused.wait(5)
    with_token = SyncWorker(server.url, name, name="with-token", register_extra={"token": "s3cret-token"}).start()
    with_token.stop()
    wait_for(lambda: ws_status(server, space_id)["worker_count"] == 0, what="release")
    by_auth = SyncWorker(server.url, name, name="auth", auth={"token": "s3cret-token"}).start()
    user = new_user(server)
    request_id = submit(user, server, space_id, prompt="x").json()["request_id"]
    assert wait_status(user, server, request_id)["status"] == "completed"
    by_auth.stop()


def test_one_socket_serves_several_spaces(server):
    first_id, first = create_space(server)
    second_id, second = create_space(server)
    worker = SyncWorker(server.url, first, name="multi").start()
    worker.register({"space_name": second})
    wait_for(lambda: len(worker.responses) == 2, what="second registration")
    assert worker.responses[1]["success"] and worker.responses[1]["space_id"] == second_id
    user = new_user(server)
    ids = [submit(user, server, sid, prompt="p").json()["request_id"] for sid in (first_id, second_id)]
    for request_id in ids:
        assert wait_status(user, server, request_id)["status"] == "completed"
    worker.stop()
    wait_for(lambda: ws_status(server, first_id)["worker_count"] == 0 and ws_status(server, second_id)["worker_count"] == 0,
             what="both released")


# ---------------------------------------------------------------------------------------------------------------
# Submit errors, rate limit, quota


def test_submit_errors(server):
    space_id, name = create_space(server, ws_rate_limit_seconds="60", max_upload_mb="1", ws_enable_file_upload="on")
    no_prompt_id, no_prompt_name = create_space(server, ws_enable_prompt=False)
    standard_id, _ = create_space(server, card_type="standard")
    offline_id, _ = create_space(server)
    user = new_user(server)

    def check(response, status_code, code):
        assert response.status_code == status_code, response.text
        body = response.json()
        assert body["code"] == code and body["error"], body

    check(requests.post(f"{server.url}/websockets/submit/{space_id}", data={"prompt": "x"}), 401, "not_logged_in")
    check(submit(user, server, 999999, prompt="x"), 404, "space_not_found")
    check(submit(user, server, standard_id, prompt="x"), 404, "not_websockets_space")
    check(submit(user, server, offline_id, prompt="x"), 503, "no_worker")

    workers = [SyncWorker(server.url, name, name="w").start(), SyncWorker(server.url, no_prompt_name, name="w2").start()]
    try:
        check(submit(user, server, space_id), 400, "empty_request")
        check(submit(user, server, space_id, prompt="   "), 400, "empty_request")
        check(submit(user, server, no_prompt_id, prompt="x"), 400, "input_not_enabled")
        check(submit(user, server, space_id, audio_url="http://example.com/a.wav"), 400, "input_not_enabled")
        check(submit(user, server, space_id, files={"video_file": ("v.mp4", b"123", "video/mp4")}), 400,
              "input_not_enabled")
        check(submit(user, server, space_id, files={"other_file": ("big.bin", b"x" * (1024 * 1024 + 1))}), 413,
              "file_too_large")
        # None of the refusals spent the rate limit: the first valid submission passes, the next is limited.
        ok = submit(user, server, space_id, prompt="valid")
        assert ok.status_code == 200, ok.text
        limited = submit(user, server, space_id, prompt="again")
        check(limited, 429, "rate_limited")
        assert 55 <= limited.json()["retry_after"] <= 60
        assert not os.listdir(os.path.join(server.data_dir, "tmp")), "temporary uploads must be removed"
    finally:
        for worker in workers:
            worker.stop()

    check(status(user, server, ""), 400, "missing_request_id")
    check(status(user, server, "no-such-id"), 404, "request_not_found")
    check(requests.get(server.url + "/websockets/status", params={"request_id": ok.json()["request_id"]}), 401,
          "not_logged_in")
    check(status(new_user(server), server, ok.json()["request_id"]), 403, "forbidden")


def test_rate_limit(server):
    space_id, name = create_space(server, ws_rate_limit_seconds="2")
    worker = SyncWorker(server.url, name).start()
    try:
        user, other = new_user(server), new_user(server)
        assert submit(user, server, space_id, prompt="1").status_code == 200
        limited = submit(user, server, space_id, prompt="2")
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert 1 <= limited.json()["retry_after"] <= 2
        assert submit(other, server, space_id, prompt="other user").status_code == 200
        time.sleep(limited.json()["retry_after"] + 0.1)
        assert submit(user, server, space_id, prompt="3").status_code == 200
    finally:
        worker.stop()


def test_daily_quota(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name).start()
    try:
        user = new_user(server)
        user_id = user.get(server.url + "/api/me").json()["id"]
        response = admin(server).post(f"{server.url}/admin/users/{user_id}/quota", data={"daily_quota": "2"},
                                      allow_redirects=False)
        assert response.status_code == 302
        assert submit(user, server, space_id).status_code == 400  # invalid: does not count
        for _ in range(2):
            assert submit(user, server, space_id, prompt="q").status_code == 200
        over = submit(user, server, space_id, prompt="q")
        assert over.status_code == 403 and over.json()["code"] == "quota_exceeded", over.text
        admin(server).post(f"{server.url}/admin/users/{user_id}/quota", data={"daily_quota": "0"})
        assert submit(user, server, space_id, prompt="q").status_code == 200
    finally:
        worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# The queue


def test_queue_order_three_users_two_workers(server):
    space_id, name = create_space(server, max_workers="2")
    workers = [SyncWorker(server.url, name, name=f"w{i}", behaviour=Behaviour(delay=0.2)).start() for i in range(2)]
    try:
        users = [new_user(server) for _ in range(3)]
        submitted = []
        for round_ in range(4):
            for user in users:
                body = submit(user, server, space_id, prompt=f"{user.username} {round_}").json()
                submitted.append((user, body["request_id"]))
        # Positions are known while requests wait.
        positions = [status(u, server, rid).json()["queue_position"] for u, rid in submitted[2:5]]
        assert positions == [1, 2, 3] or all(p is None or p >= 1 for p in positions)
        finals = [wait_status(u, server, rid, timeout=30) for u, rid in submitted]
        assert all(f["status"] == "completed" for f in finals)
        started = [f["started_at"] for f in finals]
        assert started == sorted(started), "dispatch must follow submission order"
        assert {f["result"]["model_used"] for f in finals} == {"w0", "w1"}
        for worker in workers:
            assert len(worker.received) == len(set(r["request_id"] for r in worker.received))
    finally:
        for worker in workers:
            worker.stop()


def start_worker_process(server, name, worker_name, delay):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "spaces_mock_app.py"), "--url", server.url, "--space",
                             name, "--name", worker_name, "--delay", str(delay)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "Registration successful!"
    return proc


def test_worker_killed_mid_request_is_redelivered(server):
    space_id, name = create_space(server)
    proc = start_worker_process(server, name, "doomed", delay=30)
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="survive").json()["request_id"]
        assert proc.stdout.readline().strip() == f"processing {request_id}"
        assert status(user, server, request_id).json()["status"] == "processing"
        proc.kill()
        proc.wait(5)
        body = wait_status(user, server, request_id, want={"queued"}, timeout=10)
        assert body["queue_position"] == 1 and body["deliveries"] == 1
        rescuer = SyncWorker(server.url, name, name="rescuer").start()
        final = wait_status(user, server, request_id)
        assert final["status"] == "completed" and final["result"]["model_used"] == "rescuer"
        assert final["deliveries"] == 2
        rescuer.stop()
    finally:
        proc.kill()


def test_request_fails_after_three_deliveries(server):
    space_id, name = create_space(server)
    user = new_user(server)
    request_id = None
    for attempt in range(3):
        proc = start_worker_process(server, name, f"doomed{attempt}", delay=30)
        if request_id is None:
            request_id = submit(user, server, space_id, prompt="cursed").json()["request_id"]
        assert proc.stdout.readline().strip() == f"processing {request_id}"
        proc.kill()
        proc.wait(5)
        want = {"queued"} if attempt < 2 else {"failed"}
        body = wait_status(user, server, request_id, want=want, timeout=10)
    assert body["status"] == "failed" and "3 times" in body["error"]


def test_timeout_and_late_result_ignored(server):
    space_id, name = create_space(server, timeout_seconds="1")
    worker = SyncWorker(server.url, name, behaviour=Behaviour(delay=1.8)).start()
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="slow").json()["request_id"]
        body = wait_status(user, server, request_id, timeout=5)
        assert body["status"] == "timeout" and body["error"]
        wait_for(lambda: request_id in worker.done, timeout=5, what="late answer")
        time.sleep(0.3)
        assert status(user, server, request_id).json()["status"] == "timeout"
    finally:
        worker.stop()


def test_cancel_queued_request(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name, behaviour=Behaviour(delay=1.0)).start()
    try:
        user = new_user(server)
        first = submit(user, server, space_id, prompt="first").json()["request_id"]
        second = submit(user, server, space_id, prompt="second").json()["request_id"]
        assert status(user, server, second).json()["queue_position"] == 1
        stranger = new_user(server)
        assert stranger.post(f"{server.url}/websockets/cancel/{second}").status_code == 403
        canceled = user.post(f"{server.url}/websockets/cancel/{second}")
        assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
        again = user.post(f"{server.url}/websockets/cancel/{second}")
        assert again.status_code == 409 and again.json()["code"] == "not_cancelable"
        assert wait_status(user, server, first)["status"] == "completed"
        time.sleep(0.3)
        assert [r["request_id"] for r in worker.received] == [first]
        listed = user.get(server.url + "/websockets/requests", params={"space_id": space_id}).json()
        assert {r["request_id"]: r["status"] for r in listed["requests"]} == {first: "completed", second: "canceled"}
    finally:
        worker.stop()


def test_forged_result_ignored(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name, name="holder", behaviour=Behaviour(delay=1.0)).start()
    forger = socketio.Client(reconnection=False)
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="mine").json()["request_id"]
        wait_for(lambda: worker.received, what="dispatch")
        forger.connect(server.url, transports=["websocket"])
        forger.emit("inference_result", {"request_id": request_id, "status": "completed",
                                         "result": {"text_output": "forged"}})
        time.sleep(0.3)
        assert status(user, server, request_id).json()["status"] == "processing"
        final = wait_status(user, server, request_id)
        assert final["result"]["text_output"] == "echo: mine"
    finally:
        forger.disconnect()
        worker.stop()


def test_worker_error_status_fails_request(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name, behaviour=Behaviour(status="error")).start()
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="x").json()["request_id"]
        assert wait_status(user, server, request_id)["status"] == "failed"
    finally:
        worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# Files


def test_uploads_reach_worker_and_result_upload(server):
    space_id, name = create_space(server, ws_enable_audio="on", ws_enable_video="on", ws_enable_file_upload="on")
    result_bytes = os.urandom(200_000)
    worker = SyncWorker(server.url, name, behaviour=Behaviour(download=True, upload_result=result_bytes)).start()
    try:
        user = new_user(server)
        audio, other = os.urandom(300_000), b"hello file"
        response = submit(user, server, space_id, prompt="with files",
                          files={"audio_file": ("a.wav", audio, "audio/wav"), "other_file": ("../../etc/x.txt", other)})
        assert response.status_code == 200, response.text
        request_id = response.json()["request_id"]
        final = wait_status(user, server, request_id)
        assert final["status"] == "completed", final
        hashes = final["result"]["file_hashes"]
        assert hashes["audio"] == hashlib.sha256(audio).hexdigest()
        assert hashes["file"] == hashlib.sha256(other).hexdigest()
        payload = worker.received[0]["payload"]
        assert payload["audio"].startswith(server.url + "/uploads/") and "token=" in payload["audio"]
        without_token = payload["file"].split("?")[0]
        assert requests.get(without_token).status_code == 401
        assert requests.get(without_token + "?token=wrong").status_code == 401
        assert user.get(without_token).status_code == 200  # the owner may read it
        assert final["result"]["upload_status"] == 200
        downloaded = requests.get(final["result"]["file_url"])
        assert downloaded.status_code == 200 and downloaded.content == result_bytes
        # Uploads for a finished request are refused.
        late = requests.post(server.url + "/api/upload", data={"request_id": request_id,
                                                               "token": worker.received[0]["token"]},
                             files={"file": ("x.bin", b"x")})
        assert late.status_code == 409
        forged = requests.post(server.url + "/api/upload", data={"request_id": request_id, "token": "nope"},
                               files={"file": ("x.bin", b"x")})
        assert forged.status_code == 403
    finally:
        worker.stop()


def test_audio_url_passed_through(server):
    space_id, name = create_space(server, ws_enable_audio="on")
    worker = SyncWorker(server.url, name).start()
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, audio_url="https://example.com/sound.mp3").json()["request_id"]
        wait_status(user, server, request_id)
        assert worker.received[0]["payload"]["audio"] == "https://example.com/sound.mp3"
    finally:
        worker.stop()


EXACT_PROMPTS = ["  def f():\n    return 1\n\n", "\n\n  first line of verse\r\n\tsecond line  \n", " x "]


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_prompt_reaches_worker_exactly_as_typed(server, encoding):
    # Design §3: `payload.prompt` is the form field exactly as typed; only the emptiness check ignores spaces.
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name).start()
    try:
        user = new_user(server)
        for prompt in EXACT_PROMPTS:
            if encoding == "multipart":
                # A field part with no filename: the value travels as raw bytes.
                response = user.post(f"{server.url}/websockets/submit/{space_id}",
                                     files={"prompt": (None, prompt.encode())})
            else:
                response = submit(user, server, space_id, prompt=prompt)
            assert response.status_code == 200, response.text
            wait_status(user, server, response.json()["request_id"])
        received = [request["payload"]["prompt"].encode() for request in worker.received]
        assert received == [prompt.encode() for prompt in EXACT_PROMPTS]
    finally:
        worker.stop()


def test_five_megabyte_inline_result(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name, behaviour=Behaviour(inline_bytes=5 * 1024 * 1024)).start()
    try:
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="draw").json()["request_id"]
        final = wait_status(user, server, request_id, timeout=30)
        assert final["status"] == "completed"
        image = final["result"]["image"]
        assert len(base64.b64decode(image.split(",", 1)[1])) == 5 * 1024 * 1024
    finally:
        worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# Live updates, progress, site


def test_live_updates_and_progress(server):
    space_id, name = create_space(server)
    worker = SyncWorker(server.url, name, behaviour=Behaviour(delay=0.3, progress=True)).start()
    user = new_user(server)
    browser = socketio.Client(reconnection=False)
    updates = []
    updates_args = []

    def on_update(data, *rest):
        updates.append(data)
        updates_args.append(rest)

    browser.on("request_update", on_update)
    cookie = "; ".join(f"{c.name}={c.value}" for c in user.cookies)
    browser.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"])
    try:
        request_id = submit(user, server, space_id, prompt="live").json()["request_id"]
        wait_for(lambda: any(u["status"] == "completed" for u in updates), what="completed update")
        mine = [u for u in updates if u["request_id"] == request_id]
        assert [u["status"] for u in mine][0] == "processing"
        assert any(u.get("message") == "halfway" and abs(u["progress"] - 0.5) < 1e-9 for u in mine)
        assert mine[-1]["result"]["text_output"] == "echo: live"
        # SpacesApp recovers connection state: each broadcast update ends with its offset (as Node sends it).
        assert all(len(rest) == 1 and isinstance(rest[0], str) for rest in updates_args), updates_args
    finally:
        browser.disconnect()
        worker.stop()


def test_space_updates_reach_pages_that_watch(server):
    """Space updates are built only while some page watches spaces: one that starts watching gets the state at once
    and every change after, whether it watches one space or all of them."""
    space_id, name = create_space(server)
    pages = {kind: socketio.Client(reconnection=False) for kind in ("one", "all")}
    updates = {kind: [] for kind in pages}
    for kind, page in pages.items():
        page.on("space_update", lambda state, *rest, kind=kind: updates[kind].append(state))
    worker = None
    try:
        pages["one"].connect(server.url, transports=["websocket"])
        pages["one"].emit("watch_space", {"space_id": space_id})
        wait_for(lambda: updates["one"], what="the state sent on watch_space")
        assert updates["one"][0] == {"space_id": space_id, "connected": False, "workers": 0, "queue_size": 0,
                                     "processing": 0}
        worker = SyncWorker(server.url, name, behaviour=Behaviour(delay=0.5)).start()
        wait_for(lambda: any(u["workers"] == 1 for u in updates["one"]), what="the registration's update")
        pages["all"].connect(server.url, transports=["websocket"])
        pages["all"].emit("watch_spaces")
        user = new_user(server)
        request_id = submit(user, server, space_id, prompt="watched").json()["request_id"]
        for kind in pages:
            wait_for(lambda: any(u["space_id"] == space_id and u["processing"] == 1 for u in updates[kind]),
                     what=f"the submission's update on the page watching {kind}")
        wait_status(user, server, request_id)
        wait_for(lambda: [u for u in updates["all"] if u["space_id"] == space_id][-1]["processing"] == 0,
                 what="the result's update")
    finally:
        for page in pages.values():
            page.disconnect()
        if worker:
            worker.stop()


def test_http_layer_errors_get_a_code(server):
    """Answers of the router itself (405, 404) get `code` like the API's own errors."""
    refused = requests.put(server.url + "/websockets/status")
    assert refused.status_code == 405 and refused.json()["code"] == "method_not_allowed", refused.text
    missing = requests.get(server.url + "/no/such/page")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found", missing.text


def test_cross_site_posts_refused(server):
    base = server.url
    host = f"127.0.0.1:{server.port}"
    data = {"username": "admin", "password": ADMIN_PASSWORD}
    refused = requests.post(base + "/login", data=data, headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False)
    assert refused.status_code == 403 and refused.json()["code"] == "cross_origin_request"
    assert requests.post(base + "/login", data=data, headers={"Origin": "http://evil.example"},
                         allow_redirects=False).status_code == 403
    assert requests.post(base + "/login", data=data, headers={"Sec-Fetch-Site": "same-origin"},
                         allow_redirects=False).status_code == 302
    assert requests.post(base + "/login", data=data, headers={"Origin": f"http://{host}"},
                         allow_redirects=False).status_code == 302
    response = requests.post(base + "/login", data=data, allow_redirects=False)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_submit_and_status_through_the_front_door(server):
    """Submit and status are answered without a task (Router direct routes): the front door's refusal and error
    codes, HEAD, browsers' redirects and error pages are as for every other route."""
    space_id, name = create_space(server)
    user = new_user(server)
    refused = user.post(f"{server.url}/websockets/submit/{space_id}", data={"prompt": "x"},
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and refused.json()["code"] == "cross_origin_request", refused.text
    assert user.get(f"{server.url}/websockets/requests", params={"space_id": space_id}).json()["requests"] == []

    worker = SyncWorker(server.url, name, name="w").start()
    try:
        browser = user.post(f"{server.url}/websockets/submit/{space_id}", data={"prompt": "from a form"},
                            headers={"Accept": "text/html"}, allow_redirects=False)
        assert browser.status_code == 302 and browser.headers["Location"] == f"/ai_project/{space_id}", browser.text
        ok = submit(user, server, space_id, prompt="hello")
        assert ok.status_code == 200 and list(ok.json()) == ["success", "request_id", "status", "queue_position"]
        request_id = ok.json()["request_id"]
        wait_status(user, server, request_id)
    finally:
        worker.stop()

    get = status(user, server, request_id)
    head = user.head(server.url + "/websockets/status", params={"request_id": request_id})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["Content-Type"] == get.headers["Content-Type"]

    page = user.get(server.url + "/websockets/status", params={"request_id": "no-such-id"},
                    headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html"), page.text
    to_login = requests.get(server.url + "/websockets/status", params={"request_id": request_id},
                            headers={"Accept": "text/html"}, allow_redirects=False)
    assert to_login.status_code == 302 and to_login.headers["Location"].startswith("/login?next="), to_login.text


def test_pages_escape_and_admin_only(server):
    session = admin(server)
    space_id, _ = create_space(server, session, description="<script>alert(1)</script>", name=unique("<b>bold</b>"))
    page = requests.get(f"{server.url}/ai_project/{space_id}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bold" in page
    user = new_user(server)
    assert user.get(server.url + "/admin/websockets/status").status_code == 403
    assert requests.get(server.url + "/admin/websockets/status").status_code == 401
    assert user.post(server.url + "/admin/space/add", data={"name": "x", "card_type": "websockets"}).status_code == 403
    created = session.post(server.url + "/admin/space/add",
                           data={"name": unique("new"), "card_type": "websockets"}, allow_redirects=False)
    assert created.status_code == 302
    assert session.get(server.url + created.headers["Location"]).status_code == 200
    edit = session.post(f"{server.url}/admin/space/edit/{space_id}",
                        data={"name": "renamed", "card_type": "websockets", "max_workers": "2"}, allow_redirects=False)
    assert edit.status_code == 302
    assert ws_status(server, space_id)["max_workers"] == 2
    deleted = session.post(f"{server.url}/admin/space/delete/{space_id}", allow_redirects=False)
    assert deleted.status_code == 302
    assert requests.get(f"{server.url}/ai_project/{space_id}").status_code == 404
    assert "login" in requests.get(server.url + "/login").text.lower()
    assert requests.get(server.url + "/").status_code == 200


def test_duplicate_websockets_name_rejected(server):
    session = admin(server)
    _, name = create_space(server, session)
    response = session.post(server.url + "/admin/space/add", data={"name": name, "card_type": "websockets"})
    assert response.status_code == 409 and response.json()["code"] == "duplicate_name"
    # A standard space may share the name.
    assert session.post(server.url + "/admin/space/add", data={"name": name, "card_type": "standard"},
                        allow_redirects=False).status_code == 302


def test_metrics(server):
    text = requests.get(server.url + "/metrics").text
    for name in ("spaces_socket_connections", "spaces_worker_connections", "spaces_queue_depth", "spaces_requests{",
                 "spaces_dispatch_wait_seconds_bucket", "spaces_processing_seconds_count"):
        assert name in text


# ---------------------------------------------------------------------------------------------------------------
# Restarts


def test_server_killed_and_restarted(backend):
    data_dir = tempfile.mkdtemp(prefix="spaces-kill-")
    database = backend.new_database()
    first = Spaces(data_dir, database=database).start()
    try:
        space_id, name = create_space(first)
        user = new_user(first)
        worker = SyncWorker(first.url, name, name="before", behaviour=Behaviour(delay=0.3)).start()
        ids = [submit(user, first, space_id, prompt=f"r{i}").json()["request_id"] for i in range(6)]
        done_before = wait_status(user, first, ids[0])
        assert done_before["status"] == "completed"
        first.kill()
        worker.stop()

        second = Spaces(data_dir, database=database).start()
        try:
            # The session cookie survives (the secret is in the data folder); old ids still answer.
            user_again = requests.Session()
            user_again.cookies.update(user.cookies)
            old = status(user_again, second, ids[0]).json()
            assert old["status"] == "completed" and old["result"]["text_output"] == "echo: r0"
            pending = [rid for rid in ids if status(user_again, second, rid).json()["status"] != "completed"]
            assert pending, "some requests should still be pending after the kill"
            assert all(status(user_again, second, rid).json()["status"] == "queued" for rid in pending)
            after = SyncWorker(second.url, name, name="after").start()
            for rid in pending:
                final = wait_status(user_again, second, rid, timeout=20)
                assert final["status"] == "completed" and final["result"]["model_used"] == "after"
            after.stop()
        finally:
            second.stop()
    finally:
        first.stop() if first.proc.poll() is None else None
        shutil.rmtree(data_dir, ignore_errors=True)


def test_sigterm_is_graceful(backend):
    data_dir = tempfile.mkdtemp(prefix="spaces-term-")
    database = backend.new_database()
    first = Spaces(data_dir, database=database).start()
    try:
        space_id, name = create_space(first)
        user = new_user(first)
        worker = SyncWorker(first.url, name, name="long", behaviour=Behaviour(delay=30)).start()
        request_id = submit(user, first, space_id, prompt="in flight").json()["request_id"]
        wait_for(lambda: worker.received, what="dispatch")
        started = time.monotonic()
        assert first.terminate() == 0
        assert time.monotonic() - started < 10
        assert worker.disconnected.wait(5), "the worker should see a disconnect"
        worker.stop()

        second = Spaces(data_dir, database=database).start()
        try:
            session = requests.Session()
            session.cookies.update(user.cookies)
            body = status(session, second, request_id).json()
            assert body["status"] == "queued" and body["deliveries"] == 0, body
            fresh = SyncWorker(second.url, name, name="fresh").start()
            assert wait_status(session, second, request_id)["result"]["model_used"] == "fresh"
            fresh.stop()
        finally:
            second.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Load: many users, three workers, nothing lost or duplicated


LOAD_USERS = int(os.environ.get("SPACES_LOAD_USERS", "50"))
LOAD_REQUESTS = int(os.environ.get("SPACES_LOAD_REQUESTS", "200"))


@pytest.mark.timeout(300)
def test_many_users_three_workers_nothing_lost(server):
    space_id, name = create_space(server, max_workers="3")
    workers = [SyncWorker(server.url, name, name="load0").start(),
               SyncWorker(server.url, name, name="load1", transports=["polling"]).start(),
               AsyncWorker(server.url, name, name="load2").start()]
    try:
        users = [new_user(server) for _ in range(LOAD_USERS)]

        def run_user(user):
            ids = []
            for i in range(LOAD_REQUESTS):
                response = submit(user, server, space_id, prompt=f"{user.username} {i}")
                assert response.status_code == 200, response.text
                ids.append(response.json()["request_id"])
            return user, ids

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(run_user, users))
        all_ids = [rid for _, ids in results for rid in ids]
        assert len(set(all_ids)) == LOAD_USERS * LOAD_REQUESTS

        def processed():
            return sum(len(w.done) for w in workers)
        wait_for(lambda: processed() >= len(all_ids), timeout=240, what=f"{len(all_ids)} results")
        done = [rid for w in workers for rid in w.done]
        assert len(done) == len(set(done)) == len(all_ids), "a request was processed twice"
        assert set(done) == set(all_ids)
        time.sleep(0.5)
        for user, ids in results[:5]:
            listed = user.get(server.url + "/websockets/requests", params={"space_id": space_id, "limit": 1000}).json()
            assert sorted(r["request_id"] for r in listed["requests"]) == sorted(ids)
            assert all(r["status"] == "completed" for r in listed["requests"])
        metrics = requests.get(server.url + "/metrics").text
        assert f'spaces_queue_depth{{space_id="{space_id}"' in metrics
    finally:
        for worker in workers:
            worker.stop()


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL outage


def test_postgres_restarted_mid_run():
    """A submit while PostgreSQL is down answers 503 database_unavailable with Retry-After; once it is back the
    node reconnects by itself, and nothing accepted before the outage is lost: neither the completed requests nor
    one whose worker answered during the outage."""
    with PostgresServer() as postgres:
        data_dir = tempfile.mkdtemp(prefix="spaces-pg-restart-")
        spaces = Spaces(data_dir, database=postgres.create_database()).start()
        try:
            space_id, name = create_space(spaces)
            user = new_user(spaces)
            worker = SyncWorker(spaces.url, name, name="steady").start()
            before = [submit(user, spaces, space_id, prompt=f"before {i}").json()["request_id"] for i in range(5)]
            for request_id in before:
                assert wait_status(user, spaces, request_id)["status"] == "completed"
            slow_space, slow_name = create_space(spaces)
            slow = SyncWorker(spaces.url, slow_name, name="slow", behaviour=Behaviour(delay=3)).start()
            held = submit(user, spaces, slow_space, prompt="held").json()["request_id"]
            wait_for(lambda: slow.received, what="dispatch of the held request")

            postgres.stop()
            refused = submit(user, spaces, space_id, prompt="during")
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "database_unavailable" and refused.json()["error"]
            assert int(refused.headers["Retry-After"]) > 0
            unreadable = status(user, spaces, before[0])
            assert unreadable.status_code == 503 and unreadable.json()["code"] == "database_unavailable"
            wait_for(lambda: slow.done, what="the slow worker's answer, sent while the database is down")

            postgres.start()
            after = submit(user, spaces, space_id, prompt="after")
            assert after.status_code == 200, after.text
            assert wait_status(user, spaces, after.json()["request_id"])["result"]["text_output"] == "echo: after"
            for i, request_id in enumerate(before):
                body = status(user, spaces, request_id).json()
                assert body["status"] == "completed" and body["result"]["text_output"] == f"echo: before {i}", body
            assert wait_status(user, spaces, held)["result"]["text_output"] == "echo: held"
            worker.stop()
            slow.stop()
        finally:
            spaces.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
