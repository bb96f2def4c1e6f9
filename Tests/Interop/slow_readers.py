"""Clients that stop reading (issue 18): N WebSocket clients join room `bench` and stop reading, one client
floods the room with 10 KB broadcasts, another does echo round-trips. Reports the server's peak RSS
(VmHWM), the echo latencies during the flood, how many of the non-readers the server cut off, and
whether it still serves a new client afterwards.

The clients speak raw WebSocket over plain sockets (no client library) so that a non-reader really
reads nothing: its receive buffer is small (SO_RCVBUF) and nobody drains it. The flooder runs in its
own process, so it does not share an interpreter lock with the echo client whose latency is measured.

By hand, against a server it starts (production heartbeats):
    python Tests/Interop/slow_readers.py --bin .build/release/sio-echo --clients 200 --seconds 15
or against one already running:  --port P --pid PID.
"""
import argparse
import base64
import json
import multiprocessing
import os
import resource
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess  # noqa: E402

PATH = "/socket.io/?EIO=4&transport=websocket"
# Production heartbeats: a non-reader must be cut off by the back-pressure limits, not by a ping timeout.
SERVER_ARGS = ["--loops", "2", "--ping-interval", "25000", "--ping-timeout", "20000", "--connect-timeout", "10000"]


def raise_fd_limit(wanted):
    """Lifts the soft descriptor limit towards `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def text_frame(payload: bytes) -> bytes:
    """A masked client text frame (mask key 0: the server unmasks, the bytes stay as they are)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


class Client:
    """One Socket.IO client on the main namespace over a raw WebSocket."""

    def __init__(self, port, rcvbuf=None, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = bytearray()
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"upgrade refused: {head[:80]!r}")
        self.buffer = bytearray(rest)
        if not self.next_text().startswith("0{"):
            raise RuntimeError("no Engine.IO open packet")
        self.send("40")
        self.wait_for(lambda t: t.startswith("40"))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def next_text(self) -> str:
        """The next text message (answers pings on the way)."""
        while True:
            while len(self.buffer) < 2:
                self._fill()
            opcode, length, offset = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                while len(self.buffer) < 4:
                    self._fill()
                length, offset = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif length == 127:
                while len(self.buffer) < 10:
                    self._fill()
                length, offset = struct.unpack("!Q", self.buffer[2:10])[0], 10
            while len(self.buffer) < offset + length:
                self._fill()
            payload = bytes(self.buffer[offset:offset + length])
            del self.buffer[:offset + length]
            if opcode == 0x8:
                raise ConnectionError("server sent a close frame")
            if opcode != 0x1:
                continue
            text = payload.decode()
            if text == "2":
                self.send("3")
                continue
            return text

    def wait_for(self, predicate):
        while True:
            text = self.next_text()
            if predicate(text):
                return text

    def send(self, text: str):
        self.sock.sendall(text_frame(text.encode()))

    def join(self, room):
        self.send(f'421["join","{room}"]')
        self.wait_for(lambda t: t.startswith("431"))

    def close(self):
        self.sock.close()


def flood(port, seconds, size, counter, room="bench"):
    """Sends `broadcast` to `room` with a `size`-byte string as fast as the server takes it."""
    # The load generator yields to the server and the measuring client when the machine is short of CPU.
    os.nice(10)
    client = Client(port)
    frame = text_frame(('42["broadcast","' + room + '","' + "x" * size + '"]').encode())
    batch = frame * 8
    client.sock.settimeout(None)
    sent = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            client.sock.sendall(batch)
            sent += 8
    except OSError:
        pass
    counter.value = sent
    client.close()


def still_open(sockets, timeout):
    """Drains every socket until the server closes it or `timeout` passes; returns the ones left open."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    remaining = set(sockets)
    deadline = time.monotonic() + timeout
    while remaining and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            try:
                while True:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                selector.unregister(sock)
                remaining.discard(sock)
    selector.close()
    return remaining


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


class Phase:
    """Names the step that failed in the exception it lets through."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if error is not None and not isinstance(error, AssertionError):
            raise RuntimeError(f"slow_readers: {self.name} failed: {error!r}") from error
        return False


def run(port, pid, clients=500, seconds=10.0, size=10_000, rcvbuf=16384, close_wait=20.0):
    """Runs the scenario against a server; returns the figures as a dict."""
    raise_fd_limit(clients + 256)
    with Phase("connecting the non-readers"):
        silent = connect_silent(port, clients, rcvbuf)
    with Phase("the echo before and during the flood"):
        echo, baseline, samples, sent, rss_before = measure(port, pid, seconds, size)
    with Phase("waiting for the non-readers to be cut off"):
        open_left = still_open([c.sock for c in silent], close_wait)
    with Phase("echoes after the flood"):
        # The server still answers: the echo client and a brand-new one.
        echo.send('42["echo","after"]')
        echo.wait_for(lambda t: t.startswith('42["echo"'))
        fresh = Client(port)
        fresh.send('42["echo","fresh"]')
        fresh.wait_for(lambda t: t.startswith('42["echo"'))
        fresh.close()
    echo.close()
    for client in silent:
        client.close()
    return {
        "clients": clients, "seconds": seconds, "broadcasts_sent": sent,
        "peak_rss_mb": round(peak_rss_mb(pid), 1), "rss_before_flood_mb": round(rss_before, 1),
        "control_p99_ms": round(percentile(baseline, 0.99), 3), "echo_samples": len(samples),
        "echo_p50_ms": round(percentile(samples, 0.50), 3),
        "echo_p99_ms": round(percentile(samples, 0.99), 3), "echo_max_ms": round(max(samples, default=0), 3),
        "non_readers_disconnected": clients - len(open_left),
    }


def connect_silent(port, clients, rcvbuf):
    """`clients` clients in room `bench` with a small receive buffer, which will never be read again."""
    silent = []
    for _ in range(clients):
        client = Client(port, rcvbuf=rcvbuf)
        client.join("bench")
        silent.append(client)
    return silent


def echo_during(echo, port, seconds, size, room):
    """Echo round-trip times (ms) while a flooder sends `seconds` of broadcasts to `room`; and how many."""
    sent = multiprocessing.Value("q", 0)
    flooder = multiprocessing.Process(target=flood, args=(port, seconds, size, sent, room), daemon=True)
    flooder.start()
    samples = []
    started = time.monotonic()
    while flooder.is_alive() and time.monotonic() - started < seconds + 30:
        begin = time.perf_counter()
        echo.send('42["echo","ping"]')
        echo.wait_for(lambda t: t.startswith('42["echo"'))
        samples.append((time.perf_counter() - begin) * 1000)
        if os.environ.get("SLOW_READERS_TRACE") and samples[-1] > 20:
            print(f"slow echo {samples[-1]:.1f} ms at {time.monotonic() - started:.2f} s", file=sys.stderr)
    flooder.join(timeout=30)
    return samples, sent.value


def measure(port, pid, seconds, size):
    """Echo round-trips during a two-second control flood to an empty room (what the flood's CPU alone
    costs the measurement on this machine), then during the flood of `seconds` to the non-readers' room."""
    echo = Client(port)
    control, _ = echo_during(echo, port, 2.0, size, "nobody")
    rss_before = peak_rss_mb(pid)
    samples, sent = echo_during(echo, port, seconds, size, "bench")
    return echo, control, samples, sent, rss_before


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", help="sio-echo executable to start (production heartbeats)")
    parser.add_argument("--port", type=int, help="port of a running server")
    parser.add_argument("--pid", type=int, help="its process id (for VmHWM)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--size", type=int, default=10_000, help="bytes of each broadcast's string")
    parser.add_argument("--server-arg", action="append", default=[], help="extra argument for the started server")
    args = parser.parse_args()
    raise_fd_limit(args.clients + 256)
    if args.bin:
        with ServerProcess(args.bin, *SERVER_ARGS, *args.server_arg) as server:
            result = run(server.port, server.proc.pid, args.clients, args.seconds, args.size)
    elif args.port and args.pid:
        result = run(args.port, args.pid, args.clients, args.seconds, args.size)
    else:
        parser.error("give --bin, or --port and --pid")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
