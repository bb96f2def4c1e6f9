"""Support for spaces_pages_test.py: the `spaces` server on a free port, HTTP shortcuts (users, spaces, sessions
handed to browser contexts), a small media server for result URLs, Chromium through Playwright, and the
MutationObserver that records what a request's list item shows, render by render.
"""
import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import requests

from page_worker import TINY_PNG, wav_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("SPACES_BIN_DIR", os.path.join(ROOT, ".build", "release"))
SPACES = os.path.join(BIN_DIR, "spaces")
ADMIN_PASSWORD = "admin-pages-pw"
SESSION_COOKIE = "spaces_session"
# Every browser-side wait: generous for a loaded 2-core machine, still bounded.
WAIT_MS = 20_000


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class SpacesServer:
    """`spaces` on a free port with a temporary data folder; its log goes to `<data>/server.log`."""

    def __init__(self, binary=SPACES, extra_args=(), scheme="http", verify=True):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.scheme = scheme
        self.verify = verify  # for the requests shortcuts: a CA file over https
        self.data_dir = tempfile.mkdtemp(prefix="spaces-pages-")
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.proc = None
        self.port = None

    def start(self, timeout=30):
        if not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} is missing: swift build -c release --product spaces "
                               f"(or set SPACES_BIN_DIR)")
        self.log = open(self.log_path, "w")
        command = [self.binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", os.path.join(self.data_dir, "data"),
                   "--admin-password", ADMIN_PASSWORD, "--pbkdf2-iterations", "1000", "--loops", "2",
                   *self.extra_args]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = threading.Event()

        def read():  # reads up to the "listening" line, then drains stdout so that the server never blocks on it
            for line in self.proc.stdout:
                self.log.write(line)
                self.log.flush()
                match = re.search(r"listening on port (\d+)", line)
                if match and not ready.is_set():
                    self.port = int(match.group(1))
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"spaces did not start within {timeout}s; see {self.log_path}")
        return self

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def cleanup(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- HTTP shortcuts (the pages under test are driven by the browser; setup goes the short way) ----

    def login(self, username, password):
        session = requests.Session()
        session.verify = self.verify
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace `verify`
        response = session.post(self.url + "/login", data={"username": username, "password": password},
                                allow_redirects=False, timeout=15)
        assert response.status_code == 302, (response.status_code, response.text[:500])
        session.username = username
        session.password = password
        return session

    def admin(self):
        return self.login("admin", ADMIN_PASSWORD)

    def new_user(self, name=None):
        name = name or unique("user")
        password = "pw-" + name
        response = requests.post(self.url + "/register", data={"username": name, "password": password},
                                 allow_redirects=False, timeout=15)
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return self.login(name, password)

    def create_space(self, name=None, session=None, **fields):
        """A websockets space with the prompt enabled (unless `fields` say otherwise); returns (id, name)."""
        session = session or self.admin()
        data = {"name": name or unique("space"), "description": "A space for the page tests.",
                "card_type": "websockets", "ws_enable_prompt": "on", "ws_rate_limit_seconds": "0"}
        data.update(fields)
        data = {key: value for key, value in data.items() if value is not None and value is not False}
        response = session.post(self.url + "/admin/space/add", data=data, allow_redirects=False, timeout=15)
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]), data["name"]

    def submit(self, session, space_id, prompt):
        response = session.post(f"{self.url}/websockets/submit/{space_id}", data={"prompt": prompt},
                                headers={"Accept": "application/json"}, timeout=15)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return response.json()["request_id"]

    def status(self, session, request_id):
        return session.get(self.url + "/websockets/status", params={"request_id": request_id}, timeout=15).json()

    def wait_status(self, session, request_id, want, timeout=20):
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            body = self.status(session, request_id)
            if body.get("status") in want:
                return body
            time.sleep(0.05)
        raise AssertionError(f"{request_id} did not reach {want}: {body}")

    def cookies_for(self, session):
        """The session cookie of a logged-in requests.Session, for BrowserContext.add_cookies."""
        value = session.cookies.get(SESSION_COOKIE)
        assert value, f"no {SESSION_COOKIE} cookie in {session.cookies}"
        return [{"name": SESSION_COOKIE, "value": value, "url": self.url}]


class MediaServer:
    """Serves /img.png (8x8 PNG) and /a.wav on its own port, for results that link to another host."""

    FILES = {"/img.png": ("image/png", TINY_PNG), "/a.wav": ("audio/wav", wav_bytes())}

    def __init__(self):
        files = self.FILES

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                entry = files.get(self.path.split("?")[0])
                if entry is None:
                    self.send_error(404)
                    return
                content_type, body = entry
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# Records, for every render of a request's list item, the status label, progress bar, progress message and
# result text it showed: whenever nodes are added inside #requests, the ones that are (or contain) those parts
# are read in document order. space.js rebuilds an item's children on each change, so each render shows up.
# window.__renders: [{id, kind, value}] in the order of the mutations.
RECORDER_JS = """
() => {
  if (window.__renders) return;
  window.__renders = [];
  const list = document.getElementById('requests');
  const PARTS = '.status, progress.progress, .progress-message, .result';
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        const li = node.closest('li.request') || (record.target instanceof HTMLElement && record.target.closest('li.request'));
        if (!li) continue;
        const parts = node.matches(PARTS) ? [node] : [];
        parts.push(...node.querySelectorAll(PARTS));
        for (const part of parts) {
          if (part.parentElement && part.parentElement.closest('.result')) continue; // inside a result: part of it
          let kind, value;
          if (part.matches('.result')) { kind = 'result'; value = part.textContent; }
          else if (part.matches('progress.progress')) { kind = 'progress'; value = part.value; }
          else if (part.matches('.progress-message')) { kind = 'message'; value = part.textContent; }
          else {
            kind = 'status';
            const named = [...part.classList].find((c) => c.startsWith('status-'));
            value = named ? named.slice('status-'.length) : li.dataset.status;
          }
          window.__renders.push({ id: li.dataset.requestId || null, kind, value });
        }
      }
    }
  }).observe(list, { childList: true, subtree: true });
}
"""


def renders_of(page, request_id):
    """The renders of one request as (status, progress, message, result) tuples, consecutive repeats merged.

    Renders of an item before space.js set its data-request-id (none in practice) are kept as well."""
    events = page.evaluate("() => window.__renders")
    states = []
    current = None
    for event in events:
        if event["id"] not in (request_id, None):
            continue
        if event["kind"] == "status":
            current = [event["value"], None, None, None]
            states.append(current)
        elif current is not None:
            index = {"progress": 1, "message": 2, "result": 3}[event["kind"]]
            current[index] = event["value"]
    merged = []
    for state in map(tuple, states):
        if not merged or merged[-1] != state:
            merged.append(state)
    return merged
