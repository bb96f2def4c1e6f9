"""Starts a redis-server and N `sio-echo --redis` nodes for a test written in another language, prints
`cluster listening on port A nodes A,B,...` once every node counts all of them, and stops everything when
its standard input closes (the test ended or died).

    python Tests/Cluster/cluster_up.py --bin .build/debug --nodes 2
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_support  # noqa: E402
from cluster_support import Node, Peer, Redis, wait_for_server_count  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder holding sio-echo")
    parser.add_argument("--nodes", type=int, default=2)
    args = parser.parse_args()
    cluster_support.SIO_ECHO = os.path.join(args.bin, "sio-echo")
    # A Swift test starts us with almost every signal blocked (the mask of the thread that spawned us): its
    # SIGTERM stayed pending until the SIGKILL after it, and the nodes and redis-server inherited the mask (an
    # ASan-built node then hung at exit, waiting inside LeakSanitizer). Start from an empty mask, and leave on
    # SIGTERM through `finally`, which stops the nodes and redis-server: they were left running after each run.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    redis = Redis().start()
    nodes = []
    try:
        for _ in range(args.nodes):
            nodes.append(Node(redis.url).start())
        for node in nodes:
            probe = Peer(node, "probe", namespaces=["/"])
            wait_for_server_count(probe, args.nodes)
            probe.close()
        ports = ",".join(str(node.port) for node in nodes)
        print(f"cluster listening on port {nodes[0].port} nodes {ports}", flush=True)
        sys.stdin.read()  # until EOF
    finally:
        # Every node at once: the test kills us 5 s after its SIGTERM, and each node may take seconds to end.
        for node in nodes:
            if node.alive():
                node.proc.send_signal(signal.SIGTERM)
        for node in nodes:
            node.stop()
        redis.stop()


if __name__ == "__main__":
    main()
