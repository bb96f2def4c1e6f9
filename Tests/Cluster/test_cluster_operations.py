"""Every operation of the cluster test app (shared/cluster-app.md) across three `sio-echo --redis` nodes
on one real Redis, with python-socketio clients spread over the nodes, on `/` and `/admin`.

Node A is where each operation is asked; clients sit on A, B and C. A room name is unique to its test, so
the tests share one cluster without seeing each other's traffic.
"""
import asyncio
import itertools

import pytest
import socketio

from cluster_support import NAMESPACES, WAIT, wait_until

pytestmark = pytest.mark.timeout(90)

_counter = itertools.count()


def room(label):
    return f"{label}-{next(_counter)}"


@pytest.fixture(scope="module")
def peers(cluster3):
    """a on node A, b on B, c on C, each on both namespaces."""
    a, b, c = (cluster3.peer(node, name) for node, name in zip(cluster3.nodes, "abc"))
    return a, b, c


def marker_after(sender, receivers, namespace):
    """Broadcasts a marker from `sender`'s node and waits until every receiver got it: what that node
    published before has reached them by then (one channel, delivered in order)."""
    token = room("marker")
    assert sender.call("broadcast", {"event": "marker", "args": [token]}, namespace) is True
    for peer in receivers:
        peer.wait_for("marker", namespace, lambda args: args == [token])


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_server_count_is_three_on_every_node(peers, namespace):
    for peer in peers:
        assert peer.call("server-count", namespace=namespace) == 3


def test_whoami_local_names_the_node_and_the_socket(peers):
    for peer in peers:
        for namespace in NAMESPACES:
            answer = peer.call("whoami-local", namespace=namespace)
            assert answer == {"node": "swift", "port": peer.node.port, "sid": peer.sid(namespace)}


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_to_room_reaches_members_on_other_nodes_only(peers, namespace):
    a, b, c = peers
    target = room("to-room")
    assert b.call("join", target, namespace) is True
    assert a.call("to-room", {"room": target, "event": "hello", "args": ["x", 1, {"k": [True, None]}]},
                  namespace) is True
    assert b.wait_for("hello", namespace) == ["x", 1, {"k": [True, None]}]
    # c is not in the room: once a later broadcast to everyone reached it, the first cannot be pending.
    marker_after(a, [c], namespace)
    assert c.received("hello", namespace) == []


def test_room_member_of_another_namespace_gets_nothing(peers):
    a, b, c = peers
    target = room("ns-isolation")
    assert b.call("join", target, "/admin") is True
    assert a.call("to-room", {"room": target, "event": "iso", "args": [1]}, "/") is True
    assert a.call("to-room", {"room": target, "event": "iso", "args": [2]}, "/admin") is True
    assert b.wait_for("iso", "/admin") == [2]
    assert b.received("iso", "/") == []


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_to_rooms_array_delivers_once_to_a_member_of_both(peers, namespace):
    a, b, c = peers
    first, second = room("r1"), room("r2")
    assert b.call("join", first, namespace) is True
    assert b.call("join", second, namespace) is True
    assert c.call("join", second, namespace) is True
    assert a.call("to-room", {"room": [first, second], "event": "multi", "args": [first]}, namespace) is True
    assert c.wait_for("multi", namespace, lambda args: args == [first]) == [first]
    assert b.wait_for("multi", namespace, lambda args: args == [first]) == [first]
    marker_after(a, [b, c], namespace)
    assert [args for args in b.received("multi", namespace) if args == [first]] == [[first]]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_to_room_except_leaves_out_the_excepted_room_on_every_node(peers, namespace):
    a, b, c = peers
    target, excepted = room("target"), room("except")
    for peer in (a, b, c):
        assert peer.call("join", target, namespace) is True
    assert c.call("join", excepted, namespace) is True
    request = {"room": target, "except": excepted, "event": "exc", "args": [target]}
    assert a.call("to-room-except", request, namespace) is True
    assert a.wait_for("exc", namespace, lambda args: args == [target])
    assert b.wait_for("exc", namespace, lambda args: args == [target])
    marker_after(a, [c], namespace)
    assert [args for args in c.received("exc", namespace) if args == [target]] == []


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_broadcast_reaches_every_socket_of_the_namespace(peers, namespace):
    a, b, c = peers
    token = room("bcast")
    assert c.call("broadcast", {"event": "all", "args": [token]}, namespace) is True
    for peer in peers:
        assert peer.wait_for("all", namespace, lambda args: args == [token]) == [token]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_binary_to_room_arrives_as_bytes_on_another_node(peers, namespace):
    a, b, c = peers
    target = room("bin")
    assert c.call("join", target, namespace) is True
    assert a.call("binary-to-room", {"room": target}, namespace) is True
    assert c.wait_for("bin", namespace) == [bytes([1, 2, 3, 255]), {"nested": b"hi"}]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_client_binary_arguments_cross_nodes(peers, namespace):
    a, b, c = peers
    target = room("bin-args")
    assert b.call("join", target, namespace) is True
    payload = [b"\x00\xff" * 100, {"deep": [b"x", "text"]}]
    assert a.call("to-room", {"room": target, "event": "blob", "args": payload}, namespace) is True
    assert b.wait_for("blob", namespace) == payload


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_fetch_sockets_sees_every_node_with_rooms_and_data(peers, namespace):
    a, b, c = peers
    target = room("fetch")
    for peer in (b, c):
        assert peer.call("join", target, namespace) is True
    found = a.call("fetch-sockets", {"room": target}, namespace)
    assert sorted(s["id"] for s in found) == sorted([b.sid(namespace), c.sid(namespace)])
    for entry, peer in ((s, p) for s in found for p in (b, c) if s["id"] == p.sid(namespace)):
        assert target in entry["rooms"] and entry["id"] in entry["rooms"]
        assert entry["data"] == {"name": peer.name}
        assert entry["auth"] == {"name": peer.name}
        assert entry["handshake"] == {"auth": {"name": peer.name}}
    everyone = a.call("fetch-sockets", None, namespace)
    assert {a.sid(namespace), b.sid(namespace), c.sid(namespace)} <= {s["id"] for s in everyone}


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_sockets_join_and_leave_act_on_remote_sockets(peers, namespace):
    a, b, c = peers
    source, joined = room("src"), room("joined")
    assert c.call("join", source, namespace) is True
    assert a.call("sockets-join", {"room": source, "target": joined}, namespace) is True
    wait_until(lambda: [s["id"] for s in a.call("fetch-sockets", {"room": joined}, namespace)] == [c.sid(namespace)],
               what="c in the joined room")
    assert a.call("to-room", {"room": joined, "event": "via-join", "args": [joined]}, namespace) is True
    assert c.wait_for("via-join", namespace) == [joined]
    assert a.call("sockets-leave", {"room": source, "target": joined}, namespace) is True
    wait_until(lambda: a.call("fetch-sockets", {"room": joined}, namespace) == [], what="room emptied")


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_disconnect_sockets_disconnects_a_remote_member(cluster3, namespace):
    target = room("kick")
    victim = cluster3.peer(cluster3.nodes[2], "victim")
    other = cluster3.peer(cluster3.nodes[1], "other")
    asker = cluster3.peer(cluster3.nodes[0], "asker")
    assert victim.call("join", target, namespace) is True
    assert asker.call("disconnect-sockets", {"room": target}, namespace) is True
    wait_until(lambda: namespace not in (victim.client.namespaces or {}), what="the victim's namespace left")
    assert other.call("whoami-local", namespace=namespace)["sid"] == other.sid(namespace)
    for peer in (victim, other, asker):
        peer.close()


def test_disconnect_sockets_with_close_ends_the_remote_connection(cluster3):
    target = room("close")
    victim = cluster3.peer(cluster3.nodes[1], "victim-close")
    asker = cluster3.peer(cluster3.nodes[0], "asker-close")
    assert victim.call("join", target) is True
    assert asker.call("disconnect-sockets", {"room": target, "close": True}) is True
    wait_until(lambda: not victim.client.connected, what="the victim's connection closed")
    asker.close()


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_server_side_emit_with_ack_gathers_the_other_nodes(peers, namespace):
    a, b, c = peers
    answers = a.call("server-side-emit", {"event": "whoami", "args": []}, namespace)
    assert sorted(answers, key=lambda x: x["port"]) == sorted(
        [{"node": "swift", "port": b.node.port}, {"node": "swift", "port": c.node.port}], key=lambda x: x["port"])


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_server_side_emit_without_ack_reaches_the_other_nodes_only(peers, namespace):
    a, b, c = peers
    token = room("notify")
    assert a.call("server-side-emit", {"event": "notify", "args": [token, {"n": 1}], "noAck": True},
                  namespace) is True
    for peer in (b, c):
        wait_until(lambda: [token, {"n": 1}] in peer.call("server-side-received", namespace=namespace),
                   what=f"notify on {peer.name}")
    assert [token, {"n": 1}] not in a.call("server-side-received", namespace=namespace)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_broadcast_with_ack_collects_answers_from_every_node(peers, namespace):
    a, b, c = peers
    target = room("ack")
    for peer in peers:
        peer.answers["question"] = f"{peer.name}-says"
        assert peer.call("join", target, namespace) is True
    result = a.call("broadcast-with-ack", {"room": target, "event": "question"}, namespace)
    assert result["err"] is None
    assert sorted(result["responses"]) == ["a-says", "b-says", "c-says"]
    assert b.received("question", namespace)[-1] == ["q"]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_all_rooms_lists_rooms_of_every_node(peers, namespace):
    a, b, c = peers
    on_b, on_c = room("rooms-b"), room("rooms-c")
    assert b.call("join", on_b, namespace) is True
    assert c.call("join", on_c, namespace) is True
    rooms = a.call("all-rooms", namespace=namespace)
    assert {on_b, on_c, b.sid(namespace), c.sid(namespace)} <= set(rooms)


def test_local_flag_keeps_a_broadcast_on_its_node(peers):
    a, b, c = peers
    target = room("local")
    for peer in peers:
        assert peer.call("join", target) is True
    assert a.call("to-room", {"room": target, "event": "loc", "args": [1], "flags": {"local": True}}) is True
    assert a.wait_for("loc") == [1]
    marker_after(a, [b, c], "/")
    assert b.received("loc") == [] and c.received("loc") == []


@pytest.mark.parametrize("flags", [{"volatile": True}, {"compress": False}])
def test_volatile_and_compress_broadcasts_reach_idle_remote_clients(peers, flags):
    a, b, c = peers
    token = room("flag")
    assert a.call("broadcast", {"event": "flagged", "args": [token], "flags": flags}, "/admin") is True
    for peer in peers:
        assert peer.wait_for("flagged", "/admin", lambda args: args == [token]) == [token]


def test_polling_clients_take_part_like_websocket_ones(cluster3):
    target = room("polling")
    polling = cluster3.peer(cluster3.nodes[1], "poller", transports=("polling",))
    sender = cluster3.peer(cluster3.nodes[2], "sender-ws")
    assert polling.call("join", target) is True
    assert sender.call("binary-to-room", {"room": target}) is True
    assert polling.wait_for("bin") == [bytes([1, 2, 3, 255]), {"nested": b"hi"}]
    found = sender.call("fetch-sockets", {"room": target})
    assert [s["data"] for s in found] == [{"name": "poller"}]


def test_async_clients_on_two_nodes_exchange_through_the_cluster(cluster3):
    """socketio.AsyncClient on B answers a broadcast-with-ack asked on C, and gets a room emit from A."""
    nodes = cluster3.nodes
    target = room("async")

    async def scenario():
        listener, asker = socketio.AsyncClient(reconnection=False), socketio.AsyncClient(reconnection=False)
        got = asyncio.get_running_loop().create_future()

        @listener.on("ping-async", namespace="/admin")
        async def on_ping(*args):
            if not got.done():
                got.set_result(list(args))

        @listener.on("question", namespace="/admin")
        async def on_question(value):
            return f"async-{value}"

        try:
            await listener.connect(nodes[1].url, namespaces=["/admin"], transports=["websocket"],
                                   auth={"name": "async-b"}, wait_timeout=WAIT)
            await asker.connect(nodes[2].url, namespaces=["/admin"], transports=["websocket"],
                                auth={"name": "async-c"}, wait_timeout=WAIT)
            assert await listener.call("join", target, namespace="/admin", timeout=WAIT) is True
            result = await asker.call("broadcast-with-ack", {"room": target, "event": "question"},
                                      namespace="/admin", timeout=WAIT)
            assert result == {"err": None, "responses": ["async-q"]}
            assert await asker.call("to-room", {"room": target, "event": "ping-async", "args": [b"\x01", 2]},
                                    namespace="/admin", timeout=WAIT) is True
            assert await asyncio.wait_for(got, WAIT) == [b"\x01", 2]
        finally:
            await listener.disconnect()
            await asker.disconnect()

    asyncio.run(scenario())


def test_bad_requests_are_answered_with_an_error(peers):
    a, _, _ = peers
    assert a.call("to-room", {"event": "missing-room"}, "/admin") == {"error": "to-room expects {room, event, args}"}
    assert "error" in a.call("sockets-join", {"room": "x"}, "/admin")
