"""The programs of Examples/ against real peers.

- chat-server: python-socketio clients chat through it; its page runs in headless Chromium (Playwright) and
  talks with a python-socketio client; SIGTERM disconnects everyone and exits 0.
- chat-client: lines on its stdin reach a python-socketio server (aiohttp) and our chat-server, in order,
  and it prints the messages it receives.
- live-counter: python-socketio clients watch counters (rooms) and see every increment of theirs only.

The binaries come from EXAMPLES_BIN_DIR (default Examples/.build/debug; `make examples-test` builds them).
The chat page loads /socket.io/socket.io.js from the server; while the server does not serve it, the test
serves the official client there (from the nicegui wheel, as Tests/Browser/run_browser_tests.py fetches it).

    .venv/bin/python -m pytest -q Tests/Examples/examples_test.py
"""
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request

import pytest
import socketio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Interop"))
from server_process import ServerProcess  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("EXAMPLES_BIN_DIR", os.path.join(ROOT, "Examples", ".build", "debug"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WAIT = 15.0

pytestmark = pytest.mark.timeout(180)


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: swift build --package-path Examples (or set EXAMPLES_BIN_DIR)")
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Program(ServerProcess):
    """An example server started on a free port (its only argument); ready once it printed its "listening on
    port N" line. `stop()` (SIGTERM, bounded wait) comes from ServerProcess."""

    def __init__(self, name):
        super().__init__(binary(name))
        self.port = free_port()
        self.proc = subprocess.Popen([self.binary, str(self.port)], stdout=subprocess.PIPE, stderr=sys.stderr,
                                     text=True)
        line = self.proc.stdout.readline()
        assert f"listening on port {self.port}" in line, f"{name} printed {line!r} (exit code {self.proc.poll()})"
        self.url = f"http://127.0.0.1:{self.port}"


@pytest.fixture
def chat_server():
    server = Program("chat-server")
    yield server
    server.stop()


@pytest.fixture
def counter_server():
    server = Program("live-counter")
    yield server
    server.stop()


class Client:
    """A python-socketio client recording every event it gets."""

    def __init__(self, url, name=None):
        self.sio = socketio.Client(reconnection=False)
        self.events = queue.Queue()
        self.sio.on("*", lambda event, *args: self.events.put((event, list(args))))
        self.sio.on("disconnect", lambda *reason: self.events.put(("disconnect", list(reason))))
        self.sio.connect(url, auth={"name": name} if name else None, transports=["websocket"], wait_timeout=10)

    def next(self, event, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event")
            name, args = self.events.get(timeout=remaining)
            if name == event:
                return args

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


def test_chat_server_relays_messages_to_everyone_and_acknowledges():
    server = Program("chat-server")
    try:
        alice = Client(server.url, "alice")
        bob = Client(server.url, "bob")
        assert alice.next("joined") == ["bob"]
        assert alice.sio.call("chat", "hello", timeout=10) is True
        assert alice.next("chat") == [{"from": "alice", "text": "hello"}]
        assert bob.next("chat") == [{"from": "alice", "text": "hello"}]
        assert bob.sio.call("chat", "", timeout=10) is False
        # Routes beside Socket.IO: the page at /, 404 elsewhere.
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            assert response.status == 200 and b"<title>Chat</title>" in response.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url + "/nowhere", timeout=10)
        assert missing.value.code == 404
        bob.close()
        assert alice.next("left") == ["bob"]
        # SIGTERM: the connection closes (as Node's io.close(): a transport reason, so clients reconnect to the
        # next server) and the process exits 0.
        server.proc.send_signal(signal.SIGTERM)
        assert alice.next("disconnect")[0] in ("transport close", "transport error")
        assert server.proc.wait(timeout=10) == 0
    finally:
        server.stop()


def test_live_counter_broadcasts_each_counter_to_its_watchers(counter_server):
    watcher_a = Client(counter_server.url)
    watcher_b = Client(counter_server.url)
    actor = Client(counter_server.url)
    try:
        assert watcher_a.sio.call("watch", "a", timeout=10) == {"counter": "a", "value": 0}
        assert watcher_b.sio.call("watch", "b", timeout=10) == {"counter": "b", "value": 0}
        assert actor.sio.call("increment", "a", timeout=10) == 1
        assert actor.sio.call("increment", ("a", 5), timeout=10) == 6
        assert watcher_a.next("count") == [{"counter": "a", "value": 1}]
        assert watcher_a.next("count") == [{"counter": "a", "value": 6}]
        assert actor.sio.call("increment", "b", timeout=10) == 1
        # b's watcher got b's change and nothing of a's.
        assert watcher_b.next("count") == [{"counter": "b", "value": 1}]
        assert watcher_b.events.empty()
        # A late watcher starts from the current value.
        late = Client(counter_server.url)
        assert late.sio.call("watch", "a", timeout=10) == {"counter": "a", "value": 6}
        late.close()
    finally:
        for client in (watcher_a, watcher_b, actor):
            client.close()


PYTHON_CHAT_SERVER = textwrap.dedent('''
    import sys
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp")
    names = {}

    @sio.event
    async def connect(sid, environ, auth):
        names[sid] = (auth or {}).get("name", "guest")

    @sio.event
    async def chat(sid, text):
        print("got", text, flush=True)
        await sio.emit("chat", {"from": names[sid], "text": text})
        return True

    app = web.Application()
    sio.attach(app)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True))
''')


def run_cli(url, lines, name="cli"):
    result = subprocess.run([binary("chat-client"), url, name], input="".join(line + "\n" for line in lines),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_chat_client_against_python_socketio_server():
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "chat_server.py")
        with open(script, "w") as file:
            file.write(PYTHON_CHAT_SERVER)
        server = subprocess.Popen([sys.executable, script, str(port)], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "ready"
            output = run_cli(f"http://127.0.0.1:{port}", ["hello", "second line"])
            assert output[0] == f"connected to http://127.0.0.1:{port} as cli"
            assert output[1:] == ["cli: hello", "cli: second line"]
            assert [server.stdout.readline().strip() for _ in range(2)] == ["got hello", "got second line"]
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_chat_client_against_chat_server(chat_server):
    observer = Client(chat_server.url, "observer")
    try:
        output = run_cli(chat_server.url, ["one", "two", "three"], name="term")
        assert output[1:] == ["term: one", "term: two", "term: three"]
        assert observer.next("joined") == ["term"]
        assert [observer.next("chat")[0]["text"] for _ in range(3)] == ["one", "two", "three"]
        assert observer.next("left") == ["term"]
    finally:
        observer.close()


def official_client():
    """The official socket.io browser client, as the browser tests fetch it."""
    sys.path.insert(0, os.path.join(ROOT, "Tests", "Browser"))
    from run_browser_tests import fetch_client  # noqa: E402
    with tempfile.TemporaryDirectory() as folder:
        return fetch_client(folder)


def test_chat_page_in_chromium(chat_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    served = urllib.request.Request(chat_server.url + "/socket.io/socket.io.js")
    try:
        with urllib.request.urlopen(served, timeout=10) as response:
            script = None if response.status == 200 else official_client()
    except urllib.error.HTTPError:
        script = official_client()
    bob = Client(chat_server.url, "bob")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            if script is not None:
                page.route("**/socket.io/socket.io.js",
                           lambda route: route.fulfill(body=script, content_type="application/javascript"))
            page.goto(chat_server.url + "/?name=alice")
            page.wait_for_selector("body[data-connected=yes]", timeout=WAIT * 1000)
            assert bob.next("joined") == ["alice"]
            page.fill("#text", "hi from the page")
            page.click("button")
            assert bob.next("chat") == [{"from": "alice", "text": "hi from the page"}]
            # The acknowledgement clears the field; bob's message shows on the page.
            page.wait_for_function("document.getElementById('text').value === ''", timeout=WAIT * 1000)
            assert bob.sio.call("chat", "hello alice", timeout=10) is True
            page.wait_for_function(
                "[...document.querySelectorAll('#messages li')].some(li => li.textContent === 'bob: hello alice')",
                timeout=WAIT * 1000)
            page.close()
            assert bob.next("left") == ["alice"]
        finally:
            browser.close()
            bob.close()
