"""deploy/nginx.conf, run by Debian's nginx in front of two SpacesApp nodes (PostgreSQL, Redis, a shared uploads
folder and session key, --trust-proxy): unchanged python-socketio workers on each transport (polling, websocket,
polling upgraded to websocket) register through nginx, a user submits through nginx and reads the result; a
file larger than nginx's default body limit goes up and comes back down through it."""
import concurrent.futures
import hashlib
import os
import re
import shutil
import sys
import tempfile

import pytest

from cluster_support import BIN_DIR, ROOT, Redis
from nginx_support import NGINX, Nginx

sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
os.environ.setdefault("SPACES_BIN", os.path.join(BIN_DIR, "spaces"))
from postgres_server import PostgresServer  # noqa: E402
from spaces_e2e_test import Spaces, create_space, new_user, submit, wait_status  # noqa: E402
from spaces_mock_app import Behaviour, SyncWorker  # noqa: E402

pytestmark = pytest.mark.timeout(150)

CONFIG = os.path.join(ROOT, "deploy", "nginx.conf")
TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}


class Front:
    """Looks like a `Spaces` node to the e2e helpers: its URL is nginx's."""

    def __init__(self, proxy):
        self.url = proxy.url


@pytest.fixture(scope="module")
def behind_nginx():
    if not os.path.exists(NGINX):
        pytest.fail("no nginx: `make nginx` installs it")
    folders = [tempfile.mkdtemp(prefix="spaces-nginx-") for _ in range(3)]
    redis = Redis().start()
    proxy = None
    nodes = []
    try:
        with PostgresServer() as postgres:
            database = postgres.create_database()
            env = {"SPACES_REDIS": redis.url, "SPACES_TRUST_PROXY": "1",
                   "SPACES_UPLOADS_DIR": os.path.join(folders[2], "uploads"),
                   "SPACES_SESSION_KEY": os.path.join(folders[2], "session.key")}
            nodes = [Spaces(folder, extra_env=env, database=database) for folder in folders[:2]]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                list(pool.map(Spaces.start, nodes))
            proxy = Nginx(CONFIG, [node.port for node in nodes])
            yield Front(proxy), nodes
    finally:
        if proxy:
            proxy.stop()
        for node in nodes:
            node.stop()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_worker_and_user_through_nginx(behind_nginx, transport):
    front, _ = behind_nginx
    space_id, name = create_space(front)
    worker = SyncWorker(front.url, name, name=f"nginx-{transport}", transports=TRANSPORTS[transport]).start()
    try:
        assert worker.responses[0]["success"] is True, worker.responses
        user = new_user(front)
        request_ids = []
        for index in range(3):
            answer = submit(user, front, space_id, prompt=f"through nginx {index}")
            assert answer.status_code == 200, answer.text
            request_ids.append(answer.json()["request_id"])
        for index, request_id in enumerate(request_ids):
            final = wait_status(user, front, request_id)
            assert final["status"] == "completed", final
            assert final["result"]["text_output"] == f"echo: through nginx {index}"
            assert final["result"]["model_used"] == f"nginx-{transport}"
        assert sorted(worker.done) == sorted(request_ids)  # each exactly once
    finally:
        worker.stop()


def test_large_upload_through_nginx(behind_nginx):
    front, _ = behind_nginx
    space_id, name = create_space(front, ws_enable_file_upload="on")
    result_bytes = os.urandom(3 * 1024 * 1024)
    worker = SyncWorker(front.url, name, behaviour=Behaviour(download=True, upload_result=result_bytes)).start()
    try:
        user = new_user(front)
        upload = os.urandom(5 * 1024 * 1024)  # nginx refuses bodies over 1 MB unless told otherwise
        answer = submit(user, front, space_id, prompt="big", files={"other_file": ("big.bin", upload)})
        assert answer.status_code == 200, answer.text[:300]
        final = wait_status(user, front, answer.json()["request_id"])
        assert final["status"] == "completed", final
        assert final["result"]["file_hashes"]["file"] == hashlib.sha256(upload).hexdigest()
        assert final["result"]["upload_status"] == 200
        assert final["result"]["file_url"].startswith(front.url + "/uploads/")
        assert user.get(final["result"]["file_url"], timeout=20).content == result_bytes
    finally:
        worker.stop()


def test_timeouts_outlast_the_heartbeat():
    """Every proxy timeout in the config is above spaces' default pingInterval + pingTimeout (25 s + 20 s)."""
    with open(CONFIG) as handle:
        text = handle.read()
    timeouts = [int(seconds) for seconds in re.findall(r"proxy_(?:read|send)_timeout (\d+)s;", text)]
    assert timeouts and min(timeouts) > 25 + 20
    assert "hash $remote_addr consistent;" in text
