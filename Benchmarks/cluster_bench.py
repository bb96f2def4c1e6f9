#!/usr/bin/env python3
"""Cluster benchmark (issue 13): three `sio-echo --redis` nodes on one redis-server, clients spread over
them, broadcasts asked on node A, driven by sio-load (ours: --ports, --brate, --server-pids).

    python Benchmarks/cluster_bench.py --bin .build/release [--repeat N] [--clients 1000] [--broadcasts 1000]

Scenarios, each on fresh processes:
  fanout       --clients members spread over A, B, C (room `bench`); --broadcasts broadcasts, one in flight.
               Server CPU per delivery on each node (/proc/<pid>/stat over sio-load's measured window),
               Redis CPU per broadcast, PUBLISH calls per broadcast (INFO commandstats, cmdstat_publish).
  local-redis  clients/3 members all on A, with --redis: what a broadcast costs the node that makes it.
  local-plain  the same on a single sio-echo without --redis (--app cluster, same handlers).
  latency      --latency-clients members spread over A, B, C; --brate broadcasts per second on a schedule;
               delivery latency p50/p99 from each broadcast's intended send time.

Targets (printed beside the ratios): one PUBLISH per broadcast whatever the audience; a delivery on a remote
node at most 1.5x the CPU of a local one; a local broadcast with --redis within 10 % of one without; p99
at most 5 ms at 1,000 broadcasts/s. Each node runs one event loop (`--loops 1`); the machine is shared with
the load generator and Redis, so read CPU per delivery rather than rates. Raw sio-load lines go to
bench-results/cluster-<time>.json. Exit status 0 when every run completed, 1 otherwise.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Cluster"))
import cluster_support  # noqa: E402
from cluster_support import Node, Redis, wait_until  # noqa: E402

# Heartbeats rare enough not to show in the CPU figures.
NODE_ARGS = ["--ping-interval", "25000", "--ping-timeout", "20000"]


def log(message):
    print(f"[bench-cluster] {message}", file=sys.stderr, flush=True)


def publish_stats(redis):
    """cmdstat_publish calls and microseconds so far (Redis's time in the command, I/O aside)."""
    info = redis.command("INFO", "commandstats")
    for line in info.splitlines():
        if line.startswith("cmdstat_publish:"):
            fields = dict(part.split("=", 1) for part in line.split(":", 1)[1].split(","))
            return int(fields["calls"]), int(fields["usec"])
    return 0, 0


def server_count_reached(node, count):
    """Asks node's own Redis how many nodes listen on the request channel of `/` (what serverCount reads)."""
    reply = node.redis.command("PUBSUB", "NUMSUB", "socket.io-request#/#")
    return reply[1] >= count


class Setup:
    """Redis (optional) and nodes, stopped together."""

    def __init__(self, node_count, with_redis=True):
        self.redis = Redis().start() if with_redis else None
        self.nodes = []
        try:
            for _ in range(node_count):
                node = Node(self.redis.url if self.redis else None, *NODE_ARGS).start()
                node.redis = self.redis
                self.nodes.append(node)
            if self.redis:
                wait_until(lambda: server_count_reached(self.nodes[0], node_count), timeout=30,
                           what=f"{node_count} nodes subscribed")
        except BaseException:
            self.close()
            raise

    def close(self):
        for node in self.nodes:
            node.stop()
        if self.redis:
            self.redis.stop()
            shutil.rmtree(self.redis.dir, ignore_errors=True)


def redis_idle_cpu_rate(redis, seconds=2.0):
    """Redis's own CPU seconds per second with the nodes connected and nothing sent (its timers, the
    nodes' health checks): subtracted from the broadcast window to get the cost of the broadcasts."""
    start = redis.cpu_ticks()
    time.sleep(seconds)
    return (redis.cpu_ticks() - start) / os.sysconf("SC_CLK_TCK") / seconds


def run_load(sio_load, setup, member_ports, args, extra, label):
    pids = [node.proc.pid for node in setup.nodes] + ([setup.redis.proc.pid] if setup.redis else [])
    idle_rate = redis_idle_cpu_rate(setup.redis) if setup.redis else 0.0
    argv = [sio_load, "broadcast", "--port", str(setup.nodes[0].port), "--ports", ",".join(map(str, member_ports)),
            "--server-pids", ",".join(map(str, pids)), "--payload", str(args.payload), "--max-time", "120",
            "--label", label, *extra]
    publishes, publish_usec = publish_stats(setup.redis) if setup.redis else (0, 0)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"sio-load {label} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    result = lines[-1]
    if setup.redis:
        calls, usec = publish_stats(setup.redis)
        result["publish_calls"] = calls - publishes
        result["publish_usec_per_call"] = (usec - publish_usec) / max(1, calls - publishes)
    result["sent_total"] = result["broadcasts"] + int(extra[extra.index("--bwarm") + 1])
    result["node_pids"] = pids
    result["redis_idle_cpu_rate"] = idle_rate
    if not all(node.alive() for node in setup.nodes):
        raise RuntimeError(f"a node died during {label}")
    return result


def members_per_node(count, nodes):
    """How many of `count` members sio-load put on each node (client i on node i mod nodes)."""
    return [len(range(index, count, nodes)) for index in range(nodes)]


def fanout(sio_load, args):
    setup = Setup(3)
    try:
        ports = [node.port for node in setup.nodes]
        extra = ["--clients", str(args.clients), "--broadcasts", str(args.broadcasts), "--bwarm", "20", "--duration", "60"]
        result = run_load(sio_load, setup, ports, args, extra, "fanout")
    finally:
        setup.close()
    per_node = members_per_node(args.clients, 3)
    broadcasts = result["broadcasts"]
    result["cpu_us_per_delivery"] = [1e6 * result[f"server_cpu_s_{i}"] / (broadcasts * per_node[i]) for i in range(3)]
    result["redis_cpu_us_per_broadcast"] = 1e6 * result["server_cpu_s_3"] / broadcasts
    busy = result["server_cpu_s_3"] - result["redis_idle_cpu_rate"] * result["duration_s"]
    result["redis_net_cpu_us_per_broadcast"] = 1e6 * max(0.0, busy) / broadcasts
    result["publish_per_broadcast"] = result["publish_calls"] / result["sent_total"]
    return result


def local(sio_load, args, with_redis):
    setup = Setup(3 if with_redis else 1, with_redis=with_redis)
    try:
        members = args.clients // 3
        extra = ["--clients", str(members), "--broadcasts", str(args.broadcasts), "--bwarm", "20", "--duration", "60"]
        result = run_load(sio_load, setup, [setup.nodes[0].port], args, extra,
                          "local-redis" if with_redis else "local-plain")
    finally:
        setup.close()
    result["cpu_us_per_delivery_a"] = 1e6 * result["server_cpu_s_0"] / (result["broadcasts"] * members)
    if with_redis:
        result["publish_per_broadcast"] = result["publish_calls"] / result["sent_total"]
    return result


def latency(sio_load, args):
    setup = Setup(3)
    try:
        ports = [node.port for node in setup.nodes]
        count = int(args.brate * args.latency_seconds)
        extra = ["--clients", str(args.latency_clients), "--broadcasts", str(count), "--bwarm", str(int(args.brate)),
                 "--brate", str(args.brate)]
        return run_load(sio_load, setup, ports, args, extra, "latency")
    finally:
        setup.close()


def median(values):
    return statistics.median(values) if values else float("nan")


def verdict(ok):
    return "meets" if ok else "MISSES"


def report(runs, args):
    fan, lr, lp, lat = runs["fanout"], runs["local-redis"], runs["local-plain"], runs["latency"]
    cpu = [median([r["cpu_us_per_delivery"][i] for r in fan]) for i in range(3)]
    redis_cpu = median([r["redis_cpu_us_per_broadcast"] for r in fan])
    redis_net = median([r["redis_net_cpu_us_per_broadcast"] for r in fan])
    lat_redis = median([1e6 * r["server_cpu_s_3"] / (r["broadcasts"]) for r in lat])
    in_command = median([r["publish_usec_per_call"] for r in fan])
    publishes = max([r["publish_per_broadcast"] for r in fan] + [r["publish_per_broadcast"] for r in lr])
    local_redis = median([r["cpu_us_per_delivery_a"] for r in lr])
    local_plain = median([r["cpu_us_per_delivery_a"] for r in lp])
    p50 = median([r["delivery_lat_p50_ms"] for r in lat])
    p99 = median([r["delivery_lat_p99_ms"] for r in lat])
    remote_ratio = max(cpu[1], cpu[2]) / cpu[0]
    local_ratio = local_redis / local_plain
    rows = [
        f"Cluster benchmark: 3 sio-echo --redis nodes (--loops 1 each), medians of {args.repeat} run(s)",
        f"fanout: {args.clients} members over A/B/C, {args.broadcasts} broadcasts asked on A, payload {args.payload} B",
        f"  server CPU per delivery  A (local) {cpu[0]:.3f} us   B {cpu[1]:.3f} us   C {cpu[2]:.3f} us",
        f"  Redis CPU per broadcast  {redis_cpu:.1f} us ({redis_net:.1f} us above its idle rate;"
        f" {lat_redis:.1f} us at {args.brate:.0f} broadcasts/s; {in_command:.1f} us inside PUBLISH itself)",
        f"  PUBLISH per broadcast    {publishes:.3f}   target 1            {verdict(abs(publishes - 1) < 1e-9)}",
        f"  remote / local delivery  {remote_ratio:.2f}x   target <= 1.5x      {verdict(remote_ratio <= 1.5)}",
        f"local broadcast, {args.clients // 3} members on A: with --redis {local_redis:.3f} us/delivery,"
        f" without {local_plain:.3f} us/delivery",
        f"  with / without --redis   {local_ratio:.2f}x   target <= 1.10x     {verdict(local_ratio <= 1.10)}",
        f"latency: {args.brate:.0f} broadcasts/s to {args.latency_clients} members over A/B/C,"
        f" {args.latency_seconds:.0f} s measured",
        f"  delivery p50 {p50:.3f} ms   p99 {p99:.3f} ms   target p99 <= 5 ms   {verdict(p99 <= 5.0)}",
    ]
    print("\n".join(rows))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=1000)
    parser.add_argument("--payload", type=int, default=32)
    parser.add_argument("--brate", type=float, default=1000.0)
    parser.add_argument("--latency-clients", type=int, default=30)
    parser.add_argument("--latency-seconds", type=float, default=5.0)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    return parser.parse_args()


def main():
    args = parse_args()
    cluster_support.SIO_ECHO = os.path.join(args.bin, "sio-echo")
    sio_load = os.path.join(args.bin, "sio-load")
    for binary in (cluster_support.SIO_ECHO, sio_load):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: make release")
    runs = {"fanout": [], "local-redis": [], "local-plain": [], "latency": []}
    status = 0
    for repetition in range(args.repeat):
        for name, run in (("fanout", lambda: fanout(sio_load, args)),
                          ("local-redis", lambda: local(sio_load, args, True)),
                          ("local-plain", lambda: local(sio_load, args, False)),
                          ("latency", lambda: latency(sio_load, args))):
            log(f"run {repetition + 1}/{args.repeat}: {name}")
            try:
                runs[name].append(run())
            except (RuntimeError, AssertionError, subprocess.TimeoutExpired) as error:
                log(f"{name} failed: {error}")
                status = 1
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"cluster-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump({"args": vars(args), "runs": runs, "time": time.time()}, f, indent=1)
    log(f"raw results: {path}")
    if all(runs.values()):
        report(runs, args)
    else:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
