"""Runs the Autobahn fuzzing-client cases (scripts/autobahn.sh, through kosoku) against eio-echo's /echo.

Starts `eio-echo --loops 2` on a free port, runs `scripts/autobahn.sh ws://127.0.0.1:PORT/echo` and exits
with its status (also non-zero when the server died or the run exceeded --timeout seconds). kosoku is
taken from the virtualenv of the Python running this script (KOSOKU_VENV is set to it), so
`.venv/bin/python Tests/Interop/run_autobahn.py --bin .build/release` uses the project venv; when that
venv lacks kosoku, autobahn.sh installs it into /tmp/kosoku-venv instead.

Extra arguments are not passed through; use the AUTOBAHN_* variables autobahn.sh documents
(AUTOBAHN_CASES, AUTOBAHN_EXCLUDE, AUTOBAHN_PARALLELISM, AUTOBAHN_REPORT_DIR).
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server_process import ServerProcess  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def has_kosoku(python):
    try:
        return subprocess.run([python, "-c", "import kosoku"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder holding the built executables")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before the run is abandoned")
    args = parser.parse_args()

    env = dict(os.environ)
    venv = sys.prefix  # the virtualenv root when run from one (autobahn.sh uses $KOSOKU_VENV/bin/python)
    if "KOSOKU_VENV" not in env and os.path.exists(os.path.join(venv, "bin", "python")) \
            and has_kosoku(os.path.join(venv, "bin", "python")):
        env["KOSOKU_VENV"] = venv
    env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env.get("PATH", "")

    script = os.path.join(REPO, "scripts", "autobahn.sh")
    with ServerProcess(os.path.join(args.bin, "eio-echo"), "--loops", "2") as server:
        url = f"ws://127.0.0.1:{server.port}/echo"
        print(f"run_autobahn: {script} {url} (kosoku from {env.get('KOSOKU_VENV', '/tmp/kosoku-venv')})",
              flush=True)
        try:
            status = subprocess.run(["bash", script, url], env=env, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            print(f"run_autobahn: autobahn.sh did not finish within {args.timeout:.0f}s", file=sys.stderr)
            status = 1
        code = server.proc.poll()
        if code is not None:
            print(f"run_autobahn: eio-echo died during the run (exit code {code})", file=sys.stderr)
            status = status or 1
    sys.exit(status)


if __name__ == "__main__":
    main()
