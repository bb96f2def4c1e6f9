"""Fixtures of the cluster tests: a redis-server on a free port, sio-echo nodes joined through it, and
python-socketio clients on those nodes; all stopped after use.

    .venv/bin/python -m pytest -q Tests/Cluster        (CLUSTER_BIN_DIR: where sio-echo is; .build/release)
"""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_support import Node, Peer, Redis, wait_for_server_count  # noqa: E402


class Cluster:
    """A Redis and its nodes; clients made through `peer` are closed with the cluster."""

    def __init__(self, redis):
        self.redis = redis
        self.nodes = []
        self.peers = []

    def add_node(self, *extra):
        node = Node(self.redis.url, *extra).start()
        self.nodes.append(node)
        return node

    def peer(self, node, name, **options):
        peer = Peer(node, name, **options)
        self.peers.append(peer)
        return peer

    def close(self):
        for peer in self.peers:
            peer.close()
        for node in self.nodes:
            node.stop()
        self.redis.stop()
        shutil.rmtree(self.redis.dir, ignore_errors=True)


def start_cluster(node_count):
    cluster = Cluster(Redis().start())
    try:
        for _ in range(node_count):
            cluster.add_node()
        # Joined once every node counts all of them (PUBSUB NUMSUB on the request channel).
        for index, node in enumerate(cluster.nodes):
            probe = cluster.peer(node, f"probe{index}", namespaces=["/"])
            wait_for_server_count(probe, node_count)
            probe.close()
            cluster.peers.remove(probe)
    except BaseException:
        cluster.close()
        raise
    return cluster


@pytest.fixture(scope="module")
def cluster3():
    """Three nodes on one Redis, shared by the tests of a module (each test uses rooms of its own)."""
    cluster = start_cluster(3)
    yield cluster
    cluster.close()


@pytest.fixture
def fresh_cluster():
    """A factory of clusters owned by one test (for the fault tests, which break them)."""
    made = []

    def make(node_count):
        cluster = start_cluster(node_count)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


@pytest.fixture
def redis():
    """A Redis of its own, for tests that start nodes by hand."""
    server = Redis().start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)
