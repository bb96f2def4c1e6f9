"""deploy/nginx-socketio.conf, run by Debian's nginx in front of two `sio-echo --redis` nodes: a
long-polling python-socketio client through nginx takes part in the cluster (sticky sessions by ip_hash),
and the same config without ip_hash breaks polling sessions, which is why it is there."""
import os

import pytest

from cluster_support import ROOT, Peer
from nginx_support import NGINX, Nginx as DeployedNginx

pytestmark = pytest.mark.timeout(90)

CONFIG = os.path.join(ROOT, "deploy", "nginx-socketio.conf")


def Nginx(ports, sticky=True):  # noqa: N802 - stands for the class it configures
    return DeployedNginx(CONFIG, ports, drop=() if sticky else ("    ip_hash;\n",))


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
