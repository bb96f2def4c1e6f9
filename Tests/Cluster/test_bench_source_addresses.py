"""bench-spaces' two-node layout: spaces_load's --source-addrs, with addresses picked by spaces_sources.py, spreads
users over both nodes behind nginx with deploy/nginx.conf (`hash $remote_addr consistent`); without it every
user lands on one node. The nodes here are two small HTTP servers that answer like `spaces` (/metrics with
`spaces_node_info`, submit, status) and note the client address nginx forwards, so no `spaces` build is needed.
"""
import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
from nginx_support import Nginx  # noqa: E402
from spaces_sources import spread_sources  # noqa: E402


class FakeNode:
    """An HTTP/1.1 server named `name`; `submits` lists the X-Forwarded-For of each submit it answered."""

    def __init__(self, name):
        self.name = name
        self.submits = []
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, body, content_type="application/json"):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/metrics":
                    self.answer(f'spaces_node_info{{node="{node.name}"}} 1\n', "text/plain")
                else:
                    self.answer(json.dumps({"status": "completed"}))

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                node.submits.append(self.headers.get("X-Forwarded-For"))
                # Compact, as `spaces` writes it: spaces_load looks for `"request_id":"`.
                self.answer(json.dumps({"success": True, "request_id": f"{node.name}-{len(node.submits)}"},
                                       separators=(",", ":")))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def behind_nginx():
    nodes = [FakeNode("node-a"), FakeNode("node-b")]
    proxy = Nginx(os.path.join(ROOT, "deploy", "nginx.conf"), [node.port for node in nodes])
    yield proxy, nodes
    proxy.stop()
    for node in nodes:
        node.stop()


@pytest.fixture(scope="module")
def spaces_load(tmp_path_factory):
    binary = str(tmp_path_factory.mktemp("spaces_load") / "spaces_load")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", binary,
                    os.path.join(ROOT, "Benchmarks", "spaces_load.c")], check=True)
    return binary


def run_load(binary, proxy, users, requests, sources=None):
    command = [binary, "--port", str(proxy.port), "--space", "1", "--cookie", "spaces_session=x",
               "--requests", str(requests), "--users", str(users), "--reads", "2"]
    if sources:
        command += ["--source-addrs", ",".join(sources)]
    answer = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(answer.stdout)


def test_source_addresses_spread_users_over_both_nodes(behind_nginx, spaces_load):
    proxy, nodes = behind_nginx
    sources = spread_sources(proxy.url, [node.url for node in nodes], 8)
    assert len(set(sources)) == 8 and "127.0.0.1" not in sources
    result = run_load(spaces_load, proxy, users=8, requests=400, sources=sources)
    assert (result["submits"], result["failures"]) == (400, 0)
    # User i was given an address hashing to node i % 2, and nginx forwarded each submit from that address there.
    for index, node in enumerate(nodes):
        assert set(node.submits) == set(sources[index::2]), node.name
    assert len(nodes[0].submits) + len(nodes[1].submits) == 400


def test_without_source_addresses_every_user_lands_on_one_node(behind_nginx, spaces_load):
    proxy, nodes = behind_nginx
    result = run_load(spaces_load, proxy, users=8, requests=100)
    assert (result["submits"], result["failures"]) == (100, 0)
    assert sorted(len(node.submits) for node in nodes) == [0, 100]
    assert {address for node in nodes for address in node.submits} == {"127.0.0.1"}


def test_an_address_that_is_not_local_fails_every_request(behind_nginx, spaces_load):
    proxy, nodes = behind_nginx
    # 192.0.2.1 (TEST-NET-1) is on no interface: bind() refuses it, and the load generator counts failures.
    result = run_load(spaces_load, proxy, users=2, requests=4, sources=["192.0.2.1"])
    assert (result["submits"], result["failures"]) == (0, 4)
    assert nodes[0].submits == nodes[1].submits == []
