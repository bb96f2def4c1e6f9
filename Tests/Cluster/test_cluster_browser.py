"""The official socket.io JS client (the 4.x browser build out of the nicegui wheel, as Tests/Browser gets
it) in headless Chromium, connected to node A, receives what is emitted on node B: a room broadcast with
JSON and binary arguments, on `/` and `/admin`, and answers a broadcast-with-ack asked on node C."""
import os
import sys
import tempfile

import pytest

from cluster_support import ROOT, WAIT

try:
    from playwright.sync_api import sync_playwright
except ImportError as error:  # pragma: no cover
    pytest.skip(f"playwright is not importable ({error})", allow_module_level=True)

sys.path.insert(0, os.path.join(ROOT, "Tests", "Browser"))
from run_browser_tests import fetch_client  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGE_PATH = "/__cluster_test/"
WAIT_MS = int(WAIT * 1000)

pytestmark = pytest.mark.timeout(240)

PAGE = """<!DOCTYPE html>
<meta charset="utf-8"><title>cluster test</title>
<script src="socket.io.min.js"></script>
<script>
window.events = [];
// ArrayBuffers as byte lists, so Python can compare them.
const plain = (value) => value instanceof ArrayBuffer ? {bytes: Array.from(new Uint8Array(value))}
  : Array.isArray(value) ? value.map(plain)
  : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  : value;
window.start = (namespace, room) => new Promise((resolve, reject) => {
  const socket = io(namespace, {auth: {name: "browser"}});
  socket.onAny((event, ...args) => {
    const last = args[args.length - 1];
    if (typeof last === "function") { args.pop(); last("browser-says-" + args[0]); }
    window.events.push([namespace, event, plain(args)]);
  });
  socket.on("connect_error", (error) => reject(String(error)));
  socket.on("connect", () => socket.emit("join", room, (ok) => resolve([socket.id, ok])));
});
</script>
"""


@pytest.fixture(scope="module")
def client_js():
    with tempfile.TemporaryDirectory(prefix="cluster-browser-") as workdir:
        return fetch_client(workdir)


def test_official_client_on_node_a_receives_what_node_b_emits(cluster3, client_js):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: make chromium (apt-get install chromium), or set CHROMIUM")
    node_a, node_b, node_c = cluster3.nodes
    sender = cluster3.peer(node_b, "sender")
    asker = cluster3.peer(node_c, "asker")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-dev-shm-usage", "--disable-features=LocalNetworkAccessChecks"])
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            def serve(route):
                if route.request.url.split("?")[0].endswith("/socket.io.min.js"):
                    route.fulfill(status=200, content_type="application/javascript", body=client_js)
                else:
                    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)

            page.route(f"**{PAGE_PATH}**", serve)
            page.goto(f"http://127.0.0.1:{node_a.port}{PAGE_PATH}index.html")
            for namespace in ("/", "/admin"):
                sid, joined = page.evaluate("([ns, room]) => window.start(ns, room)", [namespace, "browsers"])
                assert joined is True
                found = sender.call("fetch-sockets", {"room": "browsers"}, namespace)
                assert [(s["id"], s["data"]) for s in found] == [(sid, {"name": "browser"})]

                request = {"room": "browsers", "event": "from-b", "args": ["hello", {"n": 1, "list": [True, None]}]}
                assert sender.call("to-room", request, namespace) is True
                assert sender.call("binary-to-room", {"room": "browsers"}, namespace) is True
                page.wait_for_function("(ns) => events.filter((e) => e[0] === ns && e[1] === 'bin').length === 1",
                                       arg=namespace)
                # (On `/`, sio-echo also greets each socket with `auth`.)
                events = page.evaluate("(ns) => events.filter((e) => e[0] === ns && e[1] !== 'auth')", namespace)
                assert [e[1:] for e in events] == [
                    ["from-b", ["hello", {"n": 1, "list": [True, None]}]],
                    ["bin", [{"bytes": [1, 2, 3, 255]}, {"nested": {"bytes": [104, 105]}}]],
                ]
                result = asker.call("broadcast-with-ack", {"room": "browsers", "event": "question"}, namespace)
                assert result == {"err": None, "responses": ["browser-says-q"]}
            assert errors == []
        finally:
            browser.close()
