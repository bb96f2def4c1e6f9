"""Runs the Python interop tests (pytest) against our release binaries started on free ports.

Every `*_test.py` file in this folder runs in its own pytest process against its own `eio-echo --loops 2`,
so one file that breaks the server cannot fail the others. The files get EIO_PORT (the server's port) and
EIO_PID (its process id, for /proc checks). A server that died during a file counts as a failure.

Usage: python Tests/Interop/run_interop.py --bin .build/release [-k EXPR] [files...]
"""
import argparse
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import ServerProcess  # noqa: E402

FILE_TIMEOUT = 600  # seconds; each file also bounds its own tests with pytest-timeout


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
        with ServerProcess(binary, "--loops", "2") as server:
            env = dict(os.environ, EIO_PORT=str(server.port), EIO_PID=str(server.proc.pid))
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
        if not ok:
            failed.append(name)
    print(f"run_interop: {len(files) - len(failed)} of {len(files)} files passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
