"""Every executable refuses an unknown flag, or a flag without its value: one line on stderr naming it and
pointing to --help, exit status 2, and nothing listening. `--help` lists every flag the executable reads,
and every flag it lists is accepted.

The built binaries are run as shipped (BIN_DIR, set by run_interop.py), since a typo on a real command line
is what this guards against.
"""
import os
import re
import socket
import subprocess

import pytest

pytestmark = pytest.mark.timeout(120)

# Every flag each executable reads (from its source); --help must list them all.
FLAGS = {
    "eio-echo": ["host", "port", "path", "loops", "ping-interval", "ping-timeout", "max-payload", "trust-proxy",
                 "tls-cert", "tls-key", "max-connections", "max-connections-per-ip", "header-timeout", "reuse-port"],
    "sio-echo": ["host", "port", "loops", "ping-interval", "ping-timeout", "max-payload", "connect-timeout", "app",
                 "per-message-deflate", "redis", "redis-requests-timeout", "redis-specific-response-channel",
                 "allow-eio3", "trust-proxy", "tls-cert", "tls-key", "connection-state-recovery", "max-backpressure",
                 "max-queued-output", "no-serve-client", "max-connections", "max-connections-per-ip", "header-timeout",
                 "reuse-port"],
    "spaces": ["host", "port", "data-dir", "loops", "max-message-mb", "max-upload-mb", "public-url",
               "pbkdf2-iterations", "ping-interval", "ping-timeout", "admin-user", "admin-password", "redis", "verbose",
               "uploads-dir", "session-key",
               "no-eio3", "trust-proxy", "tls-cert", "tls-key", "max-connections", "max-connections-per-ip",
               "header-timeout"],
    "spaces-worker": ["host", "spaces", "token", "concurrency", "exec", "exec-timeout", "delay", "transports",
                      "verbose"],
    "sio-load": ["host", "port", "conns", "window", "duration", "warmup", "rate", "ack", "transport", "payload",
                 "clients", "broadcasts", "bwindow", "bwarm", "steps", "settle", "pending", "server-sid",
                 "server-pid", "max-time", "connect-timeout", "path", "label", "ports", "brate", "server-pids", "tls"],
}

FLAGS["redis-bench"] = ["url", "count", "size", "from-other-thread", "subscribe"]

# Arguments every run needs to get as far as flag parsing (sio-load's scenario comes first).
PREFIX = {"sio-load": ["echo"]}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binary(name):
    path = os.path.join(os.environ["BIN_DIR"], name)
    if not os.path.exists(path):
        pytest.skip(f"{name} is not built")
    return path


def run(name, *args, env=None):
    # A temporary data folder and port keep a `spaces` that wrongly started from touching anything real.
    return subprocess.run([binary(name), *PREFIX.get(name, []), *args], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **(env or {})))


def assert_refused(result, flag, port):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert flag in lines[0] and "--help" in lines[0], lines[0]
    assert "listening" not in result.stdout
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something listens on {port}"


# A typo of one of each executable's flags (the port where it has one).
TYPOS = {"eio-echo": "--prot", "sio-echo": "--prot", "sio-load": "--prot", "spaces": "--prot",
         "spaces-worker": "--hots", "redis-bench": "--cuont"}


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_unknown_flag_is_refused(name, tmp_path):
    port = free_port()
    value = f"http://127.0.0.1:{port}" if name == "spaces-worker" else str(port)
    result = run(name, TYPOS[name], value, env={"SPACES_DATA_DIR": str(tmp_path), "SPACES_PORT": str(port),
                                                 "SPACES_SPACES": "demo"})
    assert_refused(result, TYPOS[name], port)
    # The original complaint, word for word.
    if name == "spaces":
        assert_refused(run(name, "--bogus", "1", env={"SPACES_DATA_DIR": str(tmp_path)}), "--bogus", port)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_flag_without_value_is_refused(name, tmp_path):
    port = free_port()
    env = {"SPACES_DATA_DIR": str(tmp_path), "SPACES_PORT": str(port), "SPACES_SPACES": "demo"}
    valued = {"spaces-worker": "spaces", "redis-bench": "count"}.get(name, "port")
    # At the end of the line, and followed by another flag (which must not be taken as the value).
    assert_refused(run(name, f"--{valued}", env=env), f"--{valued}", port)
    assert_refused(run(name, "--host", f"--{valued}", "1", env=env), "--host", port)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_stray_argument_is_refused(name, tmp_path):
    port = free_port()
    result = run(name, "-port", str(port), env={"SPACES_DATA_DIR": str(tmp_path), "SPACES_SPACES": "demo"})
    assert_refused(result, "-port", port)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_help_lists_every_flag(name):
    result = run(name, "--help")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"--([a-z0-9-]+)", result.stdout))
    missing = [flag for flag in FLAGS[name] if flag not in listed]
    assert not missing, f"--help of {name} does not list {missing}"


@pytest.mark.parametrize("name", ["eio-echo", "sio-echo", "spaces", "spaces-worker"])
def test_every_listed_flag_is_accepted(name):
    # `--flag=value --help` parses the flag, then prints the help: refused only if the flag is unknown.
    listed = set(re.findall(r"^\s+--([a-z0-9-]+)", run(name, "--help").stdout, re.MULTILINE)) - {"help"}
    assert listed
    for flag in sorted(listed):
        result = run(name, f"--{flag}=1", "--help")
        if result.returncode == 2 and "takes no value" in result.stderr:
            result = run(name, f"--{flag}", "--help")
        assert result.returncode == 0, (flag, result.stderr)
