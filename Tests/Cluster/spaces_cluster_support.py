"""Two or more `spaces` nodes on one real PostgreSQL (the cluster queue) and one Redis (the live pages), for the
cluster tests of SpacesApp. Each node has its own data folder; they share the session key, as a site's nodes
must, so that one login works on every node."""
import os
import shutil
import sys
import tempfile

import requests
import socketio

from cluster_support import BIN_DIR, ROOT, WAIT, wait_until

sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
os.environ.setdefault("SPACES_BIN", os.path.join(BIN_DIR, "spaces"))
from postgres_server import PostgresServer  # noqa: E402,F401
from spaces_e2e_test import FINAL, Spaces, admin, status  # noqa: E402,F401


class SpacesCluster:
    """`count` nodes on the database `database_url` and the Redis at `redis_url`."""

    def __init__(self, database_url, redis_url, count=2):
        self.database = database_url
        self.key = os.urandom(32).hex()
        self.nodes = []
        for _ in range(count):
            folder = tempfile.mkdtemp(prefix="cluster-spaces-q-")
            with open(os.path.join(folder, "session.key"), "w") as handle:
                handle.write(self.key)
            self.nodes.append(Spaces(folder, extra_env={"SPACES_REDIS": redis_url}, database=database_url))

    def start(self):
        for node in self.nodes:
            node.start()
        return self

    def restart(self, index):
        """Starts node `index` again on the same data folder (so the same node id) and port."""
        old = self.nodes[index]
        node = Spaces(old.data_dir, extra_env=old.extra_env, database=self.database, port=old.port)
        self.nodes[index] = node.start()
        return node

    def close(self):
        for node in self.nodes:
            if node.proc and node.proc.poll() is None:
                node.kill()
            shutil.rmtree(node.data_dir, ignore_errors=True)


def node_id(node):
    with open(os.path.join(node.data_dir, "node-id")) as handle:
        return handle.read().strip()


def cluster_status(node):
    response = admin(node).get(node.url + "/admin/websockets/status", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_final(session, node, request_id, timeout=WAIT * 2):
    """The request's status once final (read from `node`)."""
    body = {}

    def final():
        body.update(status(session, node, request_id).json())
        return body.get("status") in FINAL

    wait_until(final, timeout=timeout, what=f"request {request_id} to finish (last: {body})")
    return dict(body)


def metric(node, name):
    """The value of an unlabelled metric on `node`."""
    for line in requests.get(node.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class RawWorker:
    """A python-socketio worker that answers nothing by itself: the test decides (to hold requests, forge
    results, see cancels)."""

    def __init__(self, node, space_name, concurrency=1):
        self.received = []
        self.cancels = []
        self.responses = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("register_response", self.responses.append)
        self.sio.on("inference_request", self.received.append)
        self.sio.on("inference_cancel", self.cancels.append)
        self.sio.connect(node.url, transports=["websocket"], wait_timeout=WAIT)
        self.sio.emit("register", {"space_name": space_name, "concurrency": concurrency})
        wait_until(lambda: self.responses, what="register_response")

    @property
    def registered(self):
        return bool(self.responses and self.responses[-1].get("success"))

    def answer(self, request_id, text="ok", status_="completed"):
        self.sio.emit("inference_result", {"request_id": request_id, "status": status_, "result": {"text_output": text}})

    def close(self):
        self.sio.disconnect()
