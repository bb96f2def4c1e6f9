"""Robustness test: thousands of malformed HTTP requests and WebSocket frames against the Engine.IO echo server.

The server must stay up, answer the well-defined error classes with the right status (431, 400, 413, ...) or
WebSocket close code (1002, 1007, 1009), close connections it cannot use instead of leaving them open, keep
serving ordinary clients while slow or broken ones hang around, and keep its memory bounded.

Run through the runner (which passes EIO_PORT and EIO_PID):

    python Tests/Interop/run_interop.py --bin .build/release

or alone, which starts EIO_BIN (default .build/release/eio-echo) itself:

    pytest Tests/Interop/robustness_test.py

Everything is deterministic for a given ROBUSTNESS_SEED (default 1337) except the session ids the server
hands out and the interleaving of concurrent connections. Every socket has a timeout and every phase a time
budget (ROBUSTNESS_BUDGET seconds for the two fuzzing phases together, default 45), so the test cannot
hang. A JSON summary (case counts, outcomes, RSS) goes to ROBUSTNESS_REPORT (default
/tmp/eio-robustness-summary.json) and one line of it is printed at the end.
"""

import base64
import collections
import concurrent.futures
import hashlib
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server_process import ServerProcess  # noqa: E402

HOST = "127.0.0.1"
SEED = int(os.environ.get("ROBUSTNESS_SEED", "1337"))
BUDGET = float(os.environ.get("ROBUSTNESS_BUDGET", "45"))
HTTP_CASES = int(os.environ.get("ROBUSTNESS_HTTP_CASES", "5000"))
WS_CASES = int(os.environ.get("ROBUSTNESS_WS_CASES", "3000"))
WORKERS = int(os.environ.get("ROBUSTNESS_WORKERS", "16"))
RSS_LIMIT_KB = 200 * 1024
REPORT = os.environ.get("ROBUSTNESS_REPORT", "/tmp/eio-robustness-summary.json")
IO_TIMEOUT = 3.0  # per socket operation; a fuzz connection lives at most a few of these
MAX_PAYLOAD = 1_000_000
EIO_PATH = "/engine.io/"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

pytestmark = pytest.mark.timeout(150)

SUMMARY = {"seed": SEED}


# --------------------------------------------------------------------------------------------------
# The server under test


class Target:
    def __init__(self, port, pid, proc):
        self.port = port
        self.pid = pid
        self.proc = proc

    def state(self):
        """'alive', or why not (exited with code N / zombie / gone)."""
        if self.proc is not None and self.proc.poll() is not None:
            return f"exited with code {self.proc.returncode}"
        if self.pid is None:
            return "alive"
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("State:"):
                        return "zombie (crashed)" if "Z" in line.split()[1] else "alive"
        except FileNotFoundError:
            return "gone"
        return "alive"

    def rss_kb(self, field="VmRSS"):
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except FileNotFoundError:
            return None
        return None

    def assert_alive(self, when):
        state = self.state()
        assert state == "alive", f"server is not alive {when}: {state}"


@pytest.fixture(scope="module")
def server():
    port = os.environ.get("EIO_PORT")
    if port:
        pid = os.environ.get("EIO_PID")
        target = Target(int(port), int(pid) if pid else None, None)
        SUMMARY["rss_start_kb"] = target.rss_kb()
        yield target
        return
    binary = os.environ.get("EIO_BIN") or os.path.join(HERE, "..", "..", ".build", "release", "eio-echo")
    if not os.path.exists(binary):
        pytest.skip(f"{binary} not built and EIO_PORT not set")
    with ServerProcess(binary, "--loops", "2") as process:
        target = Target(process.port, process.proc.pid, process.proc)
        SUMMARY["rss_start_kb"] = target.rss_kb()
        yield target


@pytest.fixture(autouse=True)
def _still_alive(server):
    server.assert_alive("before the test")
    yield
    server.assert_alive("after the test")


# --------------------------------------------------------------------------------------------------
# Raw HTTP helpers


def connect(port, timeout=IO_TIMEOUT):
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_quietly(sock, data):
    """sendall that reports a reset instead of raising (the server may answer and close mid-request)."""
    try:
        sock.sendall(data)
        return None
    except (BrokenPipeError, ConnectionResetError) as error:
        return type(error).__name__
    except socket.timeout:
        return "send-timeout"


def read_until_close(sock, timeout=IO_TIMEOUT, limit=4 << 20):
    """Reads until EOF; returns (bytes, how): how is 'eof', 'reset', 'timeout' or 'limit'."""
    chunks, total = [], 0
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return b"".join(chunks), "timeout"
        except (ConnectionResetError, ConnectionAbortedError):
            return b"".join(chunks), "reset"
        if not chunk:
            return b"".join(chunks), "eof"
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return b"".join(chunks), "limit"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self):
        return f"<{self.status} {self.body[:80]!r}>"


class Reader:
    """Reads Content-Length-framed responses off one socket (our server never sends chunked responses)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("response timed out")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk

    def response(self, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        match = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
        assert match, f"not an HTTP status line: {lines[0][:100]!r}"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        length = int(headers.get("content-length", "0"))
        status = int(match.group(1))
        if status == 101:
            length = 0
        while len(self.buffer) < length:
            self._fill(deadline)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Response(status, headers, body)


def request_bytes(method, target, headers=(), body=b"", version="HTTP/1.1"):
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def handshake_sid(port, sock=None):
    """Opens a polling session; returns (sid, open packet dict). Reuses `sock` (keep-alive) when given."""
    own = sock is None
    sock = sock or connect(port)
    try:
        sock.sendall(request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling"))
        response = Reader(sock).response()
        assert response.status == 200, f"handshake answered {response}"
        assert response.body.startswith(b"0{"), f"handshake body {response.body[:200]!r}"
        packet = json.loads(response.body[1:])
        return packet["sid"], packet
    finally:
        if own:
            sock.close()


def status_of(data):
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(match.group(1)) if match else None


def one_shot(port, data, timeout=IO_TIMEOUT):
    """Sends `data` (no half-close), reads the first response's status, then waits for the close.

    Returns (status or None, raw bytes, how the read ended)."""
    sock = connect(port, timeout)
    try:
        send_quietly(sock, data)
        raw, how = read_until_close(sock, timeout)
        return status_of(raw), raw, how
    finally:
        sock.close()


def sender_thread(sock, data):
    """Sends a large request in the background so a server that answers early can be read meanwhile."""
    thread = threading.Thread(target=send_quietly, args=(sock, data), daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------------------------------
# Raw WebSocket helpers


def mask_bytes(payload, key):
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def ws_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, key=b"\x12\x34\x56\x78", length=None):
    """A client frame; `length` overrides the declared payload length (the real payload is still sent)."""
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", n)
    if mask:
        return head + key + mask_bytes(payload, key)
    return head + payload


def parse_server_frames(data):
    """Server frames in `data` as (fin, rsv, opcode, payload); stops at a truncated or masked frame."""
    frames, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        if b1 & 0x80:
            break  # servers must not mask; nothing sensible follows
        n, j = b1 & 0x7F, i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n, j = struct.unpack("!H", data[j:j + 2])[0], j + 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n, j = struct.unpack("!Q", data[j:j + 8])[0], j + 8
        if j + n > len(data):
            break
        frames.append((bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, data[j:j + n]))
        i = j + n
    return frames


def close_code_of(frames):
    for _fin, _rsv, opcode, payload in frames:
        if opcode == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


def ws_key(rng):
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(16))).decode()


def ws_upgrade(port, path, key, deflate=False, timeout=IO_TIMEOUT):
    """Upgrades a new connection; returns (sock, bytes after the 101 head, deflate negotiated)."""
    sock = connect(port, timeout)
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
               ("Sec-WebSocket-Version", "13")]
    if deflate:
        headers.append(("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))
    try:
        sock.sendall(request_bytes("GET", path, headers))
        reader = Reader(sock)
        response = reader.response(timeout)
    except BaseException:
        sock.close()
        raise
    if response.status != 101:
        sock.close()
        raise AssertionError(f"upgrade of {path} answered {response}")
    accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
    assert response.headers.get("sec-websocket-accept") == accept, f"bad accept in {response.headers}"
    negotiated = "permessage-deflate" in response.headers.get("sec-websocket-extensions", "")
    return sock, reader.buffer, negotiated


class WSClient:
    """Just enough of a client to check that the server still echoes (text frames, no extensions)."""

    def __init__(self, port, path):
        self.sock, self.buffer, _ = ws_upgrade(port, path, ws_key(random.Random(1)))

    def frame(self, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            frames = parse_server_frames(self.buffer)
            if frames:
                fin, rsv, opcode, payload = frames[0]
                consumed = len(ws_frame(opcode, payload, mask=False))
                self.buffer = self.buffer[consumed:]
                return opcode, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no frame")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk

    def send_text(self, text):
        self.sock.sendall(ws_frame(1, text.encode()))

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------------------------------
# Mutations

TOKENS = [b"\r\n", b"\n", b"\r", b"\x00", b" ", b"\t", b":", b"%", b"%zz", b"%00", b"\xff\xfe", b"\r\n\r\n",
          b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n", b"Content-Length: 99999999999999999999\r\n",
          b"Content-Length: -1\r\n", b"\x1e", b"\xe2\x82", b"Connection: close\r\n", b"Upgrade: websocket\r\n",
          b"sid=", b"&", b"=", b"?", b"EIO=4", b"EIO=3", b"transport=websocket", b"transport=polling", b"b",
          b"4", b"Host: a\r\n", b"0\r\n\r\n", b"ffffffff\r\n", b"HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n",
          b"Expect: 100-continue\r\n", b"Accept-Encoding: gzip, deflate\r\n", b"\x80", b"\xc0\xaf"]

SID = b"@SID@"  # replaced by a live session id when the case runs


def http_templates():
    text_payload = "4hello\x1e4w\u00f6rld\x1ebAAECAw==".encode()
    chunked = b"6\r\n4hello\r\n7\r\n\x1e4world\r\n0\r\n\r\n"
    upgrade = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]
    return [
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling&t=Ojb3", [("Accept", "*/*")]),
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling&sid=@SID@&t=Ojb4"),
        request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=@SID@",
                      [("Content-Type", "text/plain;charset=UTF-8"), ("Content-Length", str(len(text_payload)))],
                      text_payload),
        request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=@SID@",
                      [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")], chunked),
        request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=@SID@",
                      [("Content-Length", "1")], b"6"),
        request_bytes("OPTIONS", f"{EIO_PATH}?EIO=4&transport=polling",
                      [("Origin", "http://example.com"), ("Access-Control-Request-Method", "POST"),
                       ("Access-Control-Request-Headers", "content-type")]),
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=websocket", upgrade),
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=websocket&sid=@SID@", upgrade),
        request_bytes("GET", "/echo", upgrade + [("Sec-WebSocket-Extensions", "permessage-deflate")]),
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling&b64=1", [("Connection", "close")],
                      version="HTTP/1.0"),
        request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling") * 3,
        request_bytes("GET", f"{EIO_PATH}?EIO=3&transport=polling&j=0"),
        request_bytes("GET", "/engine.io/../../etc/passwd?EIO=4&transport=polling"),
        request_bytes("HEAD", f"{EIO_PATH}?EIO=4&transport=polling"),
    ]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        pos = rng.randint(0, len(data))
        if op == 0 and data:  # bit flip
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:  # random byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:  # insert random bytes
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3:  # insert a token that means something to HTTP or Engine.IO
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 4 and data:  # delete a range
            data[pos:pos + rng.randint(1, 16)] = b""
        elif op == 5:  # truncate
            del data[pos:]
        elif op == 6 and data:  # duplicate a range
            end = min(len(data), pos + rng.randint(1, 64))
            data[pos:pos] = data[pos:end]
        elif op == 7 and data:  # repeat a slice many times (past the header limits, sometimes)
            end = min(len(data), pos + rng.randint(1, 24))
            data[end:end] = data[pos:end] * rng.choice([10, 200, 1000])
        elif op == 8 and data:  # swap case of a range
            end = min(len(data), pos + rng.randint(1, 12))
            data[pos:end] = bytes(data[pos:end]).swapcase()
        elif op == 9 and data:  # replace a digit run with a huge or negative number
            digits = [m for m in re.finditer(rb"\d+", bytes(data))]
            if digits:
                m = rng.choice(digits)
                data[m.start():m.end()] = rng.choice([b"99999999999999999999999", b"-1", b"0x10", b"1e3", b""])
    return bytes(data)


def http_cases(rng, count):
    templates = http_templates()
    cases = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.05:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        elif roll < 0.10:
            data = mutate(rng, rng.choice(templates)) + mutate(rng, rng.choice(templates))
        else:
            data = mutate(rng, rng.choice(templates))
        cases.append({"index": index, "data": data, "reuse": rng.random() < 0.5})
    return cases


def run_http_case(port, case):
    """Optionally opens a session (on the same keep-alive connection half of the time), sends the mutated
    request, half-closes and reads until the server closes. Returns an outcome dict."""
    data = case["data"]
    sock = connect(port)
    try:
        if SID in data:
            sid, _ = handshake_sid(port, sock if case["reuse"] else None)
            data = data.replace(SID, sid.encode())
        sent = send_quietly(sock, data)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        raw, how = read_until_close(sock)
    finally:
        sock.close()
    return {"status": status_of(raw), "raw": raw[:200], "how": how, "send": sent, "len": len(data)}


# --------------------------------------------------------------------------------------------------
# WebSocket cases: (kind, path, deflate offered, bytes, expected close codes or None)

RESERVED_OPCODES = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]
INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80abc", b"a\xfeb",
                b"\xf8\x88\x80\x80\x80", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"]
BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
# Kinds whose expected outcome does not depend on the endpoint's message limit (1e6 vs 64 MiB).
SAME_ON_ECHO = {"bad_opcode", "rsv", "unmasked", "msb_len", "truncated", "invalid_utf8", "invalid_utf8_fragment",
                "frag_control", "long_control", "bad_continuation", "expected_continuation", "close_bad",
                "close_bad_reason", "close_ok", "random", "flipped"}


def random_invalid_utf8(rng):
    while True:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return data


def deflate_raw(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def ws_cases(rng, count):
    eio = f"{EIO_PATH}?EIO=4&transport=websocket"
    cases = []
    key = lambda: bytes(rng.getrandbits(8) for _ in range(4))  # noqa: E731
    valid_stream = lambda: (ws_frame(1, b"4hello", key=key()) + ws_frame(2, b"\x01\x02\x03", key=key())  # noqa: E731
                            + ws_frame(9, b"ping", key=key()) + ws_frame(1, b"4w\xc3\xb6rld", fin=False, key=key())
                            + ws_frame(0, b"!", key=key()))
    for index in range(count):
        kind = rng.choice(["bad_opcode", "rsv", "unmasked", "huge_len", "msb_len", "truncated", "invalid_utf8",
                           "invalid_utf8_fragment", "frag_control", "long_control", "bad_continuation",
                           "expected_continuation", "close_bad", "close_bad_reason", "close_ok", "random",
                           "flipped", "eio_garbage", "deflate_garbage", "deflate_bomb", "echo_huge_len"])
        path, deflate, expect = eio, False, None
        if kind == "bad_opcode":
            data, expect = ws_frame(rng.choice(RESERVED_OPCODES), b"x" * rng.randint(0, 20),
                                    key=key()), {1002}
        elif kind == "rsv":
            deflate = rng.random() < 0.3
            rsv = rng.randint(1, 7)
            data = ws_frame(rng.choice([1, 2]), b"4hello", rsv=rsv, key=key())
            expect = None if deflate and rsv == 4 else {1002}  # RSV1 alone is legal once deflate is on
        elif kind == "unmasked":
            data, expect = ws_frame(rng.choice([1, 2, 9]), b"4hello", mask=False), {1002}
        elif kind == "huge_len":
            n = rng.choice([2_000_000, 1 << 32, (1 << 62) + 5, (1 << 63) - 1, rng.randint(2_000_000, 1 << 40)])
            data, expect = ws_frame(rng.choice([1, 2]), b"4abc", key=key(), length=n), {1009}
        elif kind == "msb_len":
            data, expect = ws_frame(2, b"abc", key=key(), length=(1 << 63) | rng.randint(0, 1 << 20)), {1002}
        elif kind == "truncated":
            whole = valid_stream()
            data = whole[:rng.randint(1, len(whole) - 1)]
        elif kind == "invalid_utf8":
            bad = rng.choice(INVALID_UTF8) if rng.random() < 0.5 else random_invalid_utf8(rng)
            data, expect = ws_frame(1, b"4" + bad, key=key()), {1007}
        elif kind == "invalid_utf8_fragment":
            data = ws_frame(1, b"4ok", fin=False, key=key()) + ws_frame(0, rng.choice(INVALID_UTF8) + b"zz",
                                                                        fin=True, key=key())
            expect = {1007}
        elif kind == "frag_control":
            data, expect = ws_frame(rng.choice([8, 9, 10]), b"", fin=False, key=key()), {1002}
        elif kind == "long_control":
            data, expect = ws_frame(rng.choice([9, 10]), b"p" * rng.randint(126, 300), key=key()), {1002}
        elif kind == "bad_continuation":
            data, expect = ws_frame(0, b"orphan", key=key()), {1002}
        elif kind == "expected_continuation":
            data = ws_frame(1, b"4part", fin=False, key=key()) + ws_frame(rng.choice([1, 2]), b"4new", key=key())
            expect = {1002}
        elif kind == "close_bad":
            if rng.random() < 0.3:
                data = ws_frame(8, b"\x03", key=key())
            else:
                data = ws_frame(8, struct.pack("!H", rng.choice(BAD_CLOSE_CODES)), key=key())
            expect = {1002}
        elif kind == "close_bad_reason":
            data, expect = ws_frame(8, struct.pack("!H", 1000) + rng.choice(INVALID_UTF8), key=key()), {1007}
        elif kind == "close_ok":
            data, expect = ws_frame(8, struct.pack("!H", rng.choice([1000, 1001, 3000, 4999])) + b"bye",
                                    key=key()), "echo"
        elif kind == "random":
            data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 512)))
        elif kind == "flipped":
            data = bytearray(valid_stream())
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            data = bytes(data)
        elif kind == "eio_garbage":
            packets = [b"", b"9", b"2probe", b"3probe", b"5", b"6", b"1", b"4", b"b", b"bAQI=", b"4" * 5000,
                       b"0{}", b"\x1e\x1e", "4\u4f60\u597d".encode(), bytes([rng.randrange(32, 127)]) * 3]
            data = b"".join(ws_frame(rng.choice([1, 1, 2]), rng.choice(packets), key=key())
                            for _ in range(rng.randint(1, 6)))
        elif kind == "deflate_garbage":
            # 0xff starts a block with the reserved BTYPE 11, so inflating must fail.
            deflate, path = True, rng.choice([eio, "/echo"])
            data = ws_frame(rng.choice([1, 2]), b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 64))),
                            rsv=4, key=key())
            expect = "1007-if-deflate"
        elif kind == "deflate_bomb":
            # ~5 KB that inflates to 5 MB: over maxPayload (1e6) on /engine.io/.
            deflate = True
            data = ws_frame(2, deflate_raw(b"\x00" * 5_000_000), rsv=4, key=key())
            expect = "1009-if-deflate"
        elif kind == "echo_huge_len":
            # /echo allows 64 MiB messages: a declared 60 MiB frame followed by a little data, then EOF.
            path = "/echo"
            data = ws_frame(2, b"z" * 1000, key=key(), length=60 << 20)
        if kind in SAME_ON_ECHO and rng.random() < 0.25:
            path = "/echo"  # the plain WebSocket endpoint must fail the same way
        cases.append({"index": index, "kind": kind, "path": path, "deflate": deflate, "data": data,
                      "expect": expect, "key": ws_key(rng)})
    return cases


def run_ws_case(port, case):
    sock, early, negotiated = ws_upgrade(port, case["path"], case["key"], case["deflate"])
    try:
        sent = send_quietly(sock, case["data"])
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        raw, how = read_until_close(sock)
    finally:
        sock.close()
    frames = parse_server_frames(early + raw)
    return {"close": close_code_of(frames), "how": how, "send": sent, "deflate": negotiated,
            "opcodes": [f[2] for f in frames][:8]}


def ws_expectation_problem(case, outcome):
    """None when the outcome fits the case's expectation, else a description."""
    expect = case["expect"]
    if expect == "1007-if-deflate":
        expect = {1007} if outcome["deflate"] else {1002}
    elif expect == "1009-if-deflate":
        expect = {1009} if outcome["deflate"] else {1002}
    if expect is None:
        return None
    code = outcome["close"]
    if expect == "echo":
        # A valid close must be answered with a close frame (any valid code; usually the same one).
        if code is None:
            return "valid close frame not answered with a close frame"
        return None
    if code is None:
        # Dropping the TCP connection without a close frame is allowed by RFC 6455 §7.1.7, but record it.
        return None if outcome["how"] in ("eof", "reset") else "connection not closed"
    return None if code in expect else f"close code {code}, expected {sorted(expect)}"


# --------------------------------------------------------------------------------------------------
# Runner for a batch of cases on a thread pool, bounded by a time budget


def run_cases(cases, fn, port, budget):
    deadline = time.monotonic() + budget
    results = []
    errors = collections.Counter()
    error_examples = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending = {}
        iterator = iter(cases)
        exhausted = False
        while True:
            while not exhausted and len(pending) < WORKERS * 2 and time.monotonic() < deadline:
                case = next(iterator, None)
                if case is None:
                    exhausted = True
                    break
                pending[pool.submit(fn, port, case)] = case
            if not pending:
                break
            done, _ = concurrent.futures.wait(pending, timeout=IO_TIMEOUT * 4,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            assert done, "a fuzz connection outlived every socket timeout"
            for future in done:
                case = pending.pop(future)
                try:
                    results.append((case, future.result()))
                except Exception as error:  # noqa: BLE001 - recorded, judged by the caller
                    name = f"{type(error).__name__}: {str(error)[:80]}"
                    errors[name] += 1
                    error_examples.setdefault(name, case)
            if time.monotonic() >= deadline and not pending:
                break
    return results, errors, error_examples


# --------------------------------------------------------------------------------------------------
# Well-defined HTTP error classes


def test_oversized_header_431(server):
    big = request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling", [("X-Big", "a" * 17 * 1024)])
    status, raw, how = one_shot(server.port, big)
    assert status == 431, f"17 KiB header answered {raw[:120]!r} ({how})"
    # 40 KiB of header in 1 KiB lines.
    many_big = request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling",
                             [(f"X-Line-{i}", "b" * 1000) for i in range(40)])
    status, raw, how = one_shot(server.port, many_big)
    assert status == 431, f"40 KiB of header lines answered {raw[:120]!r} ({how})"


def test_thousands_of_header_lines_431(server):
    lines = request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling", [(f"X-{i}", "v") for i in range(5000)])
    status, raw, how = one_shot(server.port, lines)
    assert status == 431, f"5000 header lines answered {raw[:120]!r} ({how})"
    # Just over the field count but well under the byte limit.
    few = request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling", [(f"X-{i}", "v") for i in range(150)])
    status, raw, how = one_shot(server.port, few)
    assert status == 431, f"150 header lines answered {raw[:120]!r} ({how})"


@pytest.mark.parametrize("line", [
    b"GARBAGE", b"GET", b"GET /engine.io/", b" GET /engine.io/?EIO=4&transport=polling HTTP/1.1",
    b"GET  /engine.io/?EIO=4&transport=polling HTTP/1.1", b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1 x",
    b"GET /engine.io/?EIO=4&transport=polling http/1.1", b"G(T /engine.io/ HTTP/1.1",
    b"GET /engine.io/?EIO=4&\x01transport=polling HTTP/1.1", b"GET /engine.io/?EIO=4\x7f HTTP/1.1",
    b"\x00\x01\x02\x03", b"GET /engine.io/ HTTP/1.1\x00",
], ids=lambda line: repr(line)[2:40])
def test_malformed_request_line_400(server, line):
    status, raw, how = one_shot(server.port, line + b"\r\nHost: x\r\n\r\n")
    assert status == 400, f"{line!r} answered {raw[:120]!r} ({how})"
    assert how in ("eof", "reset"), f"connection left open after 400 for {line!r}"


def test_other_request_line_errors(server):
    status, raw, _ = one_shot(server.port, b"GET /engine.io/?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414, f"9 KB target answered {raw[:120]!r}"
    status, raw, _ = one_shot(server.port, b"GET /engine.io/?EIO=4&transport=polling HTTP/2.0\r\nHost: x\r\n\r\n")
    assert status == 505, f"HTTP/2.0 answered {raw[:120]!r}"
    # A request line that never ends: answered once it passes the 8 KiB limit, without waiting for LF.
    status, raw, _ = one_shot(server.port, b"GET /" + b"a" * 20000)
    assert status == 414, f"unterminated 20 KB request line answered {raw[:120]!r}"


def post_polling(sid, headers, body=b""):
    return request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid={sid}",
                         [("Content-Type", "text/plain;charset=UTF-8")] + headers, body)


def test_post_over_max_payload_413(server):
    results = {}
    # Declared up front: answered from the headers alone.
    sid, _ = handshake_sid(server.port)
    status, raw, _ = one_shot(server.port, post_polling(sid, [("Content-Length", str(MAX_PAYLOAD + 1))]))
    results["declared"] = status
    # Declared and actually sent (the server may answer before reading the body).
    sid, _ = handshake_sid(server.port)
    sock = connect(server.port)
    try:
        body = b"4" + b"x" * MAX_PAYLOAD
        sender = sender_thread(sock, post_polling(sid, [("Content-Length", str(len(body)))], body))
        raw, _ = read_until_close(sock, timeout=10)
        sender.join(10)
        results["sent"] = status_of(raw)
    finally:
        sock.close()
    # Chunked: one chunk that is too large, and two chunks that only together are too large.
    sid, _ = handshake_sid(server.port)
    status, raw, _ = one_shot(server.port, post_polling(sid, [("Transfer-Encoding", "chunked")], b"F4241\r\n"))
    results["one_chunk"] = status
    sid, _ = handshake_sid(server.port)
    sock = connect(server.port)
    try:
        chunk = b"4" + b"y" * 599_999
        body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk, len(chunk), chunk)
        sender = sender_thread(sock, post_polling(sid, [("Transfer-Encoding", "chunked")], body))
        raw, _ = read_until_close(sock, timeout=10)
        sender.join(10)
        results["two_chunks"] = status_of(raw)
    finally:
        sock.close()
    SUMMARY["post_413"] = results
    assert results == {"declared": 413, "sent": 413, "one_chunk": 413, "two_chunks": 413}, results


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "0x10", "1 2", "5, 6", "", "1.0", "5\t5"],
                         ids=lambda v: repr(v))
def test_invalid_content_length_400(server, value):
    data = request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=x",
                         [("Content-Length", value)], b"hello")
    status, raw, _ = one_shot(server.port, data)
    assert status == 400, f"Content-Length {value!r} answered {raw[:120]!r}"


def test_conflicting_content_lengths_400(server):
    data = request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=x",
                         [("Content-Length", "5"), ("Content-Length", "6")], b"hello!")
    status, raw, _ = one_shot(server.port, data)
    assert status == 400, f"two Content-Lengths answered {raw[:120]!r}"


@pytest.mark.parametrize("body,expected", [
    (b"zz\r\nhello\r\n0\r\n\r\n", 400),
    (b"5\r\nhelloXX0\r\n\r\n", 400),
    (b"-1\r\nhello\r\n0\r\n\r\n", 400),
    (b"5;\x01ext\r\nhello\r\n0\r\n\r\n", 400),
    (b"5" + b" " * 5000 + b"\r\nhello\r\n0\r\n\r\n", 400),
    (b"\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    (b"FFFFFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n", 413),
    (b"5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n", 400),
], ids=lambda v: repr(v)[2:24] if isinstance(v, bytes) else str(v))
def test_bad_chunked_body(server, body, expected):
    data = request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=x",
                         [("Transfer-Encoding", "chunked")], body)
    status, raw, _ = one_shot(server.port, data)
    assert status == expected, f"chunked body {body[:40]!r} answered {raw[:120]!r}"


@pytest.mark.parametrize("coding,expected", [("gzip", 501), ("chunked, chunked", 400), ("gzip, chunked", 501),
                                             ("", 400)])
def test_bad_transfer_encoding(server, coding, expected):
    data = request_bytes("POST", f"{EIO_PATH}?EIO=4&transport=polling&sid=x",
                         [("Transfer-Encoding", coding)], b"0\r\n\r\n")
    status, raw, _ = one_shot(server.port, data)
    assert status == expected, f"Transfer-Encoding {coding!r} answered {raw[:120]!r}"


def test_pipelined_garbage(server):
    good = request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling")
    # A valid request, then garbage: one 200, one 400, then the close.
    raw, how = b"", None
    sock = connect(server.port)
    try:
        sock.sendall(good + b"\x00\x01garbage \xff\r\n\r\n" + good)
        raw, how = read_until_close(sock)
    finally:
        sock.close()
    statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]
    assert statuses == [200, 400], f"pipelined good+garbage+good answered {statuses} ({how})"
    # 100 pipelined handshakes in one write: 100 answers, in order, each a fresh session.
    sock = connect(server.port)
    try:
        sock.sendall(good * 100)
        reader = Reader(sock)
        sids = set()
        for _ in range(100):
            response = reader.response()
            assert response.status == 200
            sids.add(json.loads(response.body[1:])["sid"])
        assert len(sids) == 100
    finally:
        sock.close()
    # A valid request followed by 1 MB of random bytes: the 200 comes back, then an error and the close.
    rng = random.Random(SEED + 1)
    sock = connect(server.port)
    try:
        sender = sender_thread(sock, good + bytes(rng.randrange(256) for _ in range(1 << 20)))
        raw, how = read_until_close(sock, timeout=10)
        sender.join(10)
    finally:
        sock.close()
    statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]
    assert statuses[:1] == [200] and len(statuses) <= 2 and how in ("eof", "reset"), (statuses, how)


# --------------------------------------------------------------------------------------------------
# Slow and stalled clients


def test_slowloris_does_not_block_others(server):
    rng = random.Random(SEED + 2)
    socks = []
    try:
        partial = [
            b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n",  # headers never finish
            b"GET /engine.io/?EIO=4&trans",  # request line never finishes
            b"POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4ab",
            b"POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc",
            b"",  # connects and says nothing
        ]
        for i in range(40):
            sock = connect(server.port)
            socks.append(sock)
            sock.sendall(partial[i % len(partial)])
        # WebSockets that stop in the middle of a frame header and of a payload.
        for i in range(8):
            sock, _, _ = ws_upgrade(server.port, f"{EIO_PATH}?EIO=4&transport=websocket", ws_key(rng))
            socks.append(sock)
            sock.sendall(ws_frame(1, b"4hello world")[: 1 + i % 8])
        # Trickle a byte at a time into the header-stalled ones while normal clients come and go.
        started = time.monotonic()
        handshakes = 0
        while time.monotonic() - started < 2.0:
            for sock in socks[:40:5]:
                send_quietly(sock, b"X-Slow-%d: b\r\n" % rng.randrange(1000))
            t0 = time.monotonic()
            handshake_sid(server.port)
            elapsed = time.monotonic() - t0
            assert elapsed < 2.0, f"a handshake took {elapsed:.2f}s with slow clients connected"
            handshakes += 1
            time.sleep(0.1)
        client = WSClient(server.port, f"{EIO_PATH}?EIO=4&transport=websocket")
        try:
            opcode, payload = client.frame()
            assert opcode == 1 and payload.startswith(b"0{")
        finally:
            client.close()
        SUMMARY["slowloris"] = {"stalled_connections": len(socks), "handshakes_meanwhile": handshakes,
                                "rss_kb_with_stalled": server.rss_kb()}
    finally:
        for sock in socks:
            sock.close()


def test_memory_with_large_declared_bodies(server):
    """40 connections each announce a near-limit body (HTTP) or a 60 MiB frame (/echo) and send 1 KB:
    a server that preallocates what is announced would need gigabytes."""
    rng = random.Random(SEED + 3)
    socks = []
    try:
        for _ in range(20):
            sid, _ = handshake_sid(server.port)
            sock = connect(server.port)
            socks.append(sock)
            sock.sendall(post_polling(sid, [("Content-Length", str(MAX_PAYLOAD))], b"4" + b"q" * 1000))
        for _ in range(20):
            sock, _, _ = ws_upgrade(server.port, "/echo", ws_key(rng))
            socks.append(sock)
            sock.sendall(ws_frame(2, b"z" * 1000, length=60 << 20))
        time.sleep(0.5)
        rss = server.rss_kb()
        SUMMARY["rss_kb_with_declared_bodies"] = rss
        if rss is not None:
            assert rss < RSS_LIMIT_KB, f"RSS {rss} kB with 40 partially-sent large bodies"
        handshake_sid(server.port)
    finally:
        for sock in socks:
            sock.close()


# --------------------------------------------------------------------------------------------------
# Well-defined WebSocket error classes


WS_CLASSES = [
    ("reserved opcode 0x3", ws_frame(3, b"x"), 1002),
    ("reserved opcode 0xB", ws_frame(11, b"x"), 1002),
    ("RSV1 without extension", ws_frame(1, b"4hi", rsv=4), 1002),
    ("RSV2", ws_frame(1, b"4hi", rsv=2), 1002),
    ("RSV3", ws_frame(2, b"hi", rsv=1), 1002),
    ("unmasked text", ws_frame(1, b"4hi", mask=False), 1002),
    ("unmasked ping", ws_frame(9, b"", mask=False), 1002),
    ("declared 2^62 bytes", ws_frame(2, b"abc", length=1 << 62), 1009),
    ("declared 2 MB", ws_frame(2, b"abc", length=2_000_000), 1009),
    ("length with MSB set", ws_frame(2, b"abc", length=1 << 63), 1002),
    ("invalid UTF-8 text", ws_frame(1, b"4\xff\xfe"), 1007),
    ("surrogate in text", ws_frame(1, b"4\xed\xa0\x80"), 1007),
    ("invalid UTF-8 across fragments", ws_frame(1, b"4\xe2", fin=False) + ws_frame(0, b"\x28\xa1"), 1007),
    ("fragmented ping", ws_frame(9, b"p", fin=False), 1002),
    ("fragmented close", ws_frame(8, b"\x03\xe8", fin=False), 1002),
    ("ping of 126 bytes", ws_frame(9, b"p" * 126), 1002),
    ("orphan continuation", ws_frame(0, b"x"), 1002),
    ("new message inside fragmented one", ws_frame(1, b"4a", fin=False) + ws_frame(1, b"4b"), 1002),
    ("close with 1-byte payload", ws_frame(8, b"\x03"), 1002),
    ("close code 1005", ws_frame(8, struct.pack("!H", 1005)), 1002),
    ("close code 999", ws_frame(8, struct.pack("!H", 999)), 1002),
    ("close reason not UTF-8", ws_frame(8, struct.pack("!H", 1000) + b"\xff"), 1007),
]


@pytest.mark.parametrize("name,data,code", WS_CLASSES, ids=[c[0] for c in WS_CLASSES])
def test_websocket_protocol_errors(server, name, data, code):
    rng = random.Random(name)
    sock, early, _ = ws_upgrade(server.port, f"{EIO_PATH}?EIO=4&transport=websocket", ws_key(rng))
    try:
        send_quietly(sock, data)
        # No half-close: the server has to fail the connection on its own.
        raw, how = read_until_close(sock, timeout=IO_TIMEOUT)
    finally:
        sock.close()
    frames = parse_server_frames(early + raw)
    got = close_code_of(frames)
    assert how in ("eof", "reset"), f"{name}: connection still open after {IO_TIMEOUT}s (frames {frames[:4]})"
    assert got == code, f"{name}: close code {got}, expected {code} (frames {[(f[2], f[3][:40]) for f in frames]})"


# --------------------------------------------------------------------------------------------------
# Fuzzing


def test_fuzz_http(server):
    rng = random.Random(SEED)
    cases = http_cases(rng, HTTP_CASES)
    started = time.monotonic()
    results, errors, examples = run_cases(cases, run_http_case, server.port, BUDGET / 2)
    elapsed = time.monotonic() - started
    server.assert_alive("after the HTTP fuzzing")
    statuses = collections.Counter(str(o["status"]) for _c, o in results)
    hows = collections.Counter(o["how"] for _c, o in results)
    not_http = [(c["index"], o["raw"][:60]) for c, o in results if o["raw"] and o["status"] is None]
    server_errors = [(c["index"], o["status"], c["data"][:200]) for c, o in results
                     if o["status"] is not None and o["status"] >= 500 and o["status"] not in (501, 505)]
    hung = [(c["index"], c["data"][:200]) for c, o in results if o["how"] == "timeout"]
    SUMMARY["http_fuzz"] = {"cases": len(results), "client_errors": dict(errors), "seconds": round(elapsed, 1),
                            "statuses": dict(statuses), "read_end": dict(hows)}
    assert len(results) >= min(len(cases), 300), f"only {len(results)} cases ran: {dict(errors)}"
    assert not not_http, f"responses that are not HTTP: {not_http[:5]}"
    assert not server_errors, f"5xx answers: {server_errors[:5]}"
    assert not hung, f"{len(hung)} connections still open {IO_TIMEOUT}s after the client's EOF: {hung[:3]}"
    # Client-side errors mean the handshake before a case failed: the server refused a valid request.
    assert not errors, f"client errors: {dict(errors)}; e.g. {[(k, v['data'][:120]) for k, v in examples.items()][:3]}"


def test_fuzz_websocket(server):
    rng = random.Random(SEED + 10)
    cases = ws_cases(rng, WS_CASES)
    started = time.monotonic()
    results, errors, examples = run_cases(cases, run_ws_case, server.port, BUDGET / 2)
    elapsed = time.monotonic() - started
    server.assert_alive("after the WebSocket fuzzing")
    by_kind = collections.defaultdict(collections.Counter)
    problems = []
    for case, outcome in results:
        label = case["kind"] + (" (/echo)" if case["path"] == "/echo" else "")
        by_kind[label][str(outcome["close"]) if outcome["close"] else outcome["how"]] += 1
        problem = ws_expectation_problem(case, outcome)
        if problem:
            problems.append((case["index"], case["kind"], problem, case["data"][:40]))
    hung = [(c["index"], c["kind"], c["data"][:40]) for c, o in results if o["how"] == "timeout"]
    SUMMARY["ws_fuzz"] = {"cases": len(results), "client_errors": dict(errors), "seconds": round(elapsed, 1),
                          "outcomes_by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
                          "problems": len(problems)}
    assert len(results) >= min(len(cases), 300), f"only {len(results)} cases ran: {dict(errors)}"
    assert not errors, f"upgrade failures: {dict(errors)}; e.g. {[(k, v['kind']) for k, v in examples.items()][:3]}"
    assert not hung, f"{len(hung)} WebSockets still open {IO_TIMEOUT}s after the client's EOF: {hung[:3]}"
    assert not problems, f"{len(problems)} unexpected outcomes, e.g. {problems[:6]}"


# --------------------------------------------------------------------------------------------------
# Afterwards


def test_zz_still_healthy(server, capsys):
    server.assert_alive("at the end")
    sid, packet = handshake_sid(server.port)
    assert packet["upgrades"] == ["websocket"]
    assert packet["pingInterval"] == 300 and packet["pingTimeout"] == 200 and packet["maxPayload"] == MAX_PAYLOAD
    # Polling round trip on the new session.
    sock = connect(server.port)
    try:
        sock.sendall(post_polling(sid, [("Content-Length", "6")], b"4hello"))
        reader = Reader(sock)
        assert reader.response().status == 200
        sock.sendall(request_bytes("GET", f"{EIO_PATH}?EIO=4&transport=polling&sid={sid}"))
        body = reader.response().body
        assert b"4hello" in body.split(b"\x1e"), body
    finally:
        sock.close()
    # WebSocket handshake and echo.
    client = WSClient(server.port, f"{EIO_PATH}?EIO=4&transport=websocket")
    try:
        opcode, payload = client.frame()
        assert opcode == 1 and payload.startswith(b"0{"), payload
        client.send_text("4still here \u00e9")
        while True:
            opcode, payload = client.frame()
            if payload == b"2":  # a ping from the heartbeat may come first
                client.send_text("3")
                continue
            break
        assert (opcode, payload) == (1, "4still here \u00e9".encode())
    finally:
        client.close()
    # Plain WebSocket echo on /echo.
    client = WSClient(server.port, "/echo")
    try:
        client.send_text("echo \u4f60\u597d")
        assert client.frame() == (1, "echo \u4f60\u597d".encode())
    finally:
        client.close()
    time.sleep(1.0)  # let expired sessions and closed connections be collected
    rss, peak = server.rss_kb(), server.rss_kb("VmHWM")
    SUMMARY["rss_end_kb"], SUMMARY["rss_peak_kb"] = rss, peak
    with open(REPORT, "w") as report:
        json.dump(SUMMARY, report, indent=1, sort_keys=True)
    line = (f"robustness: seed {SEED}, http cases {SUMMARY.get('http_fuzz', {}).get('cases')}, "
            f"ws cases {SUMMARY.get('ws_fuzz', {}).get('cases')}, RSS start {SUMMARY.get('rss_start_kb')} kB, "
            f"end {rss} kB, peak {peak} kB (summary: {REPORT})")
    with capsys.disabled():
        print("\n" + line)
    if rss is not None:
        assert rss < RSS_LIMIT_KB, f"RSS {rss} kB after the robustness run"
