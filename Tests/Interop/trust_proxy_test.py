"""--trust-proxy: behind a reverse proxy, X-Forwarded-For gives the client address and X-Forwarded-Proto the
scheme (left-most entries, as Express's `trust proxy = true`); without the flag those headers are ignored.

Checked from real clients' side: python-socketio asks sio-echo for its handshake (`handshake` event →
address and secure), and requests logs in to `spaces` (the session cookie's `Secure` attribute, the worker
address on the admin page). Binaries from BIN_DIR (run_interop.py sets it), else .build/release or debug.
"""
import os
import queue
import re
import shutil
import sys
import tempfile

import pytest
import requests
import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess, built_binary as binary  # noqa: E402
from spaces_e2e_test import ADMIN_PASSWORD, Spaces, create_space, login  # noqa: E402

pytestmark = pytest.mark.timeout(120)

PROXY_HEADERS = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2", "X-Forwarded-Proto": "https"}


def handshake_seen(port, transports):
    """Connects with the proxy headers and returns what sio-echo's `handshake` handler answers."""
    client = socketio.Client(reconnection=False)
    try:
        client.connect(f"http://127.0.0.1:{port}", headers=PROXY_HEADERS, transports=transports, wait_timeout=10)
        return client.call("handshake", timeout=10)
    finally:
        client.disconnect()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_sio_echo_reads_forwarded_headers_only_when_trusted(transports):
    with ServerProcess(binary("sio-echo"), "--trust-proxy", "--host", "127.0.0.1") as trusted:
        assert handshake_seen(trusted.port, transports) == {"address": "203.0.113.7", "secure": True}
    with ServerProcess(binary("sio-echo"), "--host", "127.0.0.1") as plain:
        assert handshake_seen(plain.port, transports) == {"address": "127.0.0.1", "secure": False}


def set_cookie_of_login(server, headers):
    response = requests.post(server.url + "/login", data={"username": "admin", "password": ADMIN_PASSWORD},
                             headers=headers, allow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Set-Cookie"]


def worker_address_on_admin_page(server):
    """Registers a python-socketio worker (through the "proxy") and reads its address off the admin page."""
    _, name = create_space(server)
    answers = queue.Queue()
    worker = socketio.Client(reconnection=False)
    worker.on("register_response", answers.put)
    worker.connect(server.url, headers=PROXY_HEADERS, transports=["websocket"], wait_timeout=10)
    try:
        worker.emit("register", {"space_name": name})
        assert answers.get(timeout=10)["success"] is True
        page = login(server.url, "admin", ADMIN_PASSWORD).get(server.url + "/admin").text
        rows = re.findall(r"<td>([0-9a-f:.]+)</td>", page)
        return rows
    finally:
        worker.disconnect()


@pytest.mark.parametrize("trusted", [True, False], ids=["trust-proxy", "no-flag"])
def test_spaces_session_cookie_and_admin_address(trusted):
    data_dir = tempfile.mkdtemp(prefix="spaces-proxy-")
    server = Spaces(data_dir, extra_env={"SPACES_TRUST_PROXY": "1"} if trusted else {}).start()
    try:
        proxied = set_cookie_of_login(server, {"X-Forwarded-Proto": "https"})
        direct = set_cookie_of_login(server, {})
        assert ("Secure" in proxied) == trusted, proxied
        assert "Secure" not in direct, direct
        addresses = worker_address_on_admin_page(server)
        assert ("203.0.113.7" if trusted else "127.0.0.1") in addresses, addresses
        assert ("127.0.0.1" if trusted else "203.0.113.7") not in addresses, addresses
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
