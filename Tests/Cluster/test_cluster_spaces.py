"""`spaces --redis URL` (SPACES_REDIS): two SpacesApp nodes, each with its own data folder, on one Redis. A
page on node B that watches every space (`watch_spaces`) gets the live `space_update` that node A sends when
a worker registers on A's space: the Socket.IO broadcasts to rooms of browsers cross nodes."""
import os
import shutil
import sys
import tempfile

import pytest
import socketio

from cluster_support import BIN_DIR, ROOT, WAIT, wait_until

sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
os.environ.setdefault("SPACES_BIN", os.path.join(BIN_DIR, "spaces"))
from spaces_e2e_test import Spaces, create_space  # noqa: E402

pytestmark = pytest.mark.timeout(90)


def test_space_update_made_on_node_a_reaches_a_page_on_node_b(redis):
    folders = [tempfile.mkdtemp(prefix="cluster-spaces-") for _ in range(2)]
    nodes = [Spaces(folder, extra_env={"SPACES_REDIS": redis.url}) for folder in folders]
    page = socketio.Client(reconnection=False)
    worker = socketio.Client(reconnection=False)
    try:
        node_a, node_b = (node.start() for node in nodes)
        space_id, name = create_space(node_a)
        updates = []
        offsets = []

        def on_space_update(state, *rest):
            # SpacesApp recovers connection state, so a broadcast update also carries its offset.
            updates.append(state)
            offsets.append(rest)

        page.on("space_update", on_space_update)
        page.connect(node_b.url, transports=["websocket"], wait_timeout=WAIT)
        page.emit("watch_spaces")
        # B answers watch_space at once with its own view of the id (no such space there: no workers); events
        # of one socket are handled in order, so the page is in the room `spaces` once that answer is in.
        page.emit("watch_space", {"space_id": space_id})
        wait_until(lambda: updates, what="B's answer to watch_space")
        assert updates[0]["workers"] == 0

        registered = []
        worker.on("register_response", lambda data: registered.append(data))
        worker.connect(node_a.url, transports=["websocket"], wait_timeout=WAIT)
        worker.emit("register", {"space_name": name})
        wait_until(lambda: registered, what="the worker's registration on A")
        assert registered[0].get("success") is True, registered
        wait_until(lambda: any(u["space_id"] == space_id and u["workers"] == 1 for u in updates),
                   what="A's space_update on the page connected to B")
        assert all(len(rest) == 1 and isinstance(rest[0], str) for rest in offsets[1:]), offsets
    finally:
        for client in (page, worker):
            client.disconnect()
        for node in nodes:
            node.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
