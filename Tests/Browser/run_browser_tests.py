"""Runs a Socket.IO browser client in headless Chromium against a server, through the test page tests.js:
the official socket.io JS client (4.x browser build, --client official, the default) or our own (--client ours:
the socket.io.js that sio-echo serves at /socket.io/socket.io.js), against our sio-echo (--server sio-echo, the
default) or a python-socketio server (--server python-socketio: Tests/Browser/python_echo_server.py, without
the connection state recovery tests, which python-socketio does not support).

- socket.io.min.js comes from a PyPI wheel that ships it (nicegui: nicegui/static/socket.io.min.js),
  fetched with `pip download --no-deps` into a temporary folder at each run; it is never committed.
  --socketio-js PATH uses a local copy instead.
- Chromium is the Debian package `chromium` (the Makefile's browser-test target installs it when missing);
  CHROMIUM=/path overrides which executable runs.
- A small HTTP server here (its own port, so polling runs cross-origin against sio-echo's CORS) serves
  index.html, tests.js and socket.io.min.js; the page runs the tests (tests.js) and POSTs each result back.
- Every wait is bounded (--timeout for the browser part); Chromium and sio-echo are stopped at the end.

Prints one line per test, then `N passed, M failed`; exits non-zero on any failure.

Usage: python Tests/Browser/run_browser_tests.py --bin .build/release [--client official|ours]
       [--server sio-echo|python-socketio] [--socketio-js FILE] [--timeout S]
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Interop"))
from server_process import ServerProcess  # noqa: E402

# The wheel that ships the client; pinned so that a run is reproducible (falls back to the newest release).
CLIENT_WHEEL = "nicegui"
CLIENT_WHEEL_VERSION = "3.18.0"
CLIENT_MEMBER_SUFFIX = "/socket.io.min.js"

# Heartbeats short enough that the page sees several pings, long enough for a loaded machine.
SIO_ARGS = ["--loops", "2", "--ping-interval", "500", "--ping-timeout", "5000", "--connect-timeout", "10000",
            "--connection-state-recovery"]


def log(message):
    print(f"browser-test: {message}", flush=True)


def fetch_client(workdir):
    """Downloads the wheel into `workdir` and returns the bytes of the socket.io browser build inside it."""
    for spec in (f"{CLIENT_WHEEL}=={CLIENT_WHEEL_VERSION}", CLIENT_WHEEL):
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                   "--disable-pip-version-check", "-q", "-d", workdir, spec]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            log(f"pip download {spec} timed out")
            continue
        if result.returncode != 0:
            log(f"pip download {spec} failed: {result.stderr.strip()[-500:]}")
            continue
        for name in sorted(os.listdir(workdir)):
            if not (name.startswith(CLIENT_WHEEL + "-") and name.endswith(".whl")):
                continue
            with zipfile.ZipFile(os.path.join(workdir, name)) as wheel:
                members = [m for m in wheel.namelist() if m.endswith(CLIENT_MEMBER_SUFFIX)]
                if members:
                    log(f"client: {members[0]} from {name}")
                    return wheel.read(members[0])
        log(f"no *{CLIENT_MEMBER_SUFFIX} in the {spec} wheel")
    raise RuntimeError(f"could not get socket.io.min.js from the {CLIENT_WHEEL} wheel")


def fetch_our_client(bin_dir):
    """The client sio-echo serves at /socket.io/socket.io.js (minified, as a page would load it)."""
    with ServerProcess(os.path.join(bin_dir, "sio-echo"), *SIO_ARGS) as server:
        url = f"http://127.0.0.1:{server.port}/socket.io/socket.io.js"
        with urllib.request.urlopen(url, timeout=30) as response:
            content_type = response.headers.get("Content-Type", "")
            if not content_type.startswith("application/javascript"):
                raise RuntimeError(f"{url} has Content-Type {content_type!r}")
            return response.read()


def start_server(name, bin_dir):
    if name == "python-socketio":
        return ServerProcess(sys.executable, os.path.join(HERE, "python_echo_server.py"), *SIO_ARGS)
    return ServerProcess(os.path.join(bin_dir, "sio-echo"), *SIO_ARGS)


def find_chromium():
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise RuntimeError("no chromium found: install the Debian package `chromium` (make browser-test does)")


class Results:
    """What the page reported; shared between the HTTP handler threads and the main thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.plan = None
        self.client = None
        self.results = {}  # name -> (ok, detail, ms)
        self.order = []
        self.messages = []
        self.done = threading.Event()


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # Chromium going away mid keep-alive
            super().handle_error(request, client_address)


def make_handler(files, results):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body=b"", content_type="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/":
                path = "/index.html"
            entry = files.get(path)
            if entry is None:
                self.reply(404, b"not found")
            else:
                self.reply(200, entry[1], entry[0])

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self.reply(400, b"bad json")
                return
            with results.lock:
                if self.path == "/plan":
                    results.plan = list(body.get("tests", []))
                    results.client = body.get("client")
                elif self.path == "/result":
                    name = str(body.get("name"))
                    if name not in results.results:
                        results.order.append(name)
                    results.results[name] = (bool(body.get("ok")), str(body.get("detail", "")), body.get("ms"))
                elif self.path == "/log":
                    results.messages.append(str(body.get("message")))
                elif self.path == "/done":
                    results.done.set()
                else:
                    self.reply(404, b"not found")
                    return
            self.reply(204)

    return Handler


def chromium_command(chromium, profile, url):
    return [
        chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
        "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows", "--mute-audio", "--password-store=basic",
        f"--user-data-dir={profile}", url,
    ]


def stop_chromium(proc):
    """Ends Chromium and its helpers: they all run in the process group started for it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # helpers that outlived the browser process
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder holding the built executables")
    parser.add_argument("--client", choices=["official", "ours"], default="official",
                        help="official: socket.io.min.js from the nicegui wheel; ours: what sio-echo serves")
    parser.add_argument("--server", choices=["sio-echo", "python-socketio"], default="sio-echo")
    parser.add_argument("--socketio-js", help="use this socket.io.min.js instead of downloading the wheel")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds for the browser to run every test")
    parser.add_argument("--step-timeout", type=int, default=10000, help="ms for one test step in the page")
    args = parser.parse_args()
    started = time.monotonic()

    failures = []  # harness problems, counted as failed tests
    with tempfile.TemporaryDirectory(prefix="browser-test-") as workdir:
        if args.socketio_js:
            with open(args.socketio_js, "rb") as f:
                client = f.read()
        elif args.client == "ours":
            client = fetch_our_client(args.bin)
        else:
            client = fetch_client(os.path.join(workdir, "wheel"))
        if args.client == "official":
            banner = client[:200].decode("utf-8", "replace")
            if "Socket.IO v4." not in banner:
                raise RuntimeError(f"socket.io.min.js is not a 4.x build: {banner[:80]!r}")
            log(f"client: {banner.split('Socket.IO', 1)[1].split()[0]}")
        else:
            log(f"client: ours, {len(client)} bytes as served")
        log(f"server: {args.server}")
        chromium = find_chromium()
        version = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        log(f"browser: {version}")

        files = {"/socket.io.min.js": ("application/javascript", client)}
        for name, content_type in (("index.html", "text/html; charset=utf-8"), ("tests.js", "application/javascript")):
            with open(os.path.join(HERE, name), "rb") as f:
                files["/" + name] = (content_type, f.read())
        results = Results()
        httpd = QuietHTTPServer(("127.0.0.1", 0), make_handler(files, results))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

        with start_server(args.server, args.bin) as server:
            url = (f"http://127.0.0.1:{httpd.server_address[1]}/?server=http://127.0.0.1:{server.port}"
                   f"&stepTimeout={args.step_timeout}"
                   + ("&recovery=0&largeKB=32" if args.server == "python-socketio" else ""))
            profile = os.path.join(workdir, "profile")
            chromium_log_path = os.path.join(workdir, "chromium.log")
            with open(chromium_log_path, "wb") as chromium_log:
                browser = subprocess.Popen(chromium_command(chromium, profile, url), stdin=subprocess.DEVNULL,
                                           stdout=chromium_log, stderr=subprocess.STDOUT, start_new_session=True)
                try:
                    deadline = time.monotonic() + args.timeout
                    while not results.done.wait(0.2):
                        if browser.poll() is not None:
                            failures.append(f"chromium exited early (code {browser.returncode})")
                            break
                        if time.monotonic() > deadline:
                            failures.append(f"the page did not finish within {args.timeout:.0f}s")
                            break
                finally:
                    stop_chromium(browser)
            if server.proc.poll() is not None:
                failures.append(f"{args.server} died during the tests (code {server.proc.returncode})")
            try:
                code = server.stop()
                if code not in (0, None):
                    failures.append(f"{args.server} exited with code {code} on SIGTERM")
            except RuntimeError as error:
                failures.append(str(error))
        httpd.shutdown()
        httpd.server_close()

        with results.lock:
            plan = results.plan
            reported = dict(results.results)
            order = list(results.order)
            messages = list(results.messages)
        if plan is None:
            failures.append("the page never reported its test plan (did it load?)")
            plan = []
        passed = failed = 0
        for name in plan + [n for n in order if n not in plan]:
            if name in reported:
                ok, detail, ms = reported[name]
            else:
                ok, detail, ms = False, "no result reported", None
            timing = f" ({ms} ms)" if ms is not None else ""
            print(f"{'PASS' if ok else 'FAIL'} {name}{timing}{'' if ok else ': ' + detail}", flush=True)
            passed += ok
            failed += not ok
        for message in messages:
            log(f"page: {message}")
            if message.startswith(("uncaught error", "unhandled rejection")):
                failures.append(f"page {message}")
        for failure in failures:
            print(f"FAIL harness: {failure}", flush=True)
        failed += len(failures)
        if failed:
            with open(chromium_log_path, "rb") as f:
                tail = f.read().decode("utf-8", "replace").splitlines()[-30:]
            log("chromium output (last lines):\n" + "\n".join(tail))
    log(f"finished in {time.monotonic() - started:.1f}s")
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a setup problem: still end on the summary line
        print(f"FAIL harness: {type(error).__name__}: {error}", flush=True)
        print("0 passed, 1 failed", flush=True)
        sys.exit(1)
