"""TLS on our own server (`--tls-cert`/`--tls-key`): real clients verify the certificate against a CA made
at test time with the openssl command line.

- python-socketio (requests + websocket-client, `http_session.verify` = the CA) against `sio-echo` over
  polling, websocket and upgrade, binary included; python-engineio against `eio-echo`; requests against
  `spaces` (its session cookie is `Secure` over https);
- a client that does not trust the CA is refused, TLS below 1.2 is refused;
- handshakes that stall (connect, send nothing) or send garbage cost their own connection only: other clients
  are served meanwhile, the garbage one is closed at once, the stalled ones by the handshake timeout;
- SIGHUP reloads the certificate: new connections get the new one, a connection made before keeps working.

Binaries from BIN_DIR (run_interop.py sets it), else .build/release or .build/debug.
"""
import asyncio
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import aiohttp
import engineio
import pytest
import requests
import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess, built_binary as binary  # noqa: E402
from spaces_e2e_test import ADMIN_PASSWORD, Spaces  # noqa: E402

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = [
    pytest.param(["polling"], id="polling"),
    pytest.param(["websocket"], id="websocket"),
    pytest.param(["polling", "websocket"], id="upgrade"),
]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class Certificates:
    """A throwaway CA and server certificates it signs for 127.0.0.1 and localhost."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.crt")
        self.cert = os.path.join(directory, "server.crt")
        self.key = os.path.join(directory, "server.key")
        with open(os.path.join(directory, "server.ext"), "w") as ext:
            ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", os.path.join(directory, "ca.key"), "-out", self.ca, "-days", "2", "-subj", "/CN=Interop Test CA")
        self.issue("first", self.cert, self.key)

    def issue(self, common_name, cert, key):
        """Signs a new certificate with subject CN=`common_name` into `cert`/`key`."""
        csr = os.path.join(self.dir, common_name + ".csr")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + common_name)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", os.path.join(self.dir, "ca.key"),
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", os.path.join(self.dir, "server.ext"))


@pytest.fixture(scope="module")
def certs():
    directory = tempfile.mkdtemp(prefix="tls-test-")
    yield Certificates(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sio_echo(certs):
    with ServerProcess(binary("sio-echo"), "--host", "127.0.0.1", "--loops", "2", "--tls-cert", certs.cert,
                       "--tls-key", certs.key, "--ping-interval", "25000", "--ping-timeout", "20000") as server:
        yield server


def read_until_closed(conn):
    """What `conn` receives until the server closes it (a reset counts as closed)."""
    data = b""
    try:
        while chunk := conn.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def verifying_session(certs):
    session = requests.Session()
    session.verify = certs.ca
    # Otherwise REQUESTS_CA_BUNDLE, when set, replaces `verify` on every request.
    session.trust_env = False
    return session


def peer_common_name(port, certs):
    """Opens a verified TLS connection and returns the CN of the certificate the server presented."""
    context = ssl.create_default_context(cafile=certs.ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return subject["commonName"]


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_python_socketio_verifies_the_certificate(sio_echo, certs, transports):
    # The asyncio client: python-engineio's threaded client reads and writes one SSL object from two threads,
    # and over TLS 1.3 about one connection in twenty then takes its WebSocket for closed, whatever the
    # server (its single-threaded use and the asyncio client never do; see docs/compatibility.md).
    asyncio.run(asyncio.wait_for(exchange_over_tls(sio_echo.port, certs, transports), 60))


async def exchange_over_tls(port, certs, transports):
    """Connects with python-socketio's asyncio client verifying our CA, and checks text, binary and a
    100 KB message."""
    context = ssl.create_default_context(cafile=certs.ca)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), trust_env=False) as http:
        client = socketio.AsyncClient(reconnection=False, http_session=http)
        got = asyncio.Queue()
        client.on("message-back", lambda *args: got.put_nowait(args))
        await client.connect(f"https://localhost:{port}", transports=transports, wait_timeout=10)
        try:
            assert await client.call("handshake", timeout=10) == {"address": "127.0.0.1", "secure": True}
            await client.emit("message", ("text", b"\x00\x01binary\xff", {"n": 1}))
            assert await asyncio.wait_for(got.get(), 10) == ("text", b"\x00\x01binary\xff", {"n": 1})
            assert await client.call("size", "x" * 100_000, timeout=10) == 100_000
        finally:
            await client.disconnect()


def test_client_that_does_not_trust_the_ca_is_refused(sio_echo):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://localhost:{sio_echo.port}/socket.io/?EIO=4&transport=polling", timeout=10,
                     verify=True)


def test_tls_below_1_2_is_refused(sio_echo, certs):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(certs.ca)
    try:
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", sio_echo.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            context.wrap_socket(raw, server_hostname="localhost")


def test_plain_http_on_the_tls_port_gets_no_answer(sio_echo):
    with socket.create_connection(("127.0.0.1", sio_echo.port), timeout=10) as raw:
        raw.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_closed(raw)
        assert b"HTTP/1.1" not in data and b'"sid"' not in data


def test_stalled_and_garbage_handshakes_cost_only_their_connection(sio_echo, certs):
    # Enough silent connections to cover every loop several times over.
    stalled = [socket.create_connection(("127.0.0.1", sio_echo.port), timeout=20) for _ in range(16)]
    garbage = socket.create_connection(("127.0.0.1", sio_echo.port), timeout=10)
    garbage.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(512))
    try:
        # A real client is served while they wait.
        client = socketio.Client(reconnection=False, http_session=verifying_session(certs))
        client.connect(f"https://localhost:{sio_echo.port}", transports=["websocket"], wait_timeout=10)
        assert client.call("handshake", timeout=10)["secure"] is True
        client.disconnect()
        # The garbage handshake was closed at once (an alert, then EOF, or a reset).
        assert len(read_until_closed(garbage)) < 64
        # The stalled ones are closed by the handshake timeout (10 s), not kept forever.
        deadline = time.monotonic() + 20
        for conn in stalled:
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                assert conn.recv(1) == b""
            except ConnectionResetError:
                pass
    finally:
        garbage.close()
        for conn in stalled:
            conn.close()


def test_sighup_serves_the_new_certificate_to_new_connections(certs):
    directory = tempfile.mkdtemp(prefix="tls-reload-")
    cert = os.path.join(directory, "live.crt")
    key = os.path.join(directory, "live.key")
    shutil.copy(certs.cert, cert)
    shutil.copy(certs.key, key)
    try:
        with ServerProcess(binary("sio-echo"), "--host", "127.0.0.1", "--tls-cert", cert, "--tls-key", key) as server:
            assert peer_common_name(server.port, certs) == "first"
            # A keep-alive connection made before the reload.
            before = verifying_session(certs)
            url = f"https://localhost:{server.port}/socket.io/?EIO=4&transport=polling"
            assert before.get(url, timeout=10).status_code == 200
            certs.issue("second", cert, key)
            server.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while peer_common_name(server.port, certs) != "second":
                assert time.monotonic() < deadline, "SIGHUP did not reload the certificate"
                time.sleep(0.05)
            assert before.get(url, timeout=10).status_code == 200, "an existing connection keeps working"
            assert server.proc.poll() is None
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_python_engineio_against_eio_echo(certs):
    with ServerProcess(binary("eio-echo"), "--host", "127.0.0.1", "--tls-cert", certs.cert, "--tls-key", certs.key,
                       "--ping-interval", "25000", "--ping-timeout", "20000") as server:
        for transports in (["polling"], ["websocket"]):
            client = engineio.Client(http_session=verifying_session(certs))
            got = queue.Queue()
            client.on("message", got.put)
            client.connect(f"https://localhost:{server.port}", transports=transports, engineio_path="/engine.io/")
            try:
                client.send("hello")
                client.send(b"\x00\xffbytes")
                assert got.get(timeout=10) == "hello"
                assert got.get(timeout=10) == b"\x00\xffbytes"
            finally:
                client.disconnect()


def test_spaces_over_https_sets_a_secure_session_cookie(certs):
    data_dir = tempfile.mkdtemp(prefix="spaces-tls-")
    server = Spaces(data_dir, extra_env={"SPACES_TLS_CERT": certs.cert, "SPACES_TLS_KEY": certs.key}).start()
    try:
        response = verifying_session(certs).post(f"https://localhost:{server.port}/login", allow_redirects=False,
                                 data={"username": "admin", "password": ADMIN_PASSWORD})
        assert response.status_code == 302, response.text
        assert "Secure" in response.headers["Set-Cookie"]
        assert any("https://" in line for line in server.stdout_lines), "the login URL printed is https"
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
