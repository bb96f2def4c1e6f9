"""Faults of a SpacesApp cluster (two `spaces` nodes on one PostgreSQL and one Redis): a node SIGKILLed mid-run
(its workers reconnect through nginx to the other node, its requests are redelivered once its lease expires,
and it rejoins when restarted), a node SIGTERMed (it hands its requests back at once), and PostgreSQL restarted
mid-run (503 with Retry-After during the outage, nothing accepted lost)."""
import os
import shutil

import pytest
import requests

from cluster_support import WAIT, Redis, wait_until
from spaces_cluster_support import PostgresServer, SpacesCluster, cluster_status, node_id, status, wait_final
from spaces_e2e_test import Behaviour, SyncWorker, create_space, new_user, submit
from test_cluster_nginx import NGINX, Nginx

pytestmark = pytest.mark.timeout(180)

# A lost node's requests come back within lease (9 s) + reaper period (2 s); generous on a loaded machine.
REAPED = 30


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def cluster(postgres):
    redis = Redis().start()
    made = SpacesCluster(postgres.create_database(), redis.url).start()
    yield made
    made.close()
    redis.stop()
    shutil.rmtree(redis.dir, ignore_errors=True)


def test_sigkilled_node_requests_are_redelivered_and_the_node_rejoins(cluster):
    if not os.path.exists(NGINX):
        pytest.fail("no nginx: apt-get install nginx")
    proxy = Nginx([node.port for node in cluster.nodes])
    workers = []
    try:
        a, b = cluster.nodes
        space_id, name = create_space(a, max_workers="4", timeout_seconds="120")
        # Through nginx (sticky by address), both workers land on the same node: the one to kill.
        workers = [SyncWorker(proxy.url, name, name=f"w{i}", transports=["websocket"], reconnection=True,
                              behaviour=Behaviour(delay=1.5)).start() for i in range(2)]
        nodes_of_workers = {c["node_id"] for c in cluster_status(a)["connections"] if c["space_id"] == space_id}
        assert len(nodes_of_workers) == 1, nodes_of_workers
        victim_index = [node_id(n) for n in cluster.nodes].index(nodes_of_workers.pop())
        victim, survivor = cluster.nodes[victim_index], cluster.nodes[1 - victim_index]

        user = new_user(survivor)
        ids = [submit(user, survivor, space_id, prompt=f"k{n}").json()["request_id"] for n in range(6)]
        wait_until(lambda: all(w.received for w in workers), what="both workers busy")
        in_flight = {w.received[0]["request_id"] for w in workers}
        victim.kill()

        # The workers reconnect through nginx to the survivor; the requests they held come back to the head once
        # the victim's lease expires, counted as a delivery, and everything completes.
        for request_id in ids:
            body = wait_final(user, survivor, request_id, timeout=REAPED + 30)
            assert body["status"] == "completed", body
            assert body["deliveries"] == (2 if request_id in in_flight else 1), body
        delivered = [r["request_id"] for w in workers for r in w.received]
        assert sorted(set(delivered)) == sorted(ids)
        assert all(delivered.count(rid) == (2 if rid in in_flight else 1) for rid in ids), delivered
        # No request answered more often than it was delivered (an answer sent after the kill is refused).
        done = [rid for w in workers for rid in w.done]
        assert set(done) == set(ids) and all(done.count(rid) <= delivered.count(rid) for rid in ids), done

        restarted = cluster.restart(victim_index)
        wait_until(lambda: len(cluster_status(survivor)["nodes"]) == 2, what="the restarted node in the cluster")
        assert node_id(restarted) in {n["node_id"] for n in cluster_status(survivor)["nodes"]}
        late = submit(user, restarted, space_id, prompt="after the restart").json()["request_id"]
        assert wait_final(user, restarted, late)["status"] == "completed"
    finally:
        for worker in workers:
            worker.stop()
        proxy.stop()


def test_sigterm_hands_requests_back_at_once(cluster):
    a, b = cluster.nodes
    space_id, name = create_space(a, max_workers="2")
    slow = SyncWorker(a.url, name, name="slow", behaviour=Behaviour(delay=60)).start()
    fresh = None
    try:
        user = new_user(a)
        request_id = submit(user, a, space_id, prompt="handed back").json()["request_id"]
        wait_until(lambda: slow.received, what="dispatch to the slow worker on A")
        fresh = SyncWorker(b.url, name, name="fresh").start()
        assert a.terminate() == 0
        body = wait_final(user, b, request_id)
        # Handed back by A (the delivery not counted), not reaped after its lease (which would count it).
        assert body["status"] == "completed" and body["result"]["model_used"] == "fresh", body
        assert body["deliveries"] == 1, body
        assert [n["node_id"] for n in cluster_status(b)["nodes"]] == [node_id(b)]
    finally:
        slow.stop()
        if fresh:
            fresh.stop()


def test_postgres_restarted_mid_run(cluster, postgres):
    a, b = cluster.nodes
    space_id, name = create_space(a, max_workers="2")
    worker = SyncWorker(b.url, name, name="steady", reconnection=True, behaviour=Behaviour(delay=0.5)).start()
    try:
        user = new_user(a)
        accepted = [submit(user, a, space_id, prompt=f"p{n}").json()["request_id"] for n in range(4)]
        wait_until(lambda: worker.received, what="the first dispatch")
        postgres.stop()
        try:
            refused = submit(user, a, space_id, prompt="during the outage")
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "database_unavailable" and refused.json()["error"]
            assert int(refused.headers["Retry-After"]) > 0
        finally:
            postgres.start()

        def accepted_again():
            response = submit(user, a, space_id, prompt="after the outage")
            return response.json()["request_id"] if response.status_code == 200 else None

        accepted.append(wait_until(accepted_again, timeout=WAIT * 2, interval=0.5, what="submissions accepted again"))
        for request_id in accepted:
            assert wait_final(user, b, request_id, timeout=60)["status"] == "completed"
        # Both nodes are still in the cluster once the dust settles (neither reaped the other after the outage).
        wait_until(lambda: len(cluster_status(a)["nodes"]) == 2, what="both nodes listed")
        assert requests.get(a.url + "/metrics", timeout=10).status_code == 200
        assert status(user, a, accepted[0]).json()["status"] == "completed"
    finally:
        worker.stop()
