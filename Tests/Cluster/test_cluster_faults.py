"""Faults of a cluster: Redis restarted mid-run, Redis absent when a node starts, a node SIGKILLed.

What is lost while Redis is down (README "Several nodes"): a broadcast made during the outage reaches the
clients of the node that made it at once; the other nodes get it only if the PUBLISH waited in the client's
bounded queue and they had subscribed again when it went out, which nobody can count on (pub/sub keeps
nothing for a subscriber that is not connected), as with Node's adapter and ioredis' offline queue.
"""
import re
import shutil
import signal
import socket
import time

import pytest

from cluster_support import (REQUESTS_TIMEOUT_MS, WAIT, Node, Peer, Redis, read_resp, wait_for_server_count,
                             wait_until)

pytestmark = pytest.mark.timeout(120)

# Seconds within which nodes must be back after Redis is (reconnection backoff tops out at 5 s).
RECOVERY = 20.0


def test_redis_restart_nodes_resubscribe_and_broadcasts_work_again(fresh_cluster):
    cluster = fresh_cluster(3)
    a, b, c = (cluster.peer(node, name) for node, name in zip(cluster.nodes, "abc"))
    for peer in (a, b, c):
        assert peer.call("join", "restart") is True
    assert a.call("to-room", {"room": "restart", "event": "before", "args": [1]}) is True
    b.wait_for("before")

    cluster.redis.kill()
    # During the outage the node still serves its own clients; the other nodes' clients miss the event.
    assert a.call("to-room", {"room": "restart", "event": "during", "args": [2]}) is True
    assert a.wait_for("during") == [2]
    assert all(node.alive() for node in cluster.nodes)

    cluster.redis.start()
    for peer in (a, b, c):
        wait_for_server_count(peer, 3, timeout=RECOVERY)
    # Subscriptions are back: a broadcast from each node reaches the other nodes' clients.
    for sender, label in ((a, "after-a"), (b, "after-b"), (c, "after-c")):
        assert sender.call("to-room", {"room": "restart", "event": label, "args": [label]}) is True
        for peer in (a, b, c):
            assert peer.wait_for(label) == [label]
    # Requests work again too.
    found = c.call("fetch-sockets", {"room": "restart"})
    assert sorted(s["id"] for s in found) == sorted(p.sid() for p in (a, b, c))
    assert all(node.alive() for node in cluster.nodes)


def test_redis_absent_at_start_node_serves_its_clients_then_joins(tmp_path):
    redis = Redis()  # a port with nothing listening yet
    first = second = None
    try:
        first = Node(redis.url).start()
        wait_until(lambda: re.search(rf"redis .*{redis.port}.*unreachable", first.output()),
                   what="a log line naming the unreachable Redis")
        alone = Peer(first, "alone")
        other = Peer(first, "other")
        assert other.call("join", "meanwhile") is True
        assert alone.call("to-room", {"room": "meanwhile", "event": "local-only", "args": [1]}) is True
        assert other.wait_for("local-only") == [1]
        assert alone.call("whoami-local")["port"] == first.port

        redis.start()
        second = Node(redis.url).start()
        remote = Peer(second, "remote")
        wait_for_server_count(alone, 2, timeout=RECOVERY)
        wait_for_server_count(remote, 2, timeout=RECOVERY)
        assert remote.call("join", "joined-later") is True
        assert alone.call("to-room", {"room": "joined-later", "event": "across", "args": ["hi"]}) is True
        assert remote.wait_for("across") == ["hi"]
        for peer in (alone, other, remote):
            peer.close()
        assert first.alive()
    finally:
        for node in (first, second):
            if node:
                node.stop()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)


def test_sigkilled_node_requests_end_at_the_timeout_with_the_others_answers(fresh_cluster):
    cluster = fresh_cluster(3)
    a, b, c = (cluster.peer(node, name) for node, name in zip(cluster.nodes, "abc"))
    for peer in (a, b, c):
        peer.answers["question"] = f"{peer.name}-says"
        assert peer.call("join", "doomed") is True
    cluster.nodes[2].kill()
    limit = REQUESTS_TIMEOUT_MS / 1000 + 3.0

    started = time.monotonic()
    found = a.call("fetch-sockets", {"room": "doomed"})
    assert time.monotonic() - started < limit
    assert sorted(s["id"] for s in found) == sorted([a.sid(), b.sid()])

    started = time.monotonic()
    answers = a.call("server-side-emit", {"event": "whoami", "args": []})
    assert time.monotonic() - started < limit
    assert answers == [{"node": "swift", "port": cluster.nodes[1].port}]

    started = time.monotonic()
    result = a.call("broadcast-with-ack", {"room": "doomed", "event": "question"})
    assert time.monotonic() - started < limit
    assert sorted(result["responses"]) == ["a-says", "b-says"]
    assert result["err"] in (None, "operation has timed out")
    # The survivors go on.
    wait_for_server_count(a, 2)
    assert a.call("to-room", {"room": "doomed", "event": "still", "args": [1]}) is True
    assert b.wait_for("still") == [1]


def test_frozen_node_requests_end_at_the_requests_timeout_with_the_others_answers(fresh_cluster):
    """A node that is still subscribed but never answers (SIGSTOP): Redis counts it, so requests wait for it
    until their timeout, then answer with what the others sent."""
    cluster = fresh_cluster(3)
    a, b, c = (cluster.peer(node, name) for node, name in zip(cluster.nodes, "abc"))
    for peer in (a, b, c):
        peer.answers["question"] = f"{peer.name}-says"
        assert peer.call("join", "frozen") is True
    frozen = cluster.nodes[2]
    frozen.proc.send_signal(signal.SIGSTOP)
    try:
        timeout = REQUESTS_TIMEOUT_MS / 1000
        started = time.monotonic()
        found = a.call("fetch-sockets", {"room": "frozen"})
        elapsed = time.monotonic() - started
        assert timeout - 0.2 <= elapsed < timeout + 3.0
        assert sorted(s["id"] for s in found) == sorted([a.sid(), b.sid()])

        started = time.monotonic()
        answers = a.call("server-side-emit", {"event": "whoami", "args": []})
        elapsed = time.monotonic() - started
        assert 1.8 <= elapsed < 2.0 + 3.0  # the app's ack timeout, 2,000 ms
        assert answers == [{"node": "swift", "port": cluster.nodes[1].port}]

        started = time.monotonic()
        result = a.call("broadcast-with-ack", {"room": "frozen", "event": "question"})
        elapsed = time.monotonic() - started
        assert 1.8 <= elapsed < 2.0 + 3.0
        assert result["err"] == "operation has timed out"
        assert sorted(result["responses"]) == ["a-says", "b-says"]
    finally:
        frozen.proc.send_signal(signal.SIGCONT)
    # Awake again, it answers as before.
    assert len(a.call("server-side-emit", {"event": "whoami", "args": []})) == 2



class ResponseWatcher:
    """A raw Redis connection pattern-subscribed to every response channel; yields the channel names."""

    def __init__(self, redis):
        self.conn = socket.create_connection(("127.0.0.1", redis.port), timeout=WAIT)
        pattern = b"socket.io-response#*"
        self.conn.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(pattern), pattern))
        self.reader = self.conn.makefile("rb")
        assert read_resp(self.reader)[0] == "psubscribe"

    def next_channel(self):
        kind, _, channel, _ = read_resp(self.reader)
        assert kind == "pmessage"
        return channel

    def close(self):
        self.conn.close()


def test_a_node_told_to_answers_on_the_asking_nodes_specific_channel(redis):
    """--redis-specific-response-channel (Node's publishOnSpecificResponseChannel, a setting of the answering
    node): that node answers a request on `socket.io-response#/#<asker's uid>#`; a node without it answers
    on `socket.io-response#/#`."""
    nodes, peers = [], []
    watcher = None
    try:
        nodes.append(Node(redis.url, "--redis-specific-response-channel").start())
        nodes.append(Node(redis.url).start())
        specific, general = Peer(nodes[0], "specific"), Peer(nodes[1], "general")
        peers += [specific, general]
        wait_for_server_count(specific, 2)
        wait_for_server_count(general, 2)
        watcher = ResponseWatcher(redis)

        assert [s["id"] for s in general.call("fetch-sockets", {"room": specific.sid()})] == [specific.sid()]
        channel = watcher.next_channel()
        assert re.fullmatch(r"socket\.io-response#/#[^#]+#", channel), channel
        # serverSideEmit answers always travel on the shared channel (Node publishes them there directly).
        assert general.call("server-side-emit", {"event": "whoami", "args": []}) == [
            {"node": "swift", "port": nodes[0].port}]
        assert watcher.next_channel() == "socket.io-response#/#"
        assert general.call("all-rooms") and watcher.next_channel() == channel

        assert [s["id"] for s in specific.call("fetch-sockets", {"room": general.sid()})] == [general.sid()]
        assert watcher.next_channel() == "socket.io-response#/#"
    finally:
        if watcher:
            watcher.close()
        for peer in peers:
            peer.close()
        for node in nodes:
            node.stop()
