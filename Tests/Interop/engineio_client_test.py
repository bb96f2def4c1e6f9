"""Interop tests: python-engineio's clients against the Engine.IO echo server under test.

The server must echo every message back on the same session: text as text, binary as binary. Run it,
then:

    EIO_PORT=<port> pytest Tests/Interop/engineio_client_test.py

Every wait is bounded (queue timeouts, pytest-timeout), so a misbehaving server fails a test instead of
hanging the run. EIO_WAIT overrides the per-message wait in seconds (default 10), EIO_CLOSE_LIMIT the
longest a clean disconnect may take (default 5).

python-engineio decodes at most 16 packets per polling payload (engineio.payload.Payload
.max_decode_packets) and drops the connection on a longer one, so the 200-message tests over polling
also check that the server splits queued packets into payloads of at most 16.
"""

import asyncio
import json
import os
import queue
import threading
import time

import pytest
import requests

import engineio

PORT = os.environ.get("EIO_PORT")
if not PORT:
    pytest.skip("EIO_PORT is not set: start the echo server and export its port", allow_module_level=True)

URL = f"http://127.0.0.1:{PORT}"
PATH = "engine.io"
WAIT = float(os.environ.get("EIO_WAIT", "10"))

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = [
    pytest.param(["polling"], "polling", id="polling"),
    pytest.param(["websocket"], "websocket", id="websocket"),
    pytest.param(["polling", "websocket"], "websocket", id="upgrade"),
]

# Text that python-engineio leaves as text: its decoder turns anything that parses as JSON (and is not a
# bare number) into Python objects, so plain words are used, plus the UTF-8 ranges and the empty message.
TEXTS = ["hello", "h\u00e9llo w\u00f6rld \u4f60\u597d", "\U0001F600\U0001F680 ok", "binary? no", ""]
BINARIES = [bytes([0, 1, 2, 3, 255]), b"", bytes(range(256)), bytes((i * 7) % 256 for i in range(64 * 1024))]
JSON_OBJECT = {"event": "chat", "args": [1, "two", None, True]}
BURST = 200
CLOSE_LIMIT = float(os.environ.get("EIO_CLOSE_LIMIT", "5"))


def session_is_gone(sid):
    """True when the server answers a polling GET for `sid` with 400 (unknown session).

    A GET on a session that is still open long-polls, so a short timeout counts as "not gone yet".
    """
    try:
        response = requests.get(f"{URL}/{PATH}/", params={"EIO": "4", "transport": "polling", "sid": sid},
                                timeout=1.0)
    except requests.exceptions.Timeout:
        return False
    return response.status_code == 400


def wait_until_session_gone(sid):
    """The server may drop the session just after the client returns; check until WAIT runs out."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if session_is_gone(sid):
            return
        time.sleep(0.1)  # bounded by the deadline above
    pytest.fail(f"session {sid} still exists {WAIT}s after the client disconnected")


def assert_quick_close(elapsed):
    """disconnect() returns only when the client's pending long-poll GET does, which a Node-like server
    answers as soon as it processes the close packet; a server that leaves it hanging makes every
    polling client's disconnect last until its request timeout."""
    assert elapsed < CLOSE_LIMIT, (
        f"disconnect took {elapsed:.1f}s: the server did not answer the pending GET after the close packet")


def wait_for_sends(client_queue, join):
    """Waits (bounded) until the client has flushed every queued packet.

    python-engineio's write loop stops as soon as disconnect() marks the client "disconnecting"; if a
    POST was still in flight at that moment the close packet is never sent and the server can only
    notice the client gone at the ping timeout. Flushing first makes the clean-close check deterministic.
    """
    done = threading.Event()
    threading.Thread(target=lambda: (join(), done.set()), daemon=True).start()
    if not done.wait(timeout=WAIT):
        pytest.fail(f"client still had {client_queue.qsize()} unsent packets after {WAIT}s")


# ---------------------------------------------------------------------------------------------------------
# Synchronous client (threads)
# ---------------------------------------------------------------------------------------------------------


class OrderedClient(engineio.Client):
    """engineio.Client that also records each message in the order its read loop decoded it.

    The threaded client runs every "message" handler in a thread of its own, so the order in which handlers
    run is up to the thread scheduler, not the wire (a burst test saw one echo three places late). The read
    loop itself is sequential: recording there shows the order the server sent.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_wire_order = queue.Queue()

    def _receive_packet(self, pkt):
        if pkt.packet_type == engineio.packet.MESSAGE:
            self.in_wire_order.put(pkt.data)
        super()._receive_packet(pkt)


class SyncSession:
    """A connected engineio.Client whose received messages (in wire order) and disconnect land in queues."""

    def __init__(self, transports):
        self.client = OrderedClient(request_timeout=WAIT)
        self.messages = self.client.in_wire_order
        self.disconnects = queue.Queue()
        self.client.on("disconnect", lambda *reason: self.disconnects.put(reason))
        self.client.connect(URL, transports=transports, engineio_path=PATH)

    def receive(self):
        try:
            return self.messages.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no echo within {WAIT}s (transport {self.client.transport()})")

    def echo(self, data):
        self.client.send(data)
        return self.receive()

    def close(self):
        """Disconnects and returns the session id; fails if disconnect() is slow (see CLOSE_LIMIT)."""
        sid = self.client.sid
        wait_for_sends(self.client.queue, self.client.queue.join)
        started = time.monotonic()
        self.client.disconnect()
        assert_quick_close(time.monotonic() - started)
        return sid


@pytest.fixture
def sync_session():
    sessions = []

    def make(transports):
        session = SyncSession(transports)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.client.disconnect(abort=True)


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_connects_on_expected_transport(sync_session, transports, expected):
    session = sync_session(transports)
    assert session.client.state == "connected"
    assert session.client.transport() == expected
    assert session.client.sid


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_text_echo(sync_session, transports, expected):
    session = sync_session(transports)
    for text in TEXTS:
        assert session.echo(text) == text
    assert session.client.transport() == expected


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_binary_echo(sync_session, transports, expected):
    session = sync_session(transports)
    for data in BINARIES:
        echoed = session.echo(data)
        assert isinstance(echoed, bytes), f"binary came back as {type(echoed).__name__}"
        assert echoed == data
    assert session.client.transport() == expected


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_json_object_echo(sync_session, transports, expected):
    session = sync_session(transports)
    assert session.echo(JSON_OBJECT) == JSON_OBJECT


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_burst_keeps_order(sync_session, transports, expected):
    session = sync_session(transports)
    # Sent without waiting, alternating text and binary, so both kinds share one ordered stream and
    # polling clients batch many packets per request.
    sent = [f"m{i}" if i % 2 == 0 else i.to_bytes(2, "big") for i in range(BURST)]
    for item in sent:
        session.client.send(item)
    received = [session.receive() for _ in sent]
    assert received == sent
    assert session.client.transport() == expected


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_sync_disconnect_is_clean(sync_session, transports, expected):
    session = sync_session(transports)
    assert session.echo("before close") == "before close"
    sid = session.close()
    assert session.client.state == "disconnected"
    try:
        reason = session.disconnects.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail("disconnect handler did not run")
    assert reason == (engineio.Client.reason.CLIENT_DISCONNECT,)
    wait_until_session_gone(sid)


# ---------------------------------------------------------------------------------------------------------
# Asynchronous client (asyncio + aiohttp)
# ---------------------------------------------------------------------------------------------------------


class AsyncSession:
    """A connected engineio.AsyncClient whose received messages and disconnect land in asyncio queues."""

    def __init__(self):
        self.client = engineio.AsyncClient(request_timeout=WAIT)
        self.messages = asyncio.Queue()
        self.disconnects = asyncio.Queue()

        async def on_message(data):
            await self.messages.put(data)

        async def on_disconnect(*reason):
            await self.disconnects.put(reason)

        self.client.on("message", on_message)
        self.client.on("disconnect", on_disconnect)

    async def connect(self, transports):
        await self.client.connect(URL, transports=transports, engineio_path=PATH)
        return self

    async def receive(self):
        try:
            return await asyncio.wait_for(self.messages.get(), timeout=WAIT)
        except asyncio.TimeoutError:
            pytest.fail(f"no echo within {WAIT}s (transport {self.client.transport()})")

    async def echo(self, data):
        await self.client.send(data)
        return await self.receive()


def run_async(scenario):
    """Runs one async scenario with a connected client, always disconnecting it afterwards."""

    async def main():
        session = AsyncSession()
        try:
            await scenario(session)
        finally:
            if session.client.state == "connected":
                await session.client.disconnect(abort=True)

    asyncio.run(main())


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_async_text_and_binary_echo(transports, expected):
    async def scenario(session):
        await session.connect(transports)
        assert session.client.transport() == expected
        for text in TEXTS:
            assert await session.echo(text) == text
        for data in BINARIES:
            echoed = await session.echo(data)
            assert isinstance(echoed, bytes) and echoed == data
        assert await session.echo(JSON_OBJECT) == JSON_OBJECT
        assert session.client.transport() == expected

    run_async(scenario)


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_async_burst_keeps_order(transports, expected):
    async def scenario(session):
        await session.connect(transports)
        sent = [f"m{i}" if i % 2 == 0 else i.to_bytes(2, "big") for i in range(BURST)]
        for item in sent:
            await session.client.send(item)
        received = [await session.receive() for _ in sent]
        assert received == sent
        assert session.client.transport() == expected

    run_async(scenario)


@pytest.mark.parametrize("transports,expected", TRANSPORTS)
def test_async_disconnect_is_clean(transports, expected):
    sids = []

    async def scenario(session):
        await session.connect(transports)
        assert await session.echo("before close") == "before close"
        sids.append(session.client.sid)
        # See wait_for_sends: let the write loop go idle so the close packet is really sent.
        try:
            await asyncio.wait_for(session.client.queue.join(), timeout=WAIT)
        except asyncio.TimeoutError:
            pytest.fail(f"client still had unsent packets after {WAIT}s")
        started = time.monotonic()
        await session.client.disconnect()
        assert_quick_close(time.monotonic() - started)
        assert session.client.state == "disconnected"
        try:
            reason = await asyncio.wait_for(session.disconnects.get(), timeout=WAIT)
        except asyncio.TimeoutError:
            pytest.fail("disconnect handler did not run")
        assert reason == (engineio.AsyncClient.reason.CLIENT_DISCONNECT,)

    run_async(scenario)
    wait_until_session_gone(sids[0])


# ---------------------------------------------------------------------------------------------------------
# Raw HTTP checks of the handshake, independent of any client library
# ---------------------------------------------------------------------------------------------------------


def test_polling_handshake_has_v4_open_packet():
    response = requests.get(f"{URL}/{PATH}/", params={"EIO": "4", "transport": "polling"}, timeout=WAIT)
    assert response.status_code == 200
    body = response.content.decode("utf-8")
    assert body.startswith("0{"), body
    handshake = json.loads(body[1:].split("\x1e")[0])
    assert set(handshake) >= {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert handshake["upgrades"] == ["websocket"]
    assert isinstance(handshake["sid"], str) and handshake["sid"]


def test_unknown_transport_is_rejected():
    response = requests.get(f"{URL}/{PATH}/", params={"EIO": "4", "transport": "carrier-pigeon"}, timeout=WAIT)
    assert response.status_code == 400


def test_unknown_session_is_rejected():
    response = requests.get(
        f"{URL}/{PATH}/", params={"EIO": "4", "transport": "polling", "sid": "no-such-session-id"}, timeout=WAIT
    )
    assert response.status_code == 400
