"""Runs the Python interop tests (pytest) against our release binaries started on free ports.

Every `*_test.py` file in this folder runs in its own pytest process against its own `eio-echo --loops 2`,
so one file that breaks the server cannot fail the others. The files get EIO_PORT (the server's port) and
EIO_PID (its process id, for /proc checks). `socketio_*_test.py` files also get two `sio-echo` servers
(SIO_PORT, SIO_PID, SIO_BIG_PORT; see start_sio_echo). Every file gets BIN_DIR, the folder of the executables.
A server that died during a file counts as a failure.

Usage: python Tests/Interop/run_interop.py --bin .build/release [-k EXPR] [files...]
"""
import argparse
import contextlib
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess  # noqa: E402

FILE_TIMEOUT = 600  # seconds; each file also bounds its own tests with pytest-timeout


# Socket.IO interop files (socketio_*_test.py) also get two sio-echo servers: SIO_PORT with the default
# settings and SIO_BIG_PORT with --max-payload 10000000 (5 MB messages). Heartbeats as in production, so
# that long bursts over polling are not cut by the test suite's 300/200 ms settings.
SIO_ARGS = ["--loops", "2", "--ping-interval", "25000", "--ping-timeout", "20000", "--connect-timeout", "10000"]


def start_sio_echo(bin_dir, name, stack, env):
    """Starts the sio-echo servers a socketio_* file needs, exporting their ports into `env`."""
    if not name.startswith("socketio_"):
        return []
    binary = os.path.join(bin_dir, "sio-echo")
    main_server = stack.enter_context(ServerProcess(binary, *SIO_ARGS))
    big_server = stack.enter_context(ServerProcess(binary, *SIO_ARGS, "--max-payload", "10000000"))
    env.update(SIO_PORT=str(main_server.port), SIO_PID=str(main_server.proc.pid), SIO_BIG_PORT=str(big_server.port))
    return [main_server, big_server]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder holding the built executables")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("files", nargs="*", help="test files (default: every *_test.py here)")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    files = args.files or sorted(glob.glob(os.path.join(here, "*_test.py")))
    if not files:
        print("run_interop: no *_test.py files found", file=sys.stderr)
        sys.exit(1)
    python = sys.executable
    binary = os.path.join(args.bin, "eio-echo")
    failed = []
    for path in files:
        name = os.path.basename(path)
        print(f"=== {name}", flush=True)
        with ServerProcess(binary, "--loops", "2") as server, contextlib.ExitStack() as sio_servers:
            env = dict(os.environ, EIO_PORT=str(server.port), EIO_PID=str(server.proc.pid))
            # spaces_*_test.py files start their own `spaces` servers (temporary data folders, restarts).
            env["SPACES_BIN"] = os.path.join(args.bin, "spaces")
            env["SPACES_WORKER_BIN"] = os.path.join(args.bin, "spaces-worker")
            # Files that start executables of their own (deflate_threshold, command_line_flags) find them here.
            env["BIN_DIR"] = os.path.abspath(args.bin)
            sio = start_sio_echo(args.bin, name, sio_servers, env)
            command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", path]
            if args.keyword:
                command += ["-k", args.keyword]
            try:
                result = subprocess.run(command, env=env, timeout=FILE_TIMEOUT)
                ok = result.returncode == 0
            except subprocess.TimeoutExpired:
                print(f"run_interop: {name} did not finish within {FILE_TIMEOUT}s", file=sys.stderr)
                ok = False
            code = server.proc.poll()
            if code is not None:
                print(f"run_interop: eio-echo died during {name} (exit code {code})", file=sys.stderr)
                ok = False
            for process in sio:
                code = process.proc.poll()
                if code is not None:
                    print(f"run_interop: sio-echo died during {name} (exit code {code})", file=sys.stderr)
                    ok = False
        if not ok:
            failed.append(name)
    print(f"run_interop: {len(files) - len(failed)} of {len(files)} files passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
