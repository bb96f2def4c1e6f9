"""live.js (SpacesLive, Sources/SpacesApp/Assets/live.js) in headless Chromium against our sio-echo.

- Chromium is the Debian package (CHROMIUM=/path overrides), driven by Playwright from the venv; the file is
  skipped only when Playwright cannot be imported.
- sio-echo comes from SPACES_BIN_DIR (default .build/release): `swift build -c release --product sio-echo`.
- The test page and live.js are served by Playwright's request routing at sio-echo's own origin, so the
  client runs same-origin as it does on the SpacesApp site (one test runs cross-origin over WebSocket).
  Routing also lets tests break WebSockets (`route_web_socket`) and inject garbage into a live connection.
- sio-echo's `echo` event sends its arguments back as `echo`; on connection it emits `auth`.
- Every wait is bounded (wait_for_function / deadlines); the only fixed wait is the short quiet period that
  shows close() really stopped (absence can only be observed over time).

    .venv/bin/python -m pytest -q Tests/Browser/live_client_test.py
"""
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError as error:  # pragma: no cover
    pytest.skip(f"playwright is not importable ({error}); pip install playwright into the venv",
                allow_module_level=True)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
from server_process import ServerProcess  # noqa: E402

LIVE_JS = os.path.join(ROOT, "Sources", "SpacesApp", "Assets", "live.js")
BIN_DIR = os.environ.get("SPACES_BIN_DIR", os.path.join(ROOT, ".build", "release"))
SIO_ECHO = os.path.join(BIN_DIR, "sio-echo")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Pings every second, generous timeouts: a loaded machine must not turn into a lost connection.
SIO_ARGS = ["--loops", "2", "--ping-interval", "1000", "--ping-timeout", "5000", "--connect-timeout", "10000"]
# Short heartbeats, for the tests about heartbeats (the client's watchdog is interval + timeout = 2.5 s).
FAST_PING_ARGS = ["--loops", "2", "--ping-interval", "500", "--ping-timeout", "2000", "--connect-timeout", "10000"]
WAIT_MS = 15_000
PAGE_PATH = "/__live_test/"

pytestmark = pytest.mark.timeout(120)

PAGE = """<!DOCTYPE html>
<meta charset="utf-8"><title>live.js test</title>
<script src="live.js"></script>
<script>
window.states = [];
window.events = [];
window.start = (options) => {
  window.client = SpacesLive.connect(Object.assign({
    onState: (state, transport) => states.push([state, transport]),
    onEvent: (name, ...args) => events.push([name, args]),
  }, options || {}));
};
window.named = (name) => events.filter((e) => e[0] === name).map((e) => e[1]);
</script>
"""


class EchoServer(ServerProcess):
    """sio-echo on a given port (0: a free one)."""

    def __init__(self, *args, port=0):
        if not os.path.exists(SIO_ECHO):
            pytest.fail(f"{SIO_ECHO} is missing: swift build -c release --product sio-echo (or set SPACES_BIN_DIR)")
        super().__init__(SIO_ECHO, *args, port=port)


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM")
    with sync_playwright() as p:
        # A routed (fulfilled) document has no IP address space, so Chromium counts it as public and its Local
        # Network Access checks would block the WebSocket to 127.0.0.1; a page the site serves itself is not.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-dev-shm-usage", "--disable-features=LocalNetworkAccessChecks"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.page_errors = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    yield page
    context.close()
    assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"


@pytest.fixture
def echo():
    with EchoServer(*SIO_ARGS) as server:
        yield server


def open_page(page, port, host="127.0.0.1"):
    """Loads the test page from http://host:port (sio-echo's origin for 127.0.0.1), served by routing."""
    with open(LIVE_JS, "rb") as f:
        live_js = f.read()

    def serve(route):
        if route.request.url.split("?")[0].endswith("/live.js"):
            route.fulfill(status=200, content_type="application/javascript", body=live_js)
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)

    page.route(f"**{PAGE_PATH}**", serve)
    page.goto(f"http://{host}:{port}{PAGE_PATH}index.html")
    assert page.evaluate("typeof SpacesLive.connect") == "function"


def wait(page, expression, what, timeout=WAIT_MS, arg=None):
    """page.wait_for_function with the page's state history in the failure message."""
    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout, polling=50)
    except PlaywrightTimeout:
        states = page.evaluate("states")
        events = page.evaluate("events.slice(-5)")
        raise AssertionError(f"timed out after {timeout} ms waiting for {what}; states={states}, last events={events}")


def wait_until(page, predicate, what, timeout=WAIT_MS):
    """Waits for a Python-side condition (fed by Playwright events, which are dispatched while we wait)."""
    deadline = time.monotonic() + timeout / 1000
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} ms waiting for {what}; states={page.evaluate('states')}")
        page.wait_for_timeout(50)


def wait_connected(page, transport, timeout=WAIT_MS):
    wait(page, "(t) => window.client && client.connected && client.transport === t",
         f"a connection over {transport}", timeout, transport)


def round_trip(page, *args):
    """Emits `echo` with args and waits for the same args to come back."""
    before = page.evaluate("named('echo').length")
    page.evaluate("(args) => client.emit('echo', ...args)", list(args))
    wait(page, "(n) => named('echo').length > n", "the echo", arg=before)
    assert page.evaluate("named('echo')")[before] == list(args)


def burst(page, count=50):
    """`count` emits in one go come back complete and in order."""
    tag = f"burst-{time.monotonic_ns()}"
    page.evaluate("([tag, count]) => { for (let i = 0; i < count; i++) client.emit('echo', tag, i); }", [tag, count])
    wait(page, "([tag, count]) => named('echo').filter((a) => a[0] === tag).length >= count",
         f"{count} echoes", arg=[tag, count])
    got = [args[1] for args in page.evaluate("named('echo')") if args[0] == tag]
    assert got == list(range(count))


# 1. WebSocket first.

def test_websocket_round_trip_and_queue_before_connect(echo, page):
    urls = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    open_page(page, echo.port)
    page.evaluate("""() => {
        window.viaOn = [];
        start({ query: { space: 'demo space', n: 1, skipped: null } });
        client.on('echo', (...args) => viaOn.push(args));
        client.emit('echo', 'queued', 1);     // before the connection exists: queued, then flushed
        client.emit('echo', 'queued', 2);
    }""")
    wait_connected(page, "websocket")
    assert page.evaluate("states") == [["connecting", "websocket"], ["connected", "websocket"]]
    wait(page, "named('echo').length >= 2", "the queued echoes")
    payload = [{"nested": [1, "two", None, True]}, "h\u00e9llo \U0001f30d", 3.5]
    round_trip(page, *payload)
    assert page.evaluate("named('echo')") == [["queued", 1], ["queued", 2], payload]
    assert page.evaluate("viaOn") == page.evaluate("named('echo')")
    assert page.evaluate("named('auth')") == [[{}]]  # sio-echo greets every connection with its auth payload
    assert urls == [f"ws://127.0.0.1:{echo.port}/socket.io/?space=demo+space&n=1&EIO=4&transport=websocket"]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_cross_origin_page(echo, page, transport):
    # The page is on http://localhost:PORT, the server addressed as http://127.0.0.1:PORT: another origin.
    # Without `withCredentials` no cookies go along, so sio-echo's `Access-Control-Allow-Origin: *` suffices.
    open_page(page, echo.port, host="localhost")
    page.evaluate("([url, transport]) => start({ url: url, transports: [transport] })",
                  [f"http://127.0.0.1:{echo.port}", transport])
    wait_connected(page, transport)
    round_trip(page, "cross-origin")


# 2. Falling back to polling.

@pytest.mark.parametrize("blocking", ["route-closes", "no-websocket-api", "silent-websocket"])
def test_falls_back_to_polling(echo, page, blocking):
    if blocking == "route-closes":
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: ws.close())
    elif blocking == "no-websocket-api":
        page.add_init_script("window.WebSocket = undefined;")
    else:
        # The WebSocket "opens" (mocked) but no Engine.IO open packet ever comes: the 5 s open timeout.
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: None)
    open_page(page, echo.port)
    started = time.monotonic()
    page.evaluate("start()")
    wait_connected(page, "polling")
    elapsed = time.monotonic() - started
    if blocking == "silent-websocket":
        assert elapsed >= 4.5, f"fell back after {elapsed:.1f}s, before the open timeout"
    assert page.evaluate("states") == [["connecting", "websocket"], ["connecting", "polling"], ["connected", "polling"]]
    round_trip(page, "over polling", {"n": 1})
    burst(page, 50)
    assert page.evaluate("states")[-1] == ["connected", "polling"]


# 3. Reconnection.

@pytest.mark.parametrize("transports", [["websocket", "polling"], ["polling"]], ids=["websocket", "polling"])
def test_reconnects_after_server_restart(page, transports):
    transport = transports[0]
    first = EchoServer(*SIO_ARGS).__enter__()
    port = first.port
    try:
        open_page(page, port)
        page.evaluate("(t) => start({ transports: t })", transports)
        wait_connected(page, transport)
        round_trip(page, "before")
        first.stop()
        wait(page, "states.some((s) => s[0] === 'disconnected')", "'disconnected'")
        assert page.evaluate("client.connected") is False and page.evaluate("client.transport") is None
        wait(page, "states.some((s) => s[0] === 'failed')", "'failed'")
        page.evaluate("client.emit('echo', 'while down')")
        with EchoServer(*SIO_ARGS, port=port) as second:
            assert second.port == port
            # After 'failed' the retries are up to 10 s apart.
            wait_connected(page, transport, timeout=30_000)
            wait(page, "named('echo').some((a) => a[0] === 'while down')", "the echo queued while down")
            round_trip(page, "after")
            states = page.evaluate("states")  # before the second server stops
        lost_at, failed_at = states.index(["disconnected", None]), states.index(["failed", None])
        assert states[:lost_at] == [["connecting", transport], ["connected", transport]], states
        assert all(state[0] == "connecting" for state in states[lost_at + 1:failed_at]), states
        assert states[failed_at + 1:] == [["connected", transport]], states  # background retries are quiet
    finally:
        first.stop()


def test_initial_failure_then_server_appears_and_queue_keeps_newest(page):
    port = free_port()  # nothing listens there yet; the page itself is served by routing
    open_page(page, port)
    page.evaluate("start()")
    wait(page, "states.some((s) => s[0] === 'failed')", "'failed'")
    assert ["disconnected", None] not in page.evaluate("states")  # nothing was lost: it never connected
    page.evaluate("for (let i = 0; i < 150; i++) client.emit('echo', i)")
    with EchoServer(*SIO_ARGS, port=port):
        wait_connected(page, "websocket", timeout=30_000)
        wait(page, "named('echo').length >= 100", "the queued echoes")
        # The queue holds 100: the oldest 50 were dropped, the rest arrive in order.
        assert [args[0] for args in page.evaluate("named('echo')")] == list(range(50, 150))


def test_connect_error_fails_the_attempt_without_falling_back(page):
    """A server that opens Engine.IO sessions but refuses "/" (44): attempts fail, polling is not tried."""
    admit = {"now": False}
    sockets, requests = [], []

    def fake_server(ws):
        sockets.append(ws)
        ws.send('0{"sid":"fake","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')
        ws.on_message(lambda message: ws.send('40{"sid":"admitted"}' if admit["now"] else '44{"message":"no"}')
                      if message == "40" else None)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), fake_server)
    page.on("request", lambda request: requests.append(request.url) if "/socket.io/" in request.url else None)
    open_page(page, free_port())  # nothing listens there: only the fake answers
    page.evaluate("start()")
    wait(page, "states.some((s) => s[0] === 'failed')", "'failed'")
    assert len(sockets) >= 3
    assert page.evaluate("states") == [["connecting", "websocket"], ["failed", None]]
    assert requests == []  # the WebSocket worked, so polling was never tried
    admit["now"] = True
    wait_connected(page, "websocket", timeout=30_000)  # background retries are up to 10 s apart
    assert page.evaluate("states") == [["connecting", "websocket"], ["failed", None], ["connected", "websocket"]]


def test_server_side_disconnect_reconnects(echo, page):
    open_page(page, echo.port)
    page.evaluate("start()")
    wait_connected(page, "websocket")
    page.evaluate("client.emit('server-disconnect')")  # sio-echo answers with a Socket.IO DISCONNECT (41)
    wait(page, "states.some((s) => s[0] === 'disconnected')", "'disconnected'")
    wait(page, "states.filter((s) => s[0] === 'connected').length === 2", "the reconnection")
    round_trip(page, "after server disconnect")


def test_recovers_missed_broadcasts_after_a_dropped_connection(page):
    """sio-echo with --connection-state-recovery drops the connection without a DISCONNECT packet; broadcasts
    sent while the page is away arrive on reconnecting, in order, and client.recovered is true."""
    import socketio  # python-socketio, the helper that broadcasts while the page is away

    with EchoServer(*SIO_ARGS, "--connection-state-recovery") as server:
        open_page(page, server.port)
        page.evaluate("start()")
        wait_connected(page, "websocket")
        assert page.evaluate("client.recovered") is False
        page.evaluate("client.emit('join', 'progress')")
        page.evaluate("client.emit('to-room', 'progress', 'tick', 1)")
        wait(page, "named('tick').length === 1", "the first broadcast")
        first = page.evaluate("named('tick')[0]")
        assert first[0] == 1 and isinstance(first[1], str), f"a broadcast ends with its offset: {first}"
        helper = socketio.SimpleClient()
        helper.connect(f"http://127.0.0.1:{server.port}", transports=["websocket"])
        try:
            page.evaluate("client.emit('drop-connection')")
            wait(page, "states.some((s) => s[0] === 'disconnected')", "'disconnected'")
            for value in (2, 3):
                helper.call("to-room", ("progress", "tick", value), timeout=10)
        finally:
            helper.disconnect()
        wait(page, "states.filter((s) => s[0] === 'connected').length === 2", "the reconnection")
        wait(page, "named('tick').length === 3", "the missed broadcasts")
        assert [args[0] for args in page.evaluate("named('tick')")] == [1, 2, 3]
        assert page.evaluate("client.recovered") is True


# 4. Heartbeats.

@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_connection_survives_heartbeats(page, transport):
    pings, pongs = [], []

    def watch_websocket(ws):
        ws.on("framereceived", lambda payload: pings.append(payload) if payload == "2" else None)
        ws.on("framesent", lambda payload: pongs.append(payload) if payload == "3" else None)

    def watch_request(request):
        if request.method == "POST" and "3" in (request.post_data or "").split("\x1e"):
            pongs.append("3")

    page.on("websocket", watch_websocket)
    page.on("request", watch_request)
    with EchoServer(*FAST_PING_ARGS) as server:
        open_page(page, server.port)
        page.evaluate("(t) => start({ transports: [t] })", transport)
        wait_connected(page, transport)
        # 6 pongs at a 500 ms interval: 3 s, longer than the client's 2.5 s watchdog.
        wait_until(page, lambda: len(pongs) >= 6, "6 pongs")
        if transport == "websocket":
            assert len(pings) >= 6
        assert page.evaluate("states") == [["connecting", transport], ["connected", transport]]
        round_trip(page, "still up")


def test_watchdog_notices_a_silent_server(page):
    """The server's packets stop reaching the page but its WebSocket stays open: only the watchdog can tell."""
    connections = []

    def proxy(ws):
        server = ws.connect_to_server()
        entry = {"silent": False}
        connections.append(entry)
        server.on_message(lambda message: None if entry["silent"] else ws.send(message))
        server.on_close(lambda code, reason: None)  # do not pass the server's close on to the page

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), proxy)
    with EchoServer(*FAST_PING_ARGS) as server:
        open_page(page, server.port)
        page.evaluate("start({ transports: ['websocket'] })")
        wait_connected(page, "websocket")
        connections[-1]["silent"] = True
        silenced = time.monotonic()
        wait(page, "states.some((s) => s[0] === 'disconnected')", "'disconnected'", timeout=10_000)
        elapsed = time.monotonic() - silenced
        assert elapsed >= 2.0, f"lost after {elapsed:.1f}s, before pingInterval + pingTimeout (2.5 s)"
        wait(page, "states.filter((s) => s[0] === 'connected').length === 2", "the reconnection")
        round_trip(page, "after the watchdog")


# 5. Garbage.

DECODER_CASES = [
    # (Engine.IO packet, engine type or None, socket packet [type, nsp, data] or None)
    ("", None, None),
    ("9", None, None),
    ("x42[]", None, None),
    ("bAQID", "binary", None),
    ("2", "ping", None),
    ("6", "noop", None),
    ("0{\"sid\":\"a\"}", "open", None),
    ("4", "message", None),
    ("4hello", "message", None),
    ("42", "message", None),
    ("42[", "message", None),
    ("42{}", "message", None),
    ("42[]", "message", None),
    ("42[1,2]", "message", None),
    ("41{}", "message", None),
    ("440", "message", None),
    ("47[\"a\"]", "message", None),
    ("42[\"ev\",1,{\"a\":[null]}]", "message", [2, "/", ["ev", 1, {"a": [None]}]]),
    ("4212[\"ev\"]", "message", [2, "/", ["ev"]]),
    ("42/admin,[\"ev\"]", "message", [2, "/admin", ["ev"]]),
    ("42/admin,7[\"ev\"]", "message", [2, "/admin", ["ev"]]),
    ("40{\"sid\":\"x\"}", "message", [0, "/", {"sid": "x"}]),
    ("40/admin", "message", [0, "/admin", None]),
    ("41", "message", [1, "/", None]),
    ("44{\"message\":\"no\"}", "message", [4, "/", {"message": "no"}]),
    ("451-[\"ev\",{\"_placeholder\":true,\"num\":0}]", "message", [5, None, None]),
]


def test_decoder_ignores_garbage(page):
    open_page(page, free_port())
    results = page.evaluate("""(cases) => cases.map((text) => {
        const r = SpacesLive._decodeForTest(text);
        return [r.engine ? r.engine.type : null,
                r.socket ? [r.socket.type, r.socket.nsp, r.socket.data === undefined ? null : r.socket.data] : null];
    })""", [case[0] for case in DECODER_CASES])
    for (text, engine, packet), got in zip(DECODER_CASES, results):
        assert got == [engine, packet], f"{text!r}: got {got}"


GARBAGE = ["", "x", "9", "bAQID", "4", "4nonsense", "42", "42[", "42{}", "42[1]", "42[]", "41{\"x\":1}",
           "44{\"message\":\"late\"}", "40{\"sid\":\"again\"}", "43[1]", "451-[\"ev\",{\"_placeholder\":true}]",
           "42/other,[\"echo\",\"wrong namespace\"]", "0{\"sid\":\"second open\"}", "3", "5", "6",
           "42[\"thrower\"]", "42" + "[" * 5000, "42[\"injected\",\"ok\"]"]


def test_garbage_over_websocket_does_not_kill_the_client(echo, page):
    routes = []

    def proxy(ws):
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), proxy)
    open_page(page, echo.port)
    page.evaluate("""() => {
        start({ transports: ['websocket'] });
        window.afterThrow = [];
        client.on('thrower', () => { throw new Error('handler failure, on purpose'); });
        client.on('thrower', () => afterThrow.push(true));
    }""")
    wait_connected(page, "websocket")
    for frame in GARBAGE:
        routes[-1].send(frame)
    routes[-1].send(b"\x04\x00\xff")  # a binary frame
    wait(page, "named('injected').length === 1", "the injected event after the garbage")
    assert page.evaluate("afterThrow") == [True]  # a throwing handler does not stop the next one
    assert page.evaluate("named('echo')") == []  # the event of another namespace was not delivered
    round_trip(page, "after garbage")
    assert page.evaluate("states") == [["connecting", "websocket"], ["connected", "websocket"]]


def test_garbage_over_polling_does_not_kill_the_client(echo, page):
    state = {"inject": False, "injected": False}

    def intercept(route):
        request = route.request
        if state["inject"] and not state["injected"] and request.method == "GET" and "sid=" in request.url:
            state["injected"] = True
            route.fulfill(status=200, content_type="text/plain; charset=UTF-8", body="\x1e".join(GARBAGE))
        else:
            route.fallback()

    page.route(re.compile(r".*/socket\.io/.*"), intercept)
    open_page(page, echo.port)
    page.evaluate("start({ transports: ['polling'] })")
    wait_connected(page, "polling")
    state["inject"] = True
    round_trip(page, "wakes the pending poll")  # the next poll after this one gets the garbage
    wait(page, "named('injected').length === 1", "the injected event after the garbage")
    round_trip(page, "after garbage")
    assert page.evaluate("states") == [["connecting", "polling"], ["connected", "polling"]]


# close()

@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("caller", ["page", "event-handler"])
def test_close_stops_everything(echo, page, transport, caller):
    requests, sockets = [], []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.on("request", lambda request: requests.append((request.method, request.url, request.post_data))
            if "/socket.io/" in request.url else None)
    open_page(page, echo.port)
    page.evaluate("(t) => start({ transports: [t] })", transport)
    if caller == "page":
        wait_connected(page, transport)
        page.evaluate("client.close(); client.emit('echo', 'after close'); client.close()")
    else:
        # From inside the client's own dispatch (with polling, in the middle of the payload "40{..}\x1e42[auth]").
        page.evaluate("client.on('auth', () => { client.close(); client.emit('echo', 'after close'); })")
        wait(page, "states.some((s) => s[0] === 'disconnected')", "'disconnected'")
    # Request events reach us in protocol order: whatever was started before close() returned is in already.
    mark = len(requests)
    assert page.evaluate("[client.connected, client.transport]") == [False, None]
    if transport == "polling":
        # The server forgets the session at once (the aborted long-poll, or the close packet sent between polls).
        sid = re.search(r"[?&]sid=([^&]+)", requests[-1][1]).group(1)
        url = f"http://127.0.0.1:{echo.port}/socket.io/?EIO=4&transport=polling&sid={sid}"
        wait_until(page, lambda: http_status(url) == 400, "the server to drop the session", timeout=3000)
    else:
        wait_until(page, lambda: sockets[-1].is_closed(), "the WebSocket to close")
    # Quiet period: longer than the first reconnection delay (at most 500 ms), nothing may happen.
    page.wait_for_timeout(1500)
    assert page.evaluate("states") == [["connecting", transport], ["connected", transport], ["disconnected", None]]
    assert len(sockets) == (1 if transport == "websocket" else 0)
    assert requests[mark:] == []
