"""Loopback source addresses that spread benchmark users over the nodes behind nginx.

deploy/nginx.conf picks a node by `hash $remote_addr consistent`, so users all connecting from 127.0.0.1 would
all land on one node. Every 127.x.y.z address is local on Linux: spaces_load binds each user to one of them
(--source-addrs). Which node an address hashes to depends on the node ports, which are free ports chosen per run,
so the addresses are found by asking: a GET of /metrics through nginx from the address, whose
`spaces_node_info{node="..."}` line names the node that answered. The per-node counters of /metrics then show how
the traffic was actually split.
"""
import http.client
import re
import urllib.parse

import requests

NODE_INFO = re.compile(r'^spaces_node_info\{node="([^"]+)"\} 1$', re.MULTILINE)


def _metrics_text(url, source=None):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30,
                                            source_address=(source, 0) if source else None)
    try:
        connection.request("GET", "/metrics")
        answer = connection.getresponse()
        body = answer.read().decode()
        if answer.status != 200:
            raise RuntimeError(f"GET {url}/metrics from {source}: {answer.status}")
        return body
    finally:
        connection.close()


def node_id(url, source=None):
    """The cluster id of the node that answers /metrics at `url` (through nginx: the node `source` hashes to)."""
    match = NODE_INFO.search(_metrics_text(url, source))
    if not match:
        raise RuntimeError(f"{url}/metrics names no node (not a cluster node?)")
    return match.group(1)


def candidate_addresses():
    """127.0.0.2, 127.0.0.3, ... 127.0.255.254 (127.0.0.1 left out: it is where everything else comes from)."""
    for third in range(256):
        for fourth in range(1, 255):
            if (third, fourth) != (0, 1):
                yield f"127.0.{third}.{fourth}"


def sources_per_node(front, node_urls, per_node, limit=2000):
    """For each node of `node_urls` (in that order), `per_node` source addresses from which nginx at `front` sends
    requests to it. Raises when `limit` probes found too few for some node."""
    index_of = {node_id(url): index for index, url in enumerate(node_urls)}
    found = [[] for _ in node_urls]
    for probes, address in enumerate(candidate_addresses()):
        if all(len(addresses) >= per_node for addresses in found):
            return found
        if probes >= limit:
            break
        index = index_of[node_id(front, address)]
        if len(found[index]) < per_node:
            found[index].append(address)
    if all(len(addresses) >= per_node for addresses in found):
        return found
    raise RuntimeError(f"{limit} addresses probed, found per node: {[len(a) for a in found]}")


def spread_sources(front, node_urls, users):
    """One source address per user, taking the nodes in turn (user i goes to node i % len(node_urls)), so that
    the users split as evenly as their count allows."""
    per_node = -(-users // len(node_urls))
    found = sources_per_node(front, node_urls, per_node)
    return [found[user % len(node_urls)][user // len(node_urls)] for user in range(users)]


def node_counters(url, names=("spaces_requests_submitted_total", "spaces_requests_dispatched_total",
                              "spaces_requests_redelivered_total")):
    """{name: value} of the given unlabelled counters, read from the node at `url` directly."""
    values = {}
    for line in requests.get(url + "/metrics", timeout=60).text.splitlines():
        name, _, value = line.partition(" ")
        if name in names:
            values[name] = int(float(value))
    return values
