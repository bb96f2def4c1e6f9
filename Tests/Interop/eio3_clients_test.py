"""Engine.IO v3 / Socket.IO v2 clients (allowEIO3) against sio-echo and spaces.

Real old clients: python-socketio 4.6 and python-engineio 3.14 run in their own venv (.venv-eio3, made by
`make eio3-venv`; EIO3_PYTHON overrides its python), as subprocesses (eio3/legacy_client.py,
eio3/legacy_mock_app.py), over polling, websocket and upgrade. The wire details those clients do not exercise
(text payloads with UTF-16 lengths, `b4` base64, JSONP, the CONNECT query, the heartbeat deadline) are checked
byte by byte over HTTP with requests. The executables come from BIN_DIR (run_interop.py sets it).
"""
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import shutil
import threading
import time

import pytest
import requests
import socketio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from server_process import ServerProcess  # noqa: E402
from spaces_e2e_test import Spaces, create_space, new_user, submit, wait_status  # noqa: E402

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {"polling": "polling", "websocket": "websocket", "upgrade": "polling,websocket"}
PRODUCTION_HEARTBEAT = ["--ping-interval", "25000", "--ping-timeout", "20000"]


def bin_dir():
    for candidate in (os.environ.get("BIN_DIR"), os.path.join(ROOT, ".build", "release"), os.path.join(ROOT, ".build", "debug")):
        if candidate and os.path.exists(os.path.join(candidate, "sio-echo")):
            return candidate
    pytest.fail("sio-echo is not built (set BIN_DIR)")


def legacy_python():
    python = os.environ.get("EIO3_PYTHON") or os.path.join(ROOT, ".venv-eio3", "bin", "python")
    if not os.path.exists(python):
        pytest.fail(f"{python} missing: run `make eio3-venv` (python-socketio 4.6, python-engineio 3.14)")
    return python


def run_legacy(*args, timeout=60):
    result = subprocess.run([legacy_python(), *args], capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def server():
    """sio-echo --allow-eio3 with production heartbeats."""
    with ServerProcess(os.path.join(bin_dir(), "sio-echo"), "--allow-eio3", "--loops", "2",
                       "--connect-timeout", "10000", *PRODUCTION_HEARTBEAT) as process:
        yield process


@pytest.fixture(scope="module")
def fast_heartbeat_server():
    """sio-echo --allow-eio3 with the test suite's 300 ms interval and 200 ms timeout."""
    with ServerProcess(os.path.join(bin_dir(), "sio-echo"), "--allow-eio3", "--loops", "2") as process:
        yield process


@pytest.fixture(scope="module")
def heartbeat_server():
    """sio-echo --allow-eio3 with 1 s heartbeats: a session without pings ends after 2 s."""
    with ServerProcess(os.path.join(bin_dir(), "sio-echo"), "--allow-eio3", "--loops", "2",
                       "--ping-interval", "1000", "--ping-timeout", "1000") as process:
        yield process


@pytest.fixture(scope="module")
def v4_only_server():
    with ServerProcess(os.path.join(bin_dir(), "sio-echo"), "--loops", "1", *PRODUCTION_HEARTBEAT) as process:
        yield process


# ---------------------------------------------------------------------------------------------------------------
# The v3 wire, as a JavaScript v2 client writes and reads it


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2


def text_payload(*packets):
    """The text form: `<UTF-16 length>:<packet>` per packet."""
    return "".join(f"{utf16_length(p)}:{p}" for p in packets)


def parse_text_payload(body):
    packets = []
    while body:
        length_text, _, rest = body.partition(":")
        length = int(length_text)
        # Take `length` UTF-16 units.
        taken, units = 0, 0
        while units < length:
            units += 2 if ord(rest[taken]) > 0xFFFF else 1
            taken += 1
        assert units == length
        packets.append(rest[:taken])
        body = rest[taken:]
    return packets


def binary_payload(packets):
    """The binary form python-engineio 3 POSTs: kind byte, length digits, 0xFF, packet; lengths in bytes."""
    out = b""
    for packet in packets:
        is_binary = isinstance(packet, bytes)
        data = b"\x04" + packet if is_binary else packet.encode()
        out += (b"\x01" if is_binary else b"\x00") + bytes(int(d) for d in str(len(data))) + b"\xff" + data
    return out


def parse_binary_payload(body):
    packets = []
    while body:
        kind, rest = body[0], body[1:]
        end = rest.index(0xFF)
        length = int("".join(str(d) for d in rest[:end]))
        packet, body = rest[end + 1:end + 1 + length], rest[end + 1 + length:]
        packets.append(packet[1:] if kind == 1 and packet[0] == 4 else packet.decode() if kind == 0 else None)
    return packets


class V3Session:
    """A hand-driven v3 polling session."""

    def __init__(self, port, extra=""):
        self.base = f"http://127.0.0.1:{port}/socket.io/?EIO=3&transport=polling{extra}"
        self.http = requests.Session()
        response = self.http.get(self.base, timeout=10)
        assert response.status_code == 200, response.text
        self.open_response = response
        self.sid = None
        if "j=" not in extra:
            packets = parse_text_payload(response.text)
            assert packets[0][0] == "0"
            self.sid = json.loads(packets[0][1:])["sid"]
        self.url = f"{self.base}&sid={self.sid}" if self.sid else None
        self.received = []

    def post(self, body, **kwargs):
        response = self.http.post(self.url, data=body, timeout=10, **kwargs)
        return response

    def poll(self):
        response = self.http.get(self.url, timeout=10)
        assert response.status_code == 200, response.text
        return response

    def next_packets(self, predicate, what, timeout=10):
        """Polls (text form) until a packet satisfies `predicate`; returns the packets seen so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.poll()
            if response.headers["Content-Type"].startswith("application/octet-stream"):
                self.received += parse_binary_payload(response.content)
            else:
                self.received += parse_text_payload(response.text)
            if any(predicate(p) for p in self.received):
                return self.received
        raise AssertionError(f"no {what} within {timeout}s: {self.received}")


def test_refused_without_allow_eio3(v4_only_server):
    port = v4_only_server.port
    response = requests.get(f"http://127.0.0.1:{port}/socket.io/?EIO=3&transport=polling", timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b'{"code":5,"message":"Unsupported protocol version"}'
    code, output = run_legacy(os.path.join(HERE, "eio3", "legacy_client.py"), str(port), "polling", "echo")
    assert code != 0 and "ConnectionError" in output, output
    # v4 clients are served as before.
    assert requests.get(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=10).text.startswith("0{")


def test_handshake_and_implicit_connect(server):
    session = V3Session(server.port)
    assert session.open_response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    open_packet = parse_text_payload(session.open_response.text)[0]
    handshake = json.loads(open_packet[1:])
    # v3's open packet: no maxPayload, Node's key order.
    assert list(handshake) == ["sid", "upgrades", "pingInterval", "pingTimeout"]
    assert handshake["upgrades"] == ["websocket"] and handshake["pingInterval"] == 25000
    # The server connects the client to "/" without a CONNECT, and the answer carries no sid.
    packets = session.next_packets(lambda p: p.startswith('42["auth"'), "auth event")
    assert packets[0] == "40"
    assert '42["auth",{}]' in packets


def test_client_ping_gets_pong(server):
    session = V3Session(server.port)
    session.next_packets(lambda p: p == "40", "connect")
    assert session.post(text_payload("2")).text == "ok"
    assert "3" in session.next_packets(lambda p: p == "3", "pong")
    assert session.post(text_payload("2probe")).text == "ok"
    assert "3probe" in session.next_packets(lambda p: p == "3probe", "pong probe")


def test_session_ends_without_client_pings(fast_heartbeat_server):
    started = time.monotonic()
    session = V3Session(fast_heartbeat_server.port)
    # No pings: the server closes after pingInterval + pingTimeout (300 + 200 ms); the waiting poll gets "1".
    deadline = time.monotonic() + 10
    closed = False
    while time.monotonic() < deadline and not closed:
        response = session.http.get(session.url, timeout=10)
        closed = response.status_code == 400 or "1" in parse_text_payload(response.text)
    assert closed
    assert time.monotonic() - started >= 0.45


def test_namespace_query_and_string_errors(server):
    session = V3Session(server.port)
    session.next_packets(lambda p: p == "40", "connect")
    assert session.post(text_payload("40/restricted?token=secret,")).text == "ok"
    packets = session.next_packets(lambda p: p.startswith('42/restricted,["welcome"'), "welcome")
    assert "40/restricted," in packets  # no sid for a v2 client
    assert '42/restricted,["auth",{"token":"secret"}]' in packets
    refused = V3Session(server.port)
    refused.next_packets(lambda p: p == "40", "connect")
    refused.post(text_payload("40/restricted,", "40/nowhere,"))
    packets = refused.next_packets(lambda p: p.startswith("44/nowhere"), "refusals")
    assert '44/restricted,{"reason":"bad token"}' in packets
    assert '44/nowhere,"Invalid namespace"' in packets


def test_base64_binary_in_text_payloads(server):
    session = V3Session(server.port, "&b64=1")
    session.next_packets(lambda p: p == "40", "connect")
    placeholder = '451-["message",{"_placeholder":true,"num":0}]'
    assert session.post(text_payload(placeholder, "b4AAEC/w==")).text == "ok"
    packets = session.next_packets(lambda p: p.startswith("b4"), "attachment")
    assert '451-["message-back",{"_placeholder":true,"num":0}]' in packets
    assert packets[-1] == "b4AAEC/w=="


def test_lengths_count_utf16_units(server):
    session = V3Session(server.port, "&b64=1")
    session.next_packets(lambda p: p == "40", "connect")
    text = "héllo 😀 𝄞"
    packet = "42" + json.dumps(["message", text], ensure_ascii=False, separators=(",", ":"))
    assert utf16_length(packet) == len(packet) + 2
    assert session.post(text_payload(packet).encode()).text == "ok"
    response = session.poll()
    expected = "42" + json.dumps(["message-back", text], ensure_ascii=False, separators=(",", ":"))
    # The prefix is the UTF-16 length (JavaScript's), not the code point or byte count.
    assert response.text.endswith(f"{utf16_length(expected)}:{expected}")
    # A code point count is one short per astral character: the payload is refused.
    wrong = V3Session(server.port, "&b64=1")
    assert wrong.post(f"{len(packet)}:{packet}".encode()).status_code == 400


def test_binary_payloads_without_b64(server):
    session = V3Session(server.port)
    session.next_packets(lambda p: p == "40", "connect")
    body = binary_payload(['451-["message",{"_placeholder":true,"num":0},"ü"]', b"\x00\x01\xfe\xff"])
    response = session.post(body, headers={"Content-Type": "application/octet-stream"})
    assert response.text == "ok"
    response = session.poll()
    while response.content.startswith(b"2:42"):  # the auth event may come first
        response = session.poll()
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert parse_binary_payload(response.content) == ['451-["message-back",{"_placeholder":true,"num":0},"ü"]',
                                                      b"\x00\x01\xfe\xff"]
    # ASCII text goes in the text form.
    session.post(binary_payload(['42["message","plain"]']))
    response = session.poll()
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.text == text_payload('42["message-back","plain"]')


def test_jsonp_polling(server):
    session = V3Session(server.port, "&j=7")
    response = session.open_response
    assert response.headers["Content-Type"] == "text/javascript; charset=UTF-8"
    match = re.fullmatch(r'___eio\[7\]\((".*")\);', response.text, re.S)
    assert match, response.text
    payload = json.loads(match.group(1))
    sid = json.loads(parse_text_payload(payload)[0][1:])["sid"]
    url = f"{session.base}&sid={sid}"

    def poll_jsonp(until):
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = session.http.get(url, timeout=10)
            seen += parse_text_payload(json.loads(re.fullmatch(r'___eio\[7\]\((".*")\);', answer.text, re.S).group(1)))
            if any(until(p) for p in seen):
                return seen
        raise AssertionError(seen)

    poll_jsonp(lambda p: p == "40")
    # The JS client escapes what it posts through its form: an escaped newline ("\n" in the JSON) goes as
    # "\\n" (and a raw newline, which JSON text cannot hold, as "\n"); the server undoes both.
    packet = '42["message","a\\nb"]'
    sent = text_payload(packet).replace("\\n", "\\\n").replace("\n", "\\n")
    answer = session.http.post(url, data={"d": sent}, timeout=10)
    assert answer.status_code == 200 and answer.text == "ok"
    packets = poll_jsonp(lambda p: p.startswith('42["message-back"'))
    assert json.loads(packets[-1][2:]) == ["message-back", "a\nb"]


# ---------------------------------------------------------------------------------------------------------------
# python-socketio 4.6 / python-engineio 3.14 over each transport


@pytest.mark.parametrize("scenario", ["echo", "namespaces", "async-echo"])
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_legacy_client(server, transport, scenario):
    code, output = run_legacy(os.path.join(HERE, "eio3", "legacy_client.py"), str(server.port), TRANSPORTS[transport],
                              scenario)
    assert code == 0, output
    assert f"ok {scenario} {TRANSPORTS[transport].split(',')[-1]} engineio 3.14" in output


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_legacy_client_heartbeat(heartbeat_server, transport):
    code, output = run_legacy(os.path.join(HERE, "eio3", "legacy_client.py"), str(heartbeat_server.port),
                              TRANSPORTS[transport], "heartbeat")
    assert code == 0, output


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_v2_and_v4_clients_on_one_server(server, transport):
    received = []
    got = threading.Event()
    modern = socketio.Client(reconnection=False)

    @modern.on("from-v2")
    def from_v2(*args):
        received.append(args)
        got.set()

    modern.connect(f"http://127.0.0.1:{server.port}", transports=["websocket"], wait_timeout=10)
    try:
        code, output = run_legacy(os.path.join(HERE, "eio3", "legacy_client.py"), str(server.port),
                                  TRANSPORTS[transport], "broadcast")
        assert code == 0, output
        assert got.wait(10)
        assert received[0] == ("héllo wörld 😀 ✓", bytes(range(256)) + b"\x00\xff")
        assert modern.call("message-with-ack", "still v4", timeout=10) == "still v4"
    finally:
        modern.disconnect()


# ---------------------------------------------------------------------------------------------------------------
# SpacesApp: a worker written as the original mock_app.py, under python-socketio 4.6


@contextlib.contextmanager
def spaces_process(**env):
    """`spaces` on a free port with a temporary data folder, removed afterwards."""
    data_dir = tempfile.mkdtemp(prefix="spaces-eio3-")
    try:
        process = Spaces(data_dir, extra_env=env).start()
        try:
            yield process
        finally:
            process.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def spaces():
    with spaces_process() as process:
        yield process


class LegacyWorker:
    """legacy_mock_app.py as a process; its output lines are collected on a thread."""

    def __init__(self, url, space_name, transports):
        self.proc = subprocess.Popen([legacy_python(), os.path.join(HERE, "eio3", "legacy_mock_app.py"), url,
                                      space_name, transports], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.strip())
                self.cond.notify_all()

    def wait_line(self, prefix, timeout=20):
        with self.cond:
            if not self.cond.wait_for(lambda: any(line.startswith(prefix) for line in self.lines), timeout):
                raise AssertionError(f"no {prefix!r} within {timeout}s: {self.lines}")
            return next(line for line in self.lines if line.startswith(prefix))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_legacy_mock_app_against_spaces(spaces, transport):
    space_id, name = create_space(spaces)
    worker = LegacyWorker(spaces.url, name, {"polling": "polling", "websocket": "websocket,polling",
                                             "upgrade": "polling,websocket"}[transport])
    try:
        worker.wait_line("Registration successful!")
        user = new_user(spaces)
        prompt = "  hello from v2 😀\n"
        answer = submit(user, spaces, space_id, prompt=prompt)
        assert answer.status_code == 200, answer.text
        request_id = answer.json()["request_id"]
        final = wait_status(user, spaces, request_id)
        assert final["status"] == "completed", final
        assert final["result"]["text_output"] == "echo: " + prompt
        assert final["result"]["model_used"] == "legacy-mock-model"
        done = worker.wait_line(f"done {request_id}")
        if transport != "polling":
            assert done.endswith("over websocket"), done
    finally:
        worker.stop()


def test_spaces_no_eio3_refuses_v3():
    with spaces_process(SPACES_NO_EIO3="1") as process:
        response = requests.get(process.url + "/socket.io/?EIO=3&transport=polling", timeout=10)
        assert response.status_code == 400
        assert response.json() == {"code": 5, "message": "Unsupported protocol version"}
        assert requests.get(process.url + "/socket.io/?EIO=4&transport=polling", timeout=10).text.startswith("0{")
