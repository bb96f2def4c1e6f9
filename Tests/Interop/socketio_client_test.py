"""Interop tests: python-socketio 5.x clients (Client and AsyncClient) against sio-echo.

run_interop.py starts two sio-echo servers for this file and exports their ports: SIO_PORT (default
settings) and SIO_BIG_PORT (started with --max-payload 10000000, for the 5 MB messages). By hand:

    sio-echo --port 3000 --ping-interval 25000 --ping-timeout 20000 &
    sio-echo --port 3001 --max-payload 10000000 --ping-interval 25000 --ping-timeout 20000 &
    SIO_PORT=3000 SIO_BIG_PORT=3001 pytest Tests/Interop/socketio_client_test.py

Events sio-echo serves (see Sources/sio-echo/SIOEcho.swift): on connection it emits `auth` with the auth
payload; `message` → `message-back`, `message-with-ack` → ack, `echo` → `echo`, `join` → join a room and
ack, `broadcast` (room, args...) → `broadcast` to the room, `ask-client` → `question` with an ack whose
answer comes back as `answer`, `disconnect-room` → disconnectSockets for a room, `size` → ack with the byte
size of the arguments; `/custom` has the test-suite handlers and `/restricted` a middleware that only
admits auth `{"token": "secret"}`. Every wait is bounded (queue timeouts, pytest-timeout).
"""

import asyncio
import os
import queue
import time

import pytest

import socketio

PORT = os.environ.get("SIO_PORT")
if not PORT:
    pytest.skip("SIO_PORT is not set: start sio-echo and export its port", allow_module_level=True)
BIG_PORT = os.environ.get("SIO_BIG_PORT")

URL = f"http://127.0.0.1:{PORT}"
WAIT = float(os.environ.get("SIO_WAIT", "10"))
BURST = 10_000

pytestmark = pytest.mark.timeout(180)

TRANSPORTS = [
    pytest.param(["polling"], id="polling"),
    pytest.param(["websocket"], id="websocket"),
    pytest.param(["polling", "websocket"], id="upgrade"),
]

NESTED_BYTES = {
    "name": "files",
    "blob": b"\x00\x01\x02\xff",
    "list": [b"abc", {"deep": bytes(range(256))}, 3, None],
    "empty": b"",
}


class Recorder:
    """Collects events a client receives, per event name."""

    def __init__(self):
        self.queues = {}

    def queue(self, event):
        return self.queues.setdefault(event, queue.Queue())

    def put(self, event, args):
        self.queue(event).put(args)

    def get(self, event, timeout=WAIT):
        try:
            return self.queue(event).get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no '{event}' event within {timeout}s")

    def empty(self, event, wait=0.3):
        try:
            self.queue(event).get(timeout=wait)
            return False
        except queue.Empty:
            return True


def make_client(recorder, namespace="/"):
    """A Client whose every event lands in `recorder` (handlers registered before connecting)."""
    client = socketio.Client(reconnection=False)

    def catch_all(event, *args):
        recorder.put(event, args)

    client.on("*", catch_all, namespace=namespace)
    client.on("connect_error", lambda *args: recorder.put("connect_error", args), namespace=namespace)
    client.on("disconnect", lambda *args: recorder.put("disconnect", args), namespace=namespace)
    return client


def connect(client, transports, namespaces=None, auth=None, url=URL):
    client.connect(url, transports=transports, namespaces=namespaces or ["/"], auth=auth, wait_timeout=WAIT)


@pytest.fixture
def clients():
    """Clients created by a test; all disconnected at the end."""
    made = []
    yield made
    for client in made:
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass


# MARK: Client


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_events_both_ways(transports, clients):
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    connect(client, transports)
    assert recorder.get("auth") == ({},)
    client.emit("message", (1, "2", {"3": [True]}))
    assert recorder.get("message-back") == (1, "2", {"3": [True]})
    client.emit("echo", "h\u00e9llo \U0001F600")
    assert recorder.get("echo") == ("h\u00e9llo \U0001F600",)


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_bytes_nested_in_dicts_and_lists(transports, clients):
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    connect(client, transports)
    client.emit("message", (NESTED_BYTES, [b"\x10", b"\x20"]))
    assert recorder.get("message-back") == (NESTED_BYTES, [b"\x10", b"\x20"])


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_call_gets_ack_from_server(transports, clients):
    client = make_client(Recorder())
    clients.append(client)
    connect(client, transports)
    assert client.call("message-with-ack", {"a": [1, 2]}, timeout=WAIT) == {"a": [1, 2]}
    assert client.call("message-with-ack", (1, "two", None), timeout=WAIT) == (1, "two", None)
    assert client.call("message-with-ack", NESTED_BYTES, timeout=WAIT) == NESTED_BYTES
    assert client.call("echo-ack", 42, timeout=WAIT) == 42


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_server_calls_client_ack(transports, clients):
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    client.on("question", lambda *args: ("answer to", *args))
    connect(client, transports)
    client.emit("ask-client", ("life", {"n": 42}, b"\x01"))
    assert recorder.get("answer") == ("answer to", "life", {"n": 42}, b"\x01")


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_custom_namespace(transports, clients):
    recorder = Recorder()
    client = make_client(recorder, namespace="/custom")
    clients.append(client)
    connect(client, transports, namespaces=["/custom"], auth={"token": "abc"})
    assert recorder.get("auth") == ({"token": "abc"},)
    client.emit("message", ("to custom", 1), namespace="/custom")
    assert recorder.get("message-back") == ("to custom", 1)
    assert client.call("message-with-ack", "x", namespace="/custom", timeout=WAIT) == "x"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_auth_payload_reaches_the_server(transports, clients):
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    connect(client, transports, auth={"token": "123", "user": {"id": 7}})
    assert recorder.get("auth") == ({"token": "123", "user": {"id": 7}},)


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_middleware_rejection_is_a_connect_error_with_data(transports, clients):
    recorder = Recorder()
    client = make_client(recorder, namespace="/restricted")
    clients.append(client)
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(client, transports, namespaces=["/restricted"], auth={"token": "wrong"})
    assert recorder.get("connect_error") == ({"message": "not authorized", "data": {"reason": "bad token"}},)

    admitted = Recorder()
    good = make_client(admitted, namespace="/restricted")
    clients.append(good)
    connect(good, transports, namespaces=["/restricted"], auth={"token": "secret"})
    assert admitted.get("welcome") == ("/restricted",)


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_rooms_and_broadcast_with_several_clients(transports, clients):
    members = []
    for _ in range(3):
        recorder = Recorder()
        client = make_client(recorder)
        clients.append(client)
        connect(client, transports)
        assert client.call("join", "lobby", timeout=WAIT) == "lobby"
        members.append(recorder)
    outsider_recorder = Recorder()
    outsider = make_client(outsider_recorder)
    clients.append(outsider)
    connect(outsider, transports)
    outsider.emit("broadcast", ("lobby", "hi all", {"n": 1}, b"\x07"))
    for recorder in members:
        assert recorder.get("broadcast") == ("hi all", {"n": 1}, b"\x07")
    assert outsider_recorder.empty("broadcast")


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_disconnect_sockets_is_seen_by_the_clients(transports, clients):
    kicked = []
    for _ in range(2):
        recorder = Recorder()
        client = make_client(recorder)
        clients.append(client)
        connect(client, transports)
        client.call("join", "kick", timeout=WAIT)
        kicked.append((client, recorder))
    stayer_recorder = Recorder()
    stayer = make_client(stayer_recorder)
    clients.append(stayer)
    connect(stayer, transports)
    stayer.call("disconnect-room", "kick", timeout=WAIT)
    for client, recorder in kicked:
        args = recorder.get("disconnect")
        assert args in [(), (client.reason.SERVER_DISCONNECT,)]
    assert stayer_recorder.empty("disconnect")
    assert stayer.call("echo-ack", "still here", timeout=WAIT) == "still here"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_burst_of_messages_all_arrive_exactly_once(transports, clients):
    # The sync client runs every incoming message handler on a thread of its own (python-engineio's
    # Client triggers "message" with run_async=True), so under CPU load its handlers may run out of
    # order even though the wire order is right. Here: every message, exactly once. The AsyncClient test
    # below, whose handlers run in arrival order, checks the order.
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    connect(client, transports)
    for i in range(BURST):
        client.emit("echo", i)
    deadline = time.monotonic() + 120
    received = []
    for _ in range(BURST):
        remaining = max(0.1, deadline - time.monotonic())
        received.append(recorder.get("echo", timeout=remaining)[0])
    assert sorted(received) == list(range(BURST))
    assert recorder.empty("echo")


@pytest.mark.skipif(not BIG_PORT, reason="SIO_BIG_PORT is not set")
@pytest.mark.parametrize("transports", TRANSPORTS)
def test_five_megabyte_messages_with_a_raised_limit(transports, clients):
    recorder = Recorder()
    client = make_client(recorder)
    clients.append(client)
    connect(client, transports, url=f"http://127.0.0.1:{BIG_PORT}")
    text = "x" * (5 * 1024 * 1024)
    assert client.call("size", text, timeout=60) == len(text)
    blob = bytes(i % 251 for i in range(5 * 1024 * 1024))
    assert client.call("size", blob, timeout=60) == len(blob)
    client.emit("message", text)
    assert recorder.get("message-back", timeout=60) == (text,)


# MARK: AsyncClient


def run(coroutine, timeout=120):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def make_async_client(events, namespace="/"):
    client = socketio.AsyncClient(reconnection=False)

    async def catch_all(event, *args):
        await events.put((event, args))

    client.on("*", catch_all, namespace=namespace)
    return client


async def next_event(events, name, timeout=WAIT):
    while True:
        event, args = await asyncio.wait_for(events.get(), timeout)
        if event == name:
            return args


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_async_client_events_acks_and_bytes(transports):
    async def scenario():
        events = asyncio.Queue()
        client = make_async_client(events)
        await client.connect(URL, transports=transports, auth={"k": "v"}, wait_timeout=WAIT)
        try:
            assert await next_event(events, "auth") == ({"k": "v"},)
            await client.emit("message", (NESTED_BYTES, "two"))
            assert await next_event(events, "message-back") == (NESTED_BYTES, "two")
            assert await client.call("message-with-ack", [1, b"\x02"], timeout=WAIT) == [1, b"\x02"]
        finally:
            await client.disconnect()

    run(scenario())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_async_client_answers_server_ack(transports):
    async def scenario():
        events = asyncio.Queue()
        client = make_async_client(events)

        async def question(*args):
            return ("async answer", *args)

        client.on("question", question)
        await client.connect(URL, transports=transports, wait_timeout=WAIT)
        try:
            await client.emit("ask-client", ("q", 1))
            assert await next_event(events, "answer") == ("async answer", "q", 1)
        finally:
            await client.disconnect()

    run(scenario())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_async_client_custom_namespace_and_rejection(transports):
    async def scenario():
        events = asyncio.Queue()
        client = make_async_client(events, namespace="/custom")
        await client.connect(URL, transports=transports, namespaces=["/custom"], wait_timeout=WAIT)
        try:
            assert await next_event(events, "auth") == ({},)
            assert await client.call("message-with-ack", "c", namespace="/custom", timeout=WAIT) == "c"
        finally:
            await client.disconnect()

        rejected = socketio.AsyncClient(reconnection=False)
        errors = asyncio.Queue()

        async def on_error(*args):
            await errors.put(args)

        rejected.on("connect_error", on_error, namespace="/restricted")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await rejected.connect(URL, transports=transports, namespaces=["/restricted"], wait_timeout=WAIT)
        assert await asyncio.wait_for(errors.get(), WAIT) == (
            {"message": "not authorized", "data": {"reason": "bad token"}},)
        await rejected.disconnect()

    run(scenario())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_async_client_burst_in_order(transports):
    async def scenario():
        events = asyncio.Queue()
        client = make_async_client(events)
        await client.connect(URL, transports=transports, wait_timeout=WAIT)
        try:
            for i in range(BURST):
                await client.emit("echo", i)
            for i in range(BURST):
                assert await next_event(events, "echo", timeout=60) == (i,)
        finally:
            await client.disconnect()

    run(scenario(), timeout=170)
