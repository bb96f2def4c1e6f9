"""deploy/nginx-socketio.conf, run by Debian's nginx in front of two `sio-echo --redis` nodes: a
long-polling python-socketio client through nginx takes part in the cluster (sticky sessions by ip_hash),
and the same config without ip_hash breaks polling sessions, which is why it is there."""
import os
import re
import shutil
import socket
import subprocess
import tempfile

import pytest

from cluster_support import ROOT, Peer, free_port, wait_until

pytestmark = pytest.mark.timeout(90)

CONFIG = os.path.join(ROOT, "deploy", "nginx-socketio.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


class Nginx:
    """nginx with the deploy config, pointed at `ports`, listening on a free port."""

    def __init__(self, ports, sticky=True):
        self.dir = tempfile.mkdtemp(prefix="cluster-nginx-")
        self.port = free_port()
        with open(CONFIG) as f:
            site = f.read()
        servers = "".join(f"    server 127.0.0.1:{port};\n" for port in ports)
        site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, site)
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        if not sticky:
            site = site.replace("    ip_hash;\n", "")
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(MAIN.format(dir=self.dir))
        self.proc = subprocess.Popen([NGINX, "-e", os.path.join(self.dir, "error.log"), "-p", self.dir,
                                      "-c", os.path.join(self.dir, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self.proc.poll() is not None or self._listening(), what="nginx listening")
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()[-800:]}")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Through:
    """Looks like a Node to `Peer`: the URL to connect to is nginx's."""

    def __init__(self, proxy):
        self.url = proxy.url


@pytest.fixture
def two_nodes(fresh_cluster):
    if not os.path.exists(NGINX):
        pytest.fail("no nginx: make redis-server installs it (apt-get install nginx)")
    return fresh_cluster(2)


def test_polling_client_through_nginx_with_sticky_sessions(two_nodes):
    proxy = Nginx([node.port for node in two_nodes.nodes])
    try:
        poller = Peer(Through(proxy), "poller", transports=("polling",))
        # Each node answers whoami-local with its own port: the poller sits on one of them.
        home = poller.call("whoami-local")["port"]
        other = next(node for node in two_nodes.nodes if node.port != home)
        direct = two_nodes.peer(other, "direct")
        assert poller.call("join", "behind-nginx") is True
        for index in range(20):  # many polling round trips, all to the same node
            assert poller.call("whoami-local")["port"] == home
        assert direct.call("to-room", {"room": "behind-nginx", "event": "via-redis", "args": [b"\x07", "x"]}) is True
        assert poller.wait_for("via-redis") == [b"\x07", "x"]
        poller.close()
    finally:
        proxy.stop()


def test_without_ip_hash_polling_sessions_break(two_nodes):
    proxy = Nginx([node.port for node in two_nodes.nodes], sticky=False)
    try:
        # Round robin: the handshake goes to one node, the next request to the other, which does not know
        # the session (400 "Session ID unknown"), so the client cannot even join its namespace.
        with pytest.raises(Exception):  # noqa: B017 - python-socketio raises ConnectionError or a timeout
            Peer(Through(proxy), "unsticky", transports=("polling",), namespaces=["/"]).close()
    finally:
        proxy.stop()
