"""The browser client that our server serves at /socket.io/socket.io.js, next to the official one.

tests.js (run_browser_tests.py) runs the shared page with both clients against sio-echo and python-socketio;
this file covers what that page cannot: how the file is served (ETag, 304, gzip, minified, serveClient off),
`io()` and its URL forms, timeouts on emits, onAny/once/off, connect errors, disconnect reasons
("transport close", "transport error", "ping timeout"), and reconnection after a server restart with the
Manager's reconnect events. Each browser test runs with our client and with the official one (socket.io.min.js
from the nicegui wheel, fetched as run_browser_tests.py does), and against python-socketio where it has the
handlers.

- Chromium is the Debian package (CHROMIUM=/path overrides), driven by Playwright from the venv (the browser
  and page fixtures of live_client_test.py).
- sio-echo comes from SPACES_BIN_DIR (default .build/release).
- The page is served by Playwright's routing at the server's own origin, so `io()` means that server; with our
  client against sio-echo the script is the one sio-echo really serves.
- Every wait is bounded.

    .venv/bin/python -m pytest -q Tests/Browser/socketio_js_test.py
"""
import gzip
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

try:
    import playwright.sync_api  # noqa: F401
except ImportError as error:  # pragma: no cover
    pytest.skip(f"playwright is not importable ({error}); pip install playwright into the venv",
                allow_module_level=True)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
sys.path.insert(0, HERE)
from server_process import ServerProcess  # noqa: E402
import run_browser_tests  # noqa: E402
from live_client_test import browser, page  # noqa: E402,F401 - the same Chromium and page fixtures

BIN_DIR = os.environ.get("SPACES_BIN_DIR", os.path.join(ROOT, ".build", "release"))
SIO_ECHO = os.path.join(BIN_DIR, "sio-echo")
PY_SERVER = os.path.join(HERE, "python_echo_server.py")
SOURCE = os.path.join(ROOT, "Sources", "SocketIO", "BrowserClient", "socket.io.js")
ARGS = ["--loops", "2", "--ping-interval", "1000", "--ping-timeout", "5000", "--connect-timeout", "10000"]
# Short heartbeats for the ping timeout test: the client gives up after interval + timeout = 1.5 s.
FAST_PING_ARGS = ["--loops", "2", "--ping-interval", "500", "--ping-timeout", "1000", "--connect-timeout", "10000"]
PAGE_PATH = "/__sio_js_test/"
PAGE = """<!DOCTYPE html>
<meta charset="utf-8"><title>socket.io.js test</title>
<script src="SCRIPT"></script>
<script>
window.events = [];
window.record = (...entry) => events.push(entry);
window.settle = (promise, ms) => Promise.race([promise, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out after ' + ms + ' ms')), ms))]);
window.next = (emitter, event, ms) => settle(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms || 10000);
</script>
"""

pytestmark = pytest.mark.timeout(180)


def server(kind, *args, port=0):
    if kind == "python-socketio":
        return ServerProcess(sys.executable, PY_SERVER, *args, port=port)
    if not os.path.exists(SIO_ECHO):
        pytest.fail(f"{SIO_ECHO} is missing: swift build -c release --product sio-echo (or set SPACES_BIN_DIR)")
    return ServerProcess(SIO_ECHO, *args, port=port)


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def scripts():
    """The client files: ours as sio-echo serves it, and the official browser build."""
    with server("sio-echo", *ARGS) as echo:
        status, _, ours = get(f"http://127.0.0.1:{echo.port}/socket.io/socket.io.js")
        assert status == 200
    with tempfile.TemporaryDirectory(prefix="sio-js-test-") as workdir:
        official = run_browser_tests.fetch_client(workdir)
    return {"ours": ours, "official": official}


def open_page(page, port, client, scripts, served_by_server=False):
    """The test page at http://127.0.0.1:port, with `client`'s script (the server's own file when asked)."""
    script = "/socket.io/socket.io.js" if served_by_server else PAGE_PATH + "client.js"

    def serve(route):
        if route.request.url.split("?")[0].endswith("/client.js"):
            route.fulfill(status=200, content_type="application/javascript", body=scripts[client])
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE.replace("SCRIPT", script))

    page.route(f"**{PAGE_PATH}**", serve)
    page.goto(f"http://127.0.0.1:{port}{PAGE_PATH}index.html")
    assert page.evaluate("typeof io") == "function"


CLIENTS = pytest.mark.parametrize("client", ["ours", "official"])
SERVERS = pytest.mark.parametrize("kind", ["sio-echo", "python-socketio"])


# 1. Serving the file.

def test_served_minified_with_etag_gzip_and_304():
    with open(SOURCE, "rb") as f:
        source = f.read()
    with server("sio-echo", *ARGS) as echo:
        base = f"http://127.0.0.1:{echo.port}/socket.io/"
        status, headers, body = get(base + "socket.io.js")
        assert status == 200
        assert headers["Content-Type"].startswith("application/javascript")
        assert 0 < len(body) < len(source) * 0.8, (len(body), len(source))
        assert b"/*" not in body[:200] and b"global.io = io" in body or b"global.io=io" in body
        etag = headers["ETag"]
        assert re.fullmatch(r'"[0-9a-z]+"', etag)
        status, headers304, body304 = get(base + "socket.io.js", {"If-None-Match": etag})
        assert (status, body304, headers304["ETag"]) == (304, b"", etag)
        assert get(base + "socket.io.js", {"If-None-Match": '"other"'})[0] == 200
        status, zipped_headers, zipped = get(base + "socket.io.js", {"Accept-Encoding": "gzip"})
        assert status == 200 and zipped_headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped) == body and len(zipped) < len(body) / 2
        assert get(base + "socket.io.min.js")[2] == body
        assert get(base + "other.js")[0] == 400  # left to Engine.IO, as in Node
    with server("sio-echo", *ARGS, "--no-serve-client") as echo:
        status, _, body = get(f"http://127.0.0.1:{echo.port}/socket.io/socket.io.js")
        assert status == 400 and b"Transport unknown" in body  # Engine.IO's answer, as Node without serveClient


# 2. io() and the Manager.

@CLIENTS
def test_io_defaults_to_the_page_origin_and_multiplexes(page, client, scripts):
    with server("sio-echo", *ARGS) as echo:
        open_page(page, echo.port, client, scripts, served_by_server=(client == "ours"))
        result = page.evaluate("""async () => {
            const main = io({ auth: { token: 'abc' } });
            const custom = io('/custom', { auth: { space: 'custom' } });
            const mainAuth = next(main, 'auth'), customAuth = next(custom, 'auth');
            await Promise.all([next(main, 'connect'), next(custom, 'connect')]);
            const acked = await settle(new Promise((resolve) => main.emit('echo-ack', 'hi', 2, (...a) => resolve(a))), 10000);
            const withAck = await main.emitWithAck('echo-ack', { a: [1] });
            const other = io({ forceNew: true });
            await next(other, 'connect');
            const r = { shared: main.io === custom.io, separate: other.io !== main.io, ids: [main.id, custom.id, other.id],
                        auth: [(await mainAuth)[0], (await customAuth)[0]], acked, withAck, nsp: [main.nsp, custom.nsp],
                        uri: main.io.engine.transport.name };
            main.disconnect(); custom.disconnect(); other.disconnect();
            return r;
        }""")
    assert result["shared"] and result["separate"]
    assert all(isinstance(i, str) and i for i in result["ids"]) and len(set(result["ids"])) == 3
    assert result["auth"] == [{"token": "abc"}, {"space": "custom"}]
    assert result["acked"] == ["hi", 2] and result["withAck"] == {"a": [1]}
    assert result["nsp"] == ["/", "/custom"]


@CLIENTS
@SERVERS
def test_timeout_emit_and_listener_management(page, client, kind, scripts):
    with server(kind, *ARGS) as peer:
        open_page(page, peer.port, client, scripts)
        result = page.evaluate("""async () => {
            const s = io({ transports: ['websocket'] });
            await next(s, 'connect');
            const r = {};
            // An event nobody answers: the callback gets the timeout error first.
            r.timedOut = await settle(new Promise((resolve) =>
                s.timeout(200).emit('nobody-answers', 1, (err, ...rest) => resolve([err && err.message, rest.length]))), 10000);
            // Answered in time: null first, then the arguments.
            r.inTime = await settle(new Promise((resolve) =>
                s.timeout(5000).emit('echo-ack', 'x', (err, ...rest) => resolve([err, rest]))), 10000);
            r.rejected = await s.timeout(200).emitWithAck('nobody-answers').then(() => 'resolved', (e) => e.message);
            r.resolved = await s.timeout(5000).emitWithAck('echo-ack', 7);
            const any = [], once = [], on = [];
            const anyHandler = (...a) => any.push(a);
            const onHandler = (...a) => on.push(a);
            s.onAny(anyHandler);
            s.once('echo', (...a) => once.push(a));
            s.on('echo', onHandler);
            s.emit('echo', 1);
            await next(s, 'echo');
            s.off('echo', onHandler);
            s.offAny(anyHandler);
            s.emit('echo', 2);
            await next(s, 'echo');
            Object.assign(r, { any, once, on, listeners: s.listeners('echo').length });
            s.disconnect();
            return r;
        }""")
    assert result["timedOut"] == ["operation has timed out", 0]
    assert result["inTime"] == [None, ["x"]]
    assert result["rejected"] == "operation has timed out"
    assert result["resolved"] == 7
    assert result["any"] == [["echo", 1]] and result["once"] == [[1]] and result["on"] == [[1]]
    assert result["listeners"] == 0


@CLIENTS
def test_connect_error_carries_message_and_data(page, client, scripts):
    with server("sio-echo", *ARGS) as echo:
        open_page(page, echo.port, client, scripts)
        result = page.evaluate("""async () => {
            const refused = io('/restricted', { auth: { token: 'wrong' } });
            const [error] = await next(refused, 'connect_error');
            const admitted = io('/restricted', { auth: { token: 'secret' }, forceNew: true });
            const welcome = next(admitted, 'welcome');
            await next(admitted, 'connect');
            const r = { message: error.message, data: error.data, active: refused.active, welcome: await welcome };
            admitted.disconnect();
            return r;
        }""")
    assert result == {"message": "not authorized", "data": {"reason": "bad token"}, "active": False,
                      "welcome": ["/restricted"]}


# 3. Disconnect reasons and reconnection.

@CLIENTS
@SERVERS
def test_transport_close_when_the_server_drops_the_connection(page, client, kind, scripts):
    with server(kind, *ARGS) as peer:
        open_page(page, peer.port, client, scripts)
        result = page.evaluate("""async () => {
            const s = io({ transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 200 });
            await next(s, 'connect');
            const first = s.id;
            const gone = next(s, 'disconnect');
            const back = next(s, 'connect');
            s.emit('drop-connection');
            const [reason] = await gone;
            await back;
            const r = { reason, newId: s.id !== first, echo: await s.timeout(5000).emitWithAck('echo-ack', 'again') };
            s.disconnect();
            return r;
        }""")
    # python-socketio's drop sends a close packet but leaves the WebSocket open: both clients (which act on the
    # WebSocket's closing, not on that packet) notice through the heartbeat.
    reason = "transport close" if kind == "sio-echo" else "ping timeout"
    assert result == {"reason": reason, "newId": True, "echo": "again"}


@CLIENTS
def test_ping_timeout_when_the_server_goes_silent(page, client, scripts):
    connections = []

    def proxy(ws):
        entry = {"silent": False}
        connections.append(entry)
        upstream = ws.connect_to_server()
        upstream.on_message(lambda message: None if entry["silent"] else ws.send(message))
        upstream.on_close(lambda code, reason: None)  # the page must not learn of it from a close

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), proxy)
    with server("sio-echo", *FAST_PING_ARGS) as echo:
        open_page(page, echo.port, client, scripts)
        page.evaluate("""() => {
            window.s = io({ transports: ['websocket'], reconnection: false });
            s.on('disconnect', (reason) => record('disconnect', reason));
            s.on('connect', () => record('connect'));
        }""")
        page.wait_for_function("events.length === 1")
        connections[-1]["silent"] = True
        page.wait_for_function("events.length === 2", timeout=10_000)
        assert page.evaluate("events") == [["connect"], ["disconnect", "ping timeout"]]


@CLIENTS
@SERVERS
@pytest.mark.parametrize("transports", [["polling", "websocket"], ["polling"], ["websocket"]],
                         ids=["upgrade", "polling", "websocket"])
def test_reconnects_after_server_restart(page, client, kind, transports, scripts):
    first = server(kind, *ARGS).__enter__()
    port = first.port
    try:
        open_page(page, port, client, scripts)
        page.evaluate("""(transports) => {
            window.s = io({ transports, reconnectionDelay: 100, reconnectionDelayMax: 400, randomizationFactor: 0.5 });
            s.on('connect', () => record('connect', s.io.engine.transport.name));
            s.on('disconnect', (reason) => record('disconnect', reason));
            s.io.on('reconnect_attempt', (n) => record('reconnect_attempt', n));
            s.io.on('reconnect', (n) => record('reconnect', n));
        }""", transports)
        page.wait_for_function("events.length === 1")
        final = transports[-1]
        if final != page.evaluate("s.io.engine.transport.name"):
            page.wait_for_function("(t) => s.io.engine.transport.name === t", arg=final)
        assert page.evaluate("s.timeout(5000).emitWithAck('echo-ack', 'before')") == "before"
        first.stop()
        page.wait_for_function("events.some((e) => e[0] === 'disconnect')")
        page.wait_for_function("events.filter((e) => e[0] === 'reconnect_attempt').length >= 2")  # refused meanwhile
        with server(kind, *ARGS, port=port) as second:
            assert second.port == port
            page.wait_for_function("events.some((e) => e[0] === 'reconnect')", timeout=30_000)
            page.wait_for_function("events.filter((e) => e[0] === 'connect').length === 2")
            assert page.evaluate("s.timeout(5000).emitWithAck('echo-ack', 'after')") == "after"
            events = page.evaluate("events")
            page.evaluate("s.disconnect()")
    finally:
        first.stop()
    disconnect = [e for e in events if e[0] == "disconnect"]
    # WebSocket learns of the loss from its closed connection; polling from the close packet sio-echo sends on
    # its way out, or from a request that failed, whichever comes first.
    reasons = ["transport close"] + (["transport error"] if final == "polling" else [])
    assert len(disconnect) == 1 and disconnect[0][1] in reasons, events
    attempts = [e[1] for e in events if e[0] == "reconnect_attempt"]
    assert attempts == list(range(1, len(attempts) + 1)), events
    assert events[-1][0] == "connect" and [e for e in events if e[0] == "reconnect"] == [["reconnect", attempts[-1]]]
    assert events[0][0] == "connect" and events[0][1] in transports


@CLIENTS
def test_reconnection_gives_up_after_its_attempts(page, client, scripts):
    with server("sio-echo", *ARGS) as echo:
        open_page(page, echo.port, client, scripts)
    # Nothing listens on this port any more (the page itself stays: it was served by routing).
    result = page.evaluate("""async () => {
        const s = io({ reconnectionAttempts: 3, reconnectionDelay: 50, reconnectionDelayMax: 100 });
        const seen = [];
        s.on('connect_error', () => seen.push('connect_error'));
        s.io.on('reconnect_attempt', (n) => seen.push('attempt ' + n));
        s.io.on('reconnect_error', () => seen.push('reconnect_error'));
        await next(s.io, 'reconnect_failed', 20000);
        return { seen, active: s.active, connected: s.connected };
    }""")
    assert result["seen"] == ["connect_error", "attempt 1", "connect_error", "reconnect_error",
                              "attempt 2", "connect_error", "reconnect_error",
                              "attempt 3", "connect_error", "reconnect_error"], result
    assert result["connected"] is False
