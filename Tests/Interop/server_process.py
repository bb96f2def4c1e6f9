"""Starts one of our server executables on a free port and stops it, for the interop tests."""
import os
import re
import signal
import subprocess
import sys
import time


def built_binary(name):
    """The executable `name` from BIN_DIR (run_interop.py sets it), else .build/release, else .build/debug;
    skips the calling test when none is built."""
    if os.environ.get("BIN_DIR"):
        return os.path.join(os.environ["BIN_DIR"], name)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for kind in ("release", "debug"):
        path = os.path.join(root, ".build", kind, name)
        if os.path.exists(path):
            return path
    import pytest  # only test files call this
    pytest.skip(f"{name} is not built")


class ServerProcess:
    """Runs `binary args... --port N` (0: a free one) and reads the port from its first line of output."""

    def __init__(self, binary, *args, port=0, ready_timeout=30.0):
        self.binary = binary
        self.args = list(args)
        self.requested_port = port
        self.ready_timeout = ready_timeout
        self.proc = None
        self.port = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.binary, *self.args, "--port", str(self.requested_port)],
            stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.binary} exited before listening (code {self.proc.poll()})")
            match = re.search(r"listening on port (\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
        raise RuntimeError(f"{self.binary} did not start within {self.ready_timeout}s")

    def stop(self, timeout=10.0):
        """SIGTERM, then wait; returns the exit code (SIGKILL after the timeout)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.binary} ignored SIGTERM for {timeout}s")

    def __exit__(self, *exc):
        self.stop()
        return False
