"""One queue for a cluster of `spaces` nodes on one real PostgreSQL (and one Redis for the live pages): unchanged
python-socketio workers on both nodes, users on both nodes. Every request completes exactly once, and
max_workers, quotas, rate limits, the holder rule and cancel hold across nodes as on one node."""
import concurrent.futures
import shutil

import pytest
import socketio

from cluster_support import WAIT, Redis, wait_until
from spaces_cluster_support import (PostgresServer, RawWorker, SpacesCluster, cluster_status, metric, node_id, status,
                                    wait_final)
from spaces_e2e_test import AsyncWorker, Behaviour, SyncWorker, admin, create_space, new_user, submit

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="module")
def shared_redis():
    server = Redis().start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def nodes(postgres, shared_redis):
    """Two nodes on a fresh database."""
    cluster = SpacesCluster(postgres.create_database(), shared_redis.url).start()
    yield cluster.nodes
    cluster.close()


def test_three_users_on_two_nodes_every_request_completes_exactly_once(nodes):
    a, b = nodes
    space_id, name = create_space(a, max_workers="3", max_concurrency="2")
    workers = [SyncWorker(a.url, name, name="on-a", behaviour=Behaviour(delay=0.05)).start(),
               SyncWorker(b.url, name, name="on-b", transports=["polling"], behaviour=Behaviour(delay=0.05)).start(),
               AsyncWorker(b.url, name, name="async-on-b", behaviour=Behaviour(delay=0.05)).start()]
    try:
        users = [new_user(a) for _ in range(3)]

        def submit_all(index):
            user = users[index]
            ids = []
            for n in range(10):
                node = nodes[(index + n) % 2]
                response = submit(user, node, space_id, prompt=f"u{index}-{n}")
                assert response.status_code == 200, response.text
                ids.append(response.json()["request_id"])
            return [(user, request_id) for request_id in ids]

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            submitted = [item for batch in pool.map(submit_all, range(3)) for item in batch]
        for index, (user, request_id) in enumerate(submitted):
            body = wait_final(user, nodes[index % 2], request_id)
            assert body["status"] == "completed", body
        received = [r["request_id"] for w in workers for r in w.received]
        assert sorted(received) == sorted(rid for _, rid in submitted), "each request delivered exactly once"
        done = [rid for w in workers for rid in w.done]
        assert sorted(done) == sorted(received)
        assert all(w.received for w in workers), [len(w.received) for w in workers]
        # The admin status of either node lists every worker, with the node it is on.
        for node in nodes:
            connections = [c for c in cluster_status(node)["connections"] if c["space_id"] == space_id]
            assert sorted(c["node_id"] for c in connections) == sorted([node_id(a), node_id(b), node_id(b)])
            # So does the dashboard, in a Node column.
            dashboard = admin(node).get(node.url + "/admin").text
            assert dashboard.count(f'<td class="worker-node">{node_id(b)} (') == 2, dashboard
            assert dashboard.count(f'<td class="worker-node">{node_id(a)} (') == 1
    finally:
        for worker in workers:
            worker.stop()


def test_max_workers_holds_across_nodes(nodes):
    a, b = nodes
    _, name = create_space(a, max_workers="1")
    first = RawWorker(a, name)
    tries = [RawWorker(b, name)]
    try:
        assert first.registered
        assert tries[0].responses[-1] == {"success": False, "message": "Space already has a connected app"}
        first.close()

        def register_on_b():
            # Refused while A has not yet handled the disconnect: a new worker tries again.
            tries.append(RawWorker(b, name))
            return tries[-1].registered

        wait_until(register_on_b, interval=0.2, what="a free worker slot on B")
    finally:
        for worker in tries:
            worker.close()


def test_quota_and_rate_limit_are_counted_for_the_whole_cluster(nodes):
    a, b = nodes
    space_id, name = create_space(a, max_workers="2")
    worker = SyncWorker(b.url, name).start()
    try:
        user = new_user(a)
        user_id = user.get(a.url + "/api/me").json()["id"]
        assert admin(a).post(f"{a.url}/admin/users/{user_id}/quota", data={"daily_quota": "4"},
                             allow_redirects=False).status_code == 302
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(lambda i: submit(user, nodes[i % 2], space_id, prompt=f"q{i}").status_code, range(6)))
        assert sorted(codes) == [200, 200, 200, 200, 403, 403], codes

        limited_space, _ = create_space(a, ws_rate_limit_seconds="60")
        other = new_user(a)
        assert submit(other, a, limited_space, prompt="first").status_code == 503  # no worker serves it yet
        limited_name = [s for s in cluster_status(a)["all_spaces"] if s["space_id"] == limited_space][0]["space_name"]
        limited_worker = SyncWorker(a.url, limited_name).start()
        try:
            assert submit(other, a, limited_space, prompt="first").status_code == 200
            again = submit(other, b, limited_space, prompt="second, on the other node")
            assert again.status_code == 429 and again.json()["code"] == "rate_limited", again.text
            assert int(again.headers["Retry-After"]) > 50
        finally:
            limited_worker.stop()
    finally:
        worker.stop()


def test_result_from_a_worker_on_another_node_is_refused(nodes):
    a, b = nodes
    space_id, name = create_space(a, max_workers="2")
    holder = RawWorker(a, name)
    forger = None
    try:
        user = new_user(a)
        request_id = submit(user, b, space_id, prompt="held on A").json()["request_id"]
        wait_until(lambda: holder.received, what="dispatch to the worker on A")
        forger = RawWorker(b, name)
        ignored = metric(b, "spaces_results_ignored_total")
        forger.answer(request_id, text="forged")
        wait_until(lambda: metric(b, "spaces_results_ignored_total") == ignored + 1, what="B refusing the result")
        assert status(user, a, request_id).json()["status"] == "processing"
        holder.answer(request_id, text="genuine")
        body = wait_final(user, b, request_id)
        assert body["status"] == "completed" and body["result"]["text_output"] == "genuine", body
    finally:
        holder.close()
        if forger:
            forger.close()


def test_cancel_on_one_node_reaches_the_worker_on_the_other(nodes):
    a, b = nodes
    space_id, name = create_space(a)
    worker = RawWorker(b, name)
    try:
        user = new_user(a)
        first = submit(user, a, space_id, prompt="to cancel").json()["request_id"]
        wait_until(lambda: worker.received, what="dispatch to the worker on B")
        response = user.post(f"{a.url}/websockets/cancel/{first}")
        assert response.status_code == 200, response.text
        wait_until(lambda: worker.cancels, what="inference_cancel on B")
        assert worker.cancels[0]["request_id"] == first
        assert status(user, b, first).json()["status"] == "canceled"
        # The slot on B is free again: the next request is sent to the same (concurrency 1) worker.
        second = submit(user, a, space_id, prompt="next").json()["request_id"]
        wait_until(lambda: len(worker.received) == 2, what="the next dispatch")
        assert worker.received[1]["request_id"] == second
        worker.answer(second, text="late result is fine")
        assert wait_final(user, a, second)["status"] == "completed"
        # A late result for the canceled request changes nothing.
        worker.answer(first, text="too late")
        assert status(user, a, first).json()["status"] == "canceled"
    finally:
        worker.close()


def test_page_on_node_a_sees_progress_and_result_of_a_worker_on_node_b(nodes):
    a, b = nodes
    space_id, name = create_space(a)
    worker = SyncWorker(b.url, name, name="far", behaviour=Behaviour(delay=0.2, progress=True)).start()
    page = socketio.Client(reconnection=False)
    try:
        user = new_user(a)
        updates = []
        page.on("request_update", lambda data, *rest: updates.append(data))
        cookie = "; ".join(f"{k}={v}" for k, v in user.cookies.items())
        page.connect(a.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
        request_id = submit(user, a, space_id, prompt="watched").json()["request_id"]
        mine = lambda: [u for u in updates if u["request_id"] == request_id]  # noqa: E731
        wait_until(lambda: any(u["status"] == "completed" for u in mine()), what="the result on the page on A")
        assert any(u.get("message") == "halfway" and u["status"] == "processing" for u in mine()), mine()
        final = [u for u in mine() if u["status"] == "completed"][0]
        assert final["result"]["model_used"] == "far"
    finally:
        page.disconnect()
        worker.stop()


def redis_publishes(redis):
    """PUBLISH commands Redis has run so far (INFO commandstats)."""
    for line in redis.command("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_publish:"):
            return int(line.split("calls=", 1)[1].split(",", 1)[0])
    return 0


def test_live_updates_skipped_while_nobody_listens_still_reach_a_page_that_connects_later(nodes, shared_redis):
    a, b = nodes
    space_id, name = create_space(a)
    worker = RawWorker(b, name)
    page = socketio.Client(reconnection=False)
    try:
        assert worker.registered
        user = new_user(a)

        def life_of_a_request_publishes():
            before = redis_publishes(shared_redis)
            request_id = submit(user, a, space_id, prompt="unwatched").json()["request_id"]
            wait_until(lambda: any(r["request_id"] == request_id for r in worker.received), what="delivery on B")
            worker.answer(request_id)
            wait_final(user, a, request_id)
            return redis_publishes(shared_redis) - before

        # Right after start every node publishes (the others' listeners are not known yet); then, with no page
        # anywhere, a request's life publishes nothing to Redis.
        wait_until(lambda: life_of_a_request_publishes() == 0, timeout=40, interval=0.2,
                   what="a request's updates skipped with nobody listening")

        held = submit(user, a, space_id, prompt="held").json()["request_id"]
        wait_until(lambda: any(r["request_id"] == held for r in worker.received), what="delivery of the held request")
        updates = []
        page.on("request_update", lambda data, *rest: updates.append(data))
        cookie = "; ".join(f"{k}={v}" for k, v in user.cookies.items())
        page.connect(a.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
        # B learns from A that the user listens now (or replays what it skipped meanwhile): the result reaches A.
        worker.answer(held, text="seen")
        wait_until(lambda: any(u["request_id"] == held and u["status"] == "completed" for u in updates),
                   what="the result from B on the page that connected to A later")
    finally:
        page.disconnect()
        worker.close()


def test_metrics_report_the_node_and_the_cluster_queues(nodes):
    a, b = nodes
    space_id, name = create_space(a)
    worker = RawWorker(b, name)
    try:
        user = new_user(a)
        for n in range(3):
            submit(user, a, space_id, prompt=f"m{n}")
        wait_until(lambda: worker.received, what="dispatch")
        text = __import__("requests").get(a.url + "/metrics", timeout=10).text
        label = f'space_id="{space_id}"'
        lines = {line.split("{")[0] + (" " + line.split()[-1]) for line in text.splitlines() if label in line}
        assert "spaces_queue_depth 2" in lines and "spaces_cluster_processing 1" in lines, lines
        assert "spaces_cluster_workers 1" in lines and "spaces_workers 0" in lines, lines
        assert f'spaces_node_info{{node="{node_id(a)}"}} 1' in text
        assert "spaces_cluster_nodes 2" in text
    finally:
        worker.close()
