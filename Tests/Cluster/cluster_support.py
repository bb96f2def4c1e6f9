"""Processes and clients of the cluster tests: a real redis-server, `sio-echo --redis` nodes, and
python-socketio clients that record what they receive. Every wait is bounded."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import socketio

from process_lifetime import die_with_parent

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("CLUSTER_BIN_DIR", os.path.join(ROOT, ".build", "release"))
SIO_ECHO = os.path.join(BIN_DIR, "sio-echo")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")

# Seconds any single condition may take; generous for a loaded 2-core machine.
WAIT = 15.0
# The adapter's requests timeout the tests run the nodes with (cluster-app.md).
REQUESTS_TIMEOUT_MS = 3000
NAMESPACES = ["/", "/admin"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout=WAIT, interval=0.02, what="condition"):
    """Polls `condition` until it returns a truthy value (returned), or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Redis:
    """redis-server on a free port with no persistence, in a temporary folder; can be killed and started
    again on the same port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="cluster-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        wait_until(lambda: self.proc.poll() is not None or self._answers_ping(), what=f"redis on {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode} (port {self.port} taken?)")
        return self

    def _answers_ping(self):
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def command(self, *args, timeout=5.0):
        """Sends one command and returns its decoded reply (a small RESP2 reader, enough for the tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as conn:
            payload = f"*{len(args)}\r\n".encode()
            for arg in args:
                data = arg if isinstance(arg, bytes) else str(arg).encode()
                payload += b"$%d\r\n%s\r\n" % (len(data), data)
            conn.sendall(payload)
            reader = conn.makefile("rb")
            return read_resp(reader)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_ticks(self):
        return process_cpu_ticks(self.proc.pid)


def read_resp(reader):
    line = reader.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [read_resp(reader) for _ in range(size)]
    raise RuntimeError(f"unexpected reply {line!r}")


def process_cpu_ticks(pid):
    """utime + stime of `pid` in clock ticks (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Node:
    """One `sio-echo` process (with --redis when a URL is given); its output is kept for the log checks."""

    def __init__(self, redis_url=None, *extra, loops=1):
        if not os.path.exists(SIO_ECHO):
            raise RuntimeError(f"{SIO_ECHO} is missing: make release (or set CLUSTER_BIN_DIR)")
        self.args = [SIO_ECHO, "--port", "0", "--loops", str(loops), "--ping-interval", "1000",
                     "--ping-timeout", "5000", "--connect-timeout", "10000"]
        if redis_url:
            self.args += ["--redis", redis_url, "--redis-requests-timeout", str(REQUESTS_TIMEOUT_MS)]
        else:
            self.args += ["--app", "cluster"]
        self.args += list(extra)
        self.proc = None
        self.port = None
        self.lines = []
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=WAIT):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     errors="replace", preexec_fn=die_with_parent)
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                with self.lock:
                    self.lines.append(line.rstrip("\n"))
                match = re.search(r"listening on port (\d+)", line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or self.port is None:
            self.kill()
            raise RuntimeError(f"sio-echo did not start: {self.output()}")
        return self

    def output(self):
        with self.lock:
            return "\n".join(self.lines)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        """SIGTERM; returns the exit code (killed after 10 s)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


class Peer:
    """A python-socketio client (sync) on one node, on both namespaces, that records every event."""

    def __init__(self, node, name, transports=("websocket",), namespaces=NAMESPACES):
        self.node = node
        self.name = name
        self.client = socketio.Client(reconnection=False)
        self.events = []  # (namespace, event, args)
        self.condition = threading.Condition()
        self.answers = {}  # event -> value answered to server acks
        for namespace in namespaces:
            self.client.on("*", self._recorder(namespace), namespace=namespace)
        self.client.connect(node.url, namespaces=list(namespaces), transports=list(transports),
                            auth={"name": name}, wait_timeout=WAIT)

    def _recorder(self, namespace):
        def record(event, *args):
            with self.condition:
                self.events.append((namespace, event, list(args)))
                self.condition.notify_all()
            return self.answers.get(event, f"{self.name}-answer")
        return record

    def sid(self, namespace="/"):
        return self.client.get_sid(namespace)

    def call(self, event, data=None, namespace="/", timeout=WAIT):
        if data is None:
            return self.client.call(event, namespace=namespace, timeout=timeout)
        return self.client.call(event, data, namespace=namespace, timeout=timeout)

    def received(self, event, namespace="/"):
        with self.condition:
            return [args for ns, name, args in self.events if ns == namespace and name == event]

    def wait_for(self, event, namespace="/", predicate=lambda args: True, timeout=WAIT):
        """The arguments of the first `event` on `namespace` matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for ns, name, args in self.events:
                    if ns == namespace and name == event and predicate(args):
                        return args
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name} did not receive {event!r} on {namespace} within {timeout}s;"
                                         f" got {[(n, e) for n, e, _ in self.events][-10:]}")
                self.condition.wait(left)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


def wait_for_server_count(peer, count, namespace="/", timeout=WAIT):
    """Waits until `peer`'s node sees `count` servers in the cluster (a count that does not come while Redis
    is away is asked again)."""
    def counted():
        try:
            return peer.call("server-count", namespace=namespace, timeout=5) == count
        except socketio.exceptions.TimeoutError:
            return False
    return wait_until(counted, timeout=timeout, interval=0.1, what=f"server-count {count} on {peer.node.url}")
