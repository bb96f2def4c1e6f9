"""permessage-deflate as a real client sees it: Python `websockets` offers deflate to eio-echo (deflate always
on) and to a `sio-echo --per-message-deflate`; the RSV1 bit of every data frame it receives is recorded.
Short messages must come back uncompressed (threshold 1024 bytes, as Node's server), 4 KB ones compressed,
Socket.IO's compress(false) plain at any size, and every content exact.

Needs EIO_PORT (eio-echo) and BIN_DIR (for sio-echo), both set by run_interop.py.
"""
import contextlib
import json
import os
import sys
import threading

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Opcode
from websockets.sync.client import connect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess  # noqa: E402

pytestmark = pytest.mark.timeout(60)

LONG_TEXT = "".join(chr(97 + i % 26) for i in range(4096))
LONG_BINARY = bytes(i % 251 for i in range(4096))


class RecordingDeflate(ClientPerMessageDeflateFactory):
    """The standard client extension, plus a log of the RSV1 bit of each data frame before inflating."""

    def __init__(self):
        super().__init__()
        self.rsv1 = []
        self.lock = threading.Lock()

    def process_response_params(self, params, accepted_extensions):
        extension = super().process_response_params(params, accepted_extensions)
        decode = extension.decode

        def recording_decode(frame, *, max_size=None):
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                with self.lock:
                    self.rsv1.append(frame.rsv1)
            return decode(frame, max_size=max_size)

        extension.decode = recording_decode
        return extension


class Client:
    """An Engine.IO WebSocket connection that answers heartbeats and returns (message, compressed)."""

    def __init__(self, url):
        self.deflate = RecordingDeflate()
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(
            connect(url, extensions=[self.deflate], compression=None, max_size=None, proxy=None))
        self.taken = 0
        assert self.ws.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")

    def next(self, timeout=10):
        while True:
            message = self.ws.recv(timeout=timeout)
            with self.deflate.lock:
                compressed = self.deflate.rsv1[self.taken]
            self.taken += 1
            if message == "2":  # Engine.IO ping: answer, it is not what the test waits for
                self.ws.send("3")
                continue
            return message, compressed

    def close(self):
        self.stack.close()


@pytest.fixture
def eio():
    client = Client(f"ws://127.0.0.1:{os.environ['EIO_PORT']}/engine.io/?EIO=4&transport=websocket")
    message, compressed = client.next()
    assert message.startswith("0{") and not compressed
    yield client
    client.close()


def test_engineio_short_message_comes_back_uncompressed(eio):
    eio.ws.send("4hello")
    assert eio.next() == ("4hello", False)


def test_engineio_4k_message_comes_back_compressed(eio):
    eio.ws.send("4" + LONG_TEXT)
    assert eio.next() == ("4" + LONG_TEXT, True)
    eio.ws.send("4again")
    assert eio.next() == ("4again", False)


def test_engineio_binary_follows_the_same_threshold(eio):
    eio.ws.send(b"\x01\x02\x03")
    assert eio.next() == (b"\x01\x02\x03", False)
    eio.ws.send(LONG_BINARY)
    assert eio.next() == (LONG_BINARY, True)


@pytest.fixture(scope="module")
def sio_server():
    binary = os.path.join(os.environ["BIN_DIR"], "sio-echo")
    with ServerProcess(binary, "--per-message-deflate", "--loops", "2", "--ping-interval", "25000",
                       "--ping-timeout", "20000") as server:
        yield server


@pytest.fixture
def sio(sio_server):
    client = Client(f"ws://127.0.0.1:{sio_server.port}/socket.io/?EIO=4&transport=websocket")
    message, _ = client.next()
    assert message.startswith("0{")
    client.ws.send("40")
    message, compressed = client.next()
    assert message.startswith("40{") and not compressed
    assert client.next() == ('42["auth",{}]', False)
    yield client
    client.close()


def test_socketio_short_event_comes_back_uncompressed(sio):
    sio.ws.send('42["message","hi"]')
    assert sio.next() == ('42["message-back","hi"]', False)


def test_socketio_compress_false_is_honoured_to_the_frame(sio):
    sio.ws.send("421" + json.dumps(["compress-echo", LONG_TEXT]))
    seen = {}
    while len(seen) < 4:
        message, compressed = sio.next()
        if message.startswith("431"):
            seen["ack"] = (message, compressed)
            continue
        event, argument = json.loads(message[2:])
        assert argument == LONG_TEXT
        seen[event] = compressed
    assert seen["compressed"] is True
    assert seen["uncompressed"] is False, "socket.compress(false).emit"
    assert seen["uncompressed-broadcast"] is False, "io.to(room).compress(false).emit"
    assert seen["ack"] == ("431[]", False)
