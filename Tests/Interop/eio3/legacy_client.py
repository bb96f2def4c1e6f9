"""A python-socketio 4.6 / python-engineio 3.14 client (Socket.IO v2 over Engine.IO v3) against sio-echo.

Runs under the old versions' own venv (.venv-eio3), started by eio3_clients_test.py:
    legacy_client.py PORT TRANSPORTS SCENARIO
TRANSPORTS is polling, websocket or polling,websocket (upgrade). Exits 0 when every check of SCENARIO held and
prints "ok <scenario> <transport in use>"; an assertion or a timeout exits non-zero with the reason.
"""
import asyncio
import sys
import threading
import time

import engineio
import socketio

TIMEOUT = 10
# Text that JavaScript, Python and byte counts measure differently (UTF-16: the emoji is two units).
TEXT = "héllo wörld 😀 ✓"
BLOB = bytes(range(256)) + b"\x00\xff"


class Inbox:
    """Events as they arrive, each awaited with a bounded wait."""

    def __init__(self):
        self.events = {}
        self.cond = threading.Condition()

    def put(self, key, value):
        with self.cond:
            self.events.setdefault(key, []).append(value)
            self.cond.notify_all()

    def get(self, key, timeout=TIMEOUT):
        with self.cond:
            if not self.cond.wait_for(lambda: self.events.get(key), timeout):
                raise AssertionError(f"no {key} within {timeout}s; got {list(self.events)}")
            return self.events[key].pop(0)


def listen(sio, inbox, event, namespace="/"):
    sio.on(event, lambda *args: inbox.put((namespace, event), args), namespace=namespace)


def echo(sio, inbox):
    # The implicit connect to "/" (no CONNECT sent by a v2 client) ran the connection handler.
    assert inbox.get(("/", "auth")) == ({},)
    sio.emit("message", (TEXT, BLOB, {"nested": [1, 2, {"bin": b"\x01\x02"}]}))
    assert inbox.get(("/", "message-back")) == (TEXT, BLOB, {"nested": [1, 2, {"bin": b"\x01\x02"}]})
    # (A one-value answer comes back bare, several as a tuple.)
    assert sio.call("message-with-ack", (TEXT, b"\x00ack"), timeout=TIMEOUT) == (TEXT, b"\x00ack")
    # Server to client with an acknowledgement: the server asks, the client answers, the server reports.
    sio.emit("ask-client", ("question?", b"\x07"))
    assert inbox.get(("/", "question-asked")) == ("question?", b"\x07")
    assert inbox.get(("/", "answer")) == ("answer!", b"\x08")
    # Many messages in a row: polling batches them into one payload per poll.
    for i in range(40):
        sio.emit("message", (f"{TEXT} {i}",))
    for i in range(40):
        assert inbox.get(("/", "message-back")) == (f"{TEXT} {i}",)
    assert sio.call("size", ("x" * 300_000,), timeout=TIMEOUT) == 300_000


def namespaces(sio, inbox):
    assert inbox.get(("/custom", "auth")) == ({},)
    sio.emit("message", (TEXT, b"\x01"), namespace="/custom")
    assert inbox.get(("/custom", "message-back")) == (TEXT, b"\x01")
    assert sio.call("message-with-ack", ("c",), namespace="/custom", timeout=TIMEOUT) == "c"
    # Refusals are plain values for v2: the middleware error's data, or the message when it has none.
    assert inbox.get(("/restricted", "connect_error")) == ({"reason": "bad token"},)
    assert inbox.get(("/nowhere", "connect_error")) == ("Invalid namespace",)
    assert "/restricted" not in sio.namespaces and "/nowhere" not in sio.namespaces
    # "/" still works next to the others.
    assert sio.call("message-with-ack", ("root",), timeout=TIMEOUT) == "root"


def heartbeat(sio, inbox):
    # sio-echo runs with pingInterval 1000, pingTimeout 1000: the client's pings keep the session alive for
    # several intervals (without them the server closes it after 2 s). Shorter settings make python-engineio 3
    # itself give up on a loaded machine: it aborts when a pong is later than one interval.
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        assert sio.call("message-with-ack", ("beat",), timeout=TIMEOUT) == "beat"
        time.sleep(0.1)
    assert sio.eio.state == "connected" and not inbox.events.get(("/", "disconnect"))


def broadcast(sio, inbox):
    # Reaches the other sockets of "/", whatever their protocol (the test's v5 client listens).
    assert sio.call("to-others", ("from-v2", TEXT, BLOB), timeout=TIMEOUT) is None


async def async_echo(port, transports):
    """The same checks on python-socketio 4's asyncio client (aiohttp 3.8)."""
    sio = socketio.AsyncClient(reconnection=False)
    queue = asyncio.Queue()
    sio.on("auth", lambda *args: queue.put_nowait(("auth", args)))
    sio.on("message-back", lambda *args: queue.put_nowait(("message-back", args)))
    await sio.connect(f"http://127.0.0.1:{port}", transports=transports)
    try:
        assert await asyncio.wait_for(queue.get(), TIMEOUT) == ("auth", ({},))
        await sio.emit("message", (TEXT, BLOB))
        assert await asyncio.wait_for(queue.get(), TIMEOUT) == ("message-back", (TEXT, BLOB))
        assert await sio.call("message-with-ack", (TEXT, b"\x00ack"), timeout=TIMEOUT) == (TEXT, b"\x00ack")
        if transports == ["polling", "websocket"]:
            deadline = time.monotonic() + TIMEOUT
            while sio.transport() != "websocket" and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        assert sio.transport() == transports[-1], sio.transport()
        print(f"ok async-echo {sio.transport()} engineio {engineio.__version__} socketio {socketio.__version__}",
              flush=True)
    finally:
        await sio.disconnect()


def main():
    port, transports, scenario = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    if scenario == "async-echo":
        asyncio.run(async_echo(port, transports))
        return
    inbox = Inbox()
    sio = socketio.Client(reconnection=False)
    for event in ("auth", "message-back", "answer"):
        listen(sio, inbox, event)
    sio.on("disconnect", lambda: inbox.put(("/", "disconnect"), ()))

    @sio.on("question")
    def question(*args):
        inbox.put(("/", "question-asked"), args)
        return "answer!", b"\x08"

    names = ["/"]
    if scenario == "namespaces":
        names = ["/", "/custom", "/restricted", "/nowhere"]
        for event in ("auth", "message-back"):
            listen(sio, inbox, event, "/custom")
        for name in ("/restricted", "/nowhere"):
            sio.on("connect_error", lambda *args, name=name: inbox.put((name, "connect_error"), args), namespace=name)
    sio.connect(f"http://127.0.0.1:{port}", transports=transports, namespaces=names)
    try:
        if transports == ["polling", "websocket"]:
            # The upgrade happens in the background; wait for it (bounded).
            deadline = time.monotonic() + TIMEOUT
            while sio.transport() != "websocket" and time.monotonic() < deadline:
                time.sleep(0.01)
        assert sio.transport() == transports[-1], sio.transport()
        {"echo": echo, "namespaces": namespaces, "heartbeat": heartbeat, "broadcast": broadcast}[scenario](sio, inbox)
        print(f"ok {scenario} {sio.transport()} engineio {engineio.__version__} socketio {socketio.__version__}",
              flush=True)
    finally:
        sio.disconnect()


if __name__ == "__main__":
    main()
