"""Two `spaces` nodes on one PostgreSQL database, sharing an uploads folder (SPACES_UPLOADS_DIR) and a session
key file (SPACES_SESSION_KEY), each with its own data folder: a file a user uploads through node A, and the
result file A's worker uploads, are served by node B at their signed URLs; B refuses them without the token;
a login made on A is valid on B; a space cover added on A is served by B. A third node with its own key file
does not accept A's login cookie (the key is what makes cookies portable, not chance)."""
import concurrent.futures
import hashlib
import os
import shutil
import sys
import tempfile

import pytest
import requests

from cluster_support import BIN_DIR, ROOT

sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
os.environ.setdefault("SPACES_BIN", os.path.join(BIN_DIR, "spaces"))
from postgres_server import PostgresServer  # noqa: E402
from spaces_e2e_test import Spaces, create_space, admin, login, new_user, submit, wait_status  # noqa: E402
from spaces_mock_app import Behaviour, SyncWorker  # noqa: E402

pytestmark = pytest.mark.timeout(120)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def two_nodes():
    folders = [tempfile.mkdtemp(prefix="shared-uploads-") for _ in range(3)]
    shared = folders[2]
    with PostgresServer() as postgres:
        database = postgres.create_database()
        env = {"SPACES_UPLOADS_DIR": os.path.join(shared, "uploads"),
               "SPACES_SESSION_KEY": os.path.join(shared, "session.key")}
        nodes = [Spaces(folder, extra_env=env, database=database) for folder in folders[:2]]
        try:
            # Started together: both create the missing key file at once, and must end up with the same key.
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                list(pool.map(Spaces.start, nodes))
            yield nodes, database, shared
        finally:
            for node in nodes:
                node.stop()
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)


def on(node, url):
    """`url` (made by whichever node) pointed at `node`."""
    path = url.split("/", 3)[3]
    return f"{node.url}/{path}"


def test_files_uploaded_on_node_a_are_served_by_node_b(two_nodes):
    (node_a, node_b), _, shared = two_nodes
    space_id, name = create_space(node_a, ws_enable_file_upload="on")
    result_bytes = os.urandom(150_000)
    worker = SyncWorker(node_a.url, name, behaviour=Behaviour(download=True, upload_result=result_bytes)).start()
    try:
        user = new_user(node_a)
        upload = os.urandom(120_000)
        response = submit(user, node_a, space_id, prompt="shared", files={"other_file": ("data.bin", upload)})
        assert response.status_code == 200, response.text
        final = wait_status(user, node_a, response.json()["request_id"])
        assert final["status"] == "completed", final
        assert final["result"]["file_hashes"]["file"] == hashlib.sha256(upload).hexdigest()
        assert final["result"]["upload_status"] == 200
        # Both files sit in the shared folder, not in A's data folder.
        assert os.listdir(os.path.join(shared, "uploads", final["request_id"]))
        assert not os.path.exists(os.path.join(node_a.data_dir, "uploads", final["request_id"]))

        submitted_url = on(node_b, worker.received[0]["payload"]["file"])
        fetched = requests.get(submitted_url, timeout=10)
        assert fetched.status_code == 200 and fetched.content == upload
        result_url = on(node_b, final["result"]["file_url"])
        fetched = requests.get(result_url, timeout=10)
        assert fetched.status_code == 200 and fetched.content == result_bytes
        assert requests.get(result_url.split("?")[0], timeout=10).status_code == 401
        assert requests.get(result_url.split("?")[0] + "?token=forged", timeout=10).status_code == 401

        # A's login cookie is valid on B: the owner reads the file there without the token.
        b_session = requests.Session()
        b_session.cookies.update(user.cookies)
        assert b_session.get(result_url.split("?")[0], timeout=10).status_code == 200
        assert b_session.get(node_b.url + "/websockets/status",
                             params={"request_id": final["request_id"]}, timeout=10).json()["status"] == "completed"
    finally:
        worker.stop()


def test_cover_added_on_node_a_is_served_by_node_b(two_nodes):
    (node_a, node_b), _, _ = two_nodes
    session = admin(node_a)
    data = {"name": "covered-space", "description": "with a cover", "card_type": "websockets",
            "ws_enable_prompt": "on", "ws_rate_limit_seconds": "0"}
    response = session.post(node_a.url + "/admin/space/add", data=data,
                            files={"cover_image": ("cover.png", PNG, "image/png")}, allow_redirects=False)
    assert response.status_code == 302, response.text
    page = requests.get(node_b.url + "/", timeout=10).text
    covers = [part.split('"')[0] for part in page.split("/covers/")[1:]]
    assert covers, "node B's home page shows no cover"
    fetched = requests.get(node_b.url + "/covers/" + covers[0], timeout=10)
    assert fetched.status_code == 200 and fetched.content == PNG


def test_a_node_with_another_key_refuses_the_cookie(two_nodes):
    (node_a, _), database, shared = two_nodes
    folder = tempfile.mkdtemp(prefix="other-key-")
    other = Spaces(folder, extra_env={"SPACES_UPLOADS_DIR": os.path.join(shared, "uploads")}, database=database)
    try:
        other.start()
        user = login(node_a.url, "admin", "admin-secret-pw")
        assert user.get(node_a.url + "/admin", allow_redirects=False, timeout=10).status_code == 200
        foreign = requests.Session()
        foreign.cookies.update(user.cookies)
        assert foreign.get(other.url + "/admin", allow_redirects=False, timeout=10).status_code != 200
    finally:
        other.stop()
        shutil.rmtree(folder, ignore_errors=True)
