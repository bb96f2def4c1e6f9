"""SIGTERM right after a server announced its port: every executable stops gracefully (exit status 0) at
once. A supervisor or a test may stop a server that has only just started; the signal handling must be in
place before the "listening on port" line, or the signal is lost (a server once ignored it forever) or kills
the process without its graceful stop."""
import os
import shutil
import tempfile
import time

import pytest

from server_process import ServerProcess, built_binary

# A few delays after the port line, the shortest first: the window that once lost the signal was a few ms.
DELAYS = [0.0, 0.001, 0.003, 0.01, 0.05]


def stop_soon_after_start(binary, *args, delay, env=None):
    """Starts `binary`, sends SIGTERM `delay` seconds after its port line; returns (exit code, seconds)."""
    server = ServerProcess(binary, *args)
    server.__enter__()
    time.sleep(delay)
    started = time.monotonic()
    code = server.stop(timeout=15)
    return code, time.monotonic() - started


@pytest.mark.parametrize("delay", DELAYS)
@pytest.mark.parametrize("name", ["sio-echo", "eio-echo"])
def test_echo_servers_stop_gracefully_right_after_start(name, delay):
    code, seconds = stop_soon_after_start(built_binary(name), "--host", "127.0.0.1", delay=delay)
    assert code == 0, f"{name} exited with {code} after SIGTERM {delay}s after its port line"
    assert seconds < 10


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.05])
def test_spaces_stops_gracefully_right_after_start(delay):
    data = tempfile.mkdtemp(prefix="spaces-sigterm-")
    try:
        code, seconds = stop_soon_after_start(built_binary("spaces"), "--host", "127.0.0.1", "--data-dir", data,
                                              "--pbkdf2-iterations", "1000", delay=delay)
        assert code == 0, f"spaces exited with {code} after SIGTERM {delay}s after its port line"
        assert seconds < 10
    finally:
        shutil.rmtree(data, ignore_errors=True)
