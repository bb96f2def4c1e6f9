"""The cluster test app on one node without Redis (`sio-echo --app cluster`): the answers' shapes of
shared/cluster-app.md, the single-server results of the cluster operations, and the older argument forms
of `join`/`broadcast`/`to-room` that the benchmark and interop clients still send."""
import pytest

from cluster_support import NAMESPACES, Node, Peer, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def node():
    server = Node(None).start()
    yield server
    server.stop()


@pytest.fixture
def pair(node):
    first, second = Peer(node, "first"), Peer(node, "second")
    yield first, second
    first.close()
    second.close()


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_single_node_answers(pair, node, namespace):
    first, second = pair
    assert first.call("server-count", namespace=namespace) == 1
    assert first.call("whoami-local", namespace=namespace) == {"node": "swift", "port": node.port,
                                                               "sid": first.sid(namespace)}
    assert first.call("join", "room-1", namespace) is True
    assert second.call("join", "room-1", namespace) is True
    found = second.call("fetch-sockets", {"room": "room-1"}, namespace)
    assert sorted(found, key=lambda s: s["id"]) == sorted([
        {"id": peer.sid(namespace), "rooms": sorted([peer.sid(namespace), "room-1"]), "data": {"name": peer.name},
         "auth": {"name": peer.name}, "handshake": {"auth": {"name": peer.name}}} for peer in pair],
        key=lambda s: s["id"])
    assert {"room-1", first.sid(namespace)} <= set(first.call("all-rooms", namespace=namespace))
    # No other servers: nothing to gather, answered at once.
    assert first.call("server-side-emit", {"event": "whoami", "args": []}, namespace) == []
    assert first.call("server-side-emit", {"event": "notify", "args": [1], "noAck": True}, namespace) is True
    assert first.call("server-side-received", namespace=namespace) == []
    second.answers["question"] = "second-says"
    result = first.call("broadcast-with-ack", {"room": "room-1", "event": "question"}, namespace)
    assert result["err"] is None and sorted(result["responses"]) == ["first-answer", "second-says"]
    assert first.call("leave", "room-1", namespace) is True
    assert first.call("to-room-except", {"room": "room-1", "except": "none", "event": "e", "args": [b"\x01"]},
                      namespace) is True
    assert second.wait_for("e", namespace) == [b"\x01"]


def test_older_forms_of_join_broadcast_and_to_room_still_work(pair):
    first, second = pair
    assert second.call("join", "bench") is True
    first.client.emit("broadcast", ("bench", {"n": 1}, "two"))
    assert second.wait_for("broadcast") == [{"n": 1}, "two"]
    assert first.call("to-room", ("bench", "positional", 5)) is None
    assert second.wait_for("positional") == [5]


def test_disconnect_sockets_answers_before_disconnecting_the_caller(pair):
    first, _ = pair
    assert first.call("join", "self-kick", "/admin") is True
    assert first.call("disconnect-sockets", {"room": "self-kick"}, "/admin") is True
    wait_until(lambda: "/admin" not in first.client.namespaces, what="/admin left")
    assert first.client.connected


def test_malformed_requests_get_an_error_answer(pair):
    first, _ = pair
    for event, data in [("to-room", {"event": 1}), ("broadcast", {"args": []}), ("join", 5),
                        ("binary-to-room", {}), ("server-side-emit", {}), ("sockets-leave", {"room": "x"})]:
        answer = first.call(event, data, "/admin")
        assert isinstance(answer, dict) and answer["error"].startswith(event), (event, answer)
