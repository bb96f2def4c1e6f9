"""scripts/cluster.sh as someone trying it would: it starts PostgreSQL, Redis, two nodes and nginx, prints the URL
and the admin login; the home page answers through nginx and the login works on it; Ctrl-C (SIGINT) stops every
process it started and removes its folder. `--up-only` exits 0 once everything answered, leaving nothing behind."""
import os
import re
import signal
import subprocess

import pytest
import requests

from cluster_support import BIN_DIR, ROOT, WAIT, wait_until

pytestmark = pytest.mark.timeout(150)

SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")


def children_of(pid):
    """Every live process descended from `pid`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except OSError:
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_cluster_script_starts_everything_and_ctrl_c_stops_it():
    proc = subprocess.Popen([SCRIPT, "--port", "0", "--bin", BIN_DIR], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        while not any("Ctrl-C stops everything" in line for line in lines):
            line = proc.stdout.readline()
            assert line, f"cluster.sh exited ({proc.wait(10)}): {''.join(lines)}"
            lines.append(line)
        text = "".join(lines)
        url = re.search(r"cluster up: (http://127\.0\.0\.1:\d+)", text).group(1)
        password = re.search(r"admin login: admin / (\S+)", text).group(1)
        folder = re.search(r"logs: (/tmp/spaces-cluster-\w+)/node1\.log", text).group(1)
        started = children_of(proc.pid)
        commands = set()
        for pid in started:
            try:
                with open(f"/proc/{pid}/comm") as handle:  # nginx and redis rewrite their command lines
                    commands.add(handle.read().strip())
            except OSError:
                pass
        assert {"spaces", "redis-server", "nginx"} <= commands, commands

        home = requests.get(url + "/", timeout=WAIT)
        assert home.status_code == 200 and "<html" in home.text.lower()
        session = requests.Session()
        login = session.post(url + "/login", data={"username": "admin", "password": password},
                             allow_redirects=False, timeout=WAIT)
        assert login.status_code == 302, login.text
        assert session.get(url + "/admin", timeout=WAIT).status_code == 200

        postmaster = int(open(os.path.join(folder, "pg", "data", "postmaster.pid")).readline())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
        everything = started | {postmaster}
        wait_until(lambda: not any(alive(pid) for pid in everything), timeout=WAIT, what="every process stopped")
        assert not os.path.exists(folder)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_up_only_exits_when_everything_answers():
    result = subprocess.run([SCRIPT, "--port", "0", "--bin", BIN_DIR, "--up-only"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    folder = re.search(r"logs: (/tmp/spaces-cluster-\w+)/node1\.log", result.stdout).group(1)
    assert "cluster up: http://127.0.0.1:" in result.stdout
    assert not os.path.exists(folder)
