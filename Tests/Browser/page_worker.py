"""A SpacesApp worker for the page tests (spaces_pages_test.py): a python-socketio client that registers for one
space and answers each `inference_request` according to its prompt, so that a test chooses what the page has to
render, and when.

Prompts (the `prompt` field of the request's payload):

    text:<words>     completed, {text_output: "<words>"}
    image            completed, {image: "data:image/png;base64,<an 8x8 PNG>"}
    image:<caption>  completed, {text_output: "<caption>", image: "data:image/png;base64,<a 320x180 PNG>"}
    image_url        completed, {image_url: "<media_base>/img.png"}
    audio            completed, {audio_url: "<media_base>/a.wav"}
    video            completed, {video_url: "<media_base>/v.mp4"}
    file             completed, {files: [{url: "<media_base>/notes.txt", name: "notes.txt"}]}
    json             completed, {foo: [1, 2], bar: {baz: true}}
    fail             failed,    {error: "boom"}
    xss              completed, text, image, file and audio values that would run script if rendered as HTML/URLs
    hold:<tag>       sends inference_progress {progress: 0.25, message: "step 1"}, waits for step(tag),
                     sends {progress: 0.5, message: "step 2"}, waits for step(tag), then completes with
                     {text_output: "released <tag>"}. release(tag) opens every remaining step at once.
    anything else    completed, {text_output: "echo: <prompt>"}

`answers` ({prompt: Answer}) overrides these for given prompts (the screenshot test uses it for readable prompts).

The server gives a worker one request at a time (max_concurrency 1), so while a `hold:` request waits, later
requests of the space stay queued: tests use this to observe `queued` and to cancel deterministically.
"""
import base64
import struct
import threading
import time
import zlib

import socketio

# A held request never waits longer than this, so that a failed test cannot leave the worker stuck forever.
HOLD_LIMIT_SECONDS = 90

XSS_TEXT = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>"
XSS_RESULT = {
    "text_output": XSS_TEXT,
    "image_url": "javascript:window.__pwned=1",
    "files": [{"url": "javascript:alert(1)", "name": "evil"}],
    "audio_url": "javascript:alert(2)",
}
JSON_RESULT = {"foo": [1, 2], "bar": {"baz": True}}


def png_bytes(width, height, pixel):
    """A truecolour PNG; `pixel(x, y)` gives (r, g, b)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))


def data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


TINY_PNG = png_bytes(8, 8, lambda x, y: (40, 120, 220) if (x + y) % 2 else (250, 200, 40))
# A soft diagonal gradient with a few bands: something recognisable in the README screenshots.
PICTURE_PNG = png_bytes(320, 180, lambda x, y: (
    min(255, 60 + x * 190 // 320), min(255, 90 + y * 120 // 180), 200 - ((x + 2 * y) // 40 % 2) * 40))


def wav_bytes(samples=800, rate=8000):
    """A short silent mono 8-bit WAV."""
    data = bytes([128]) * samples
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
            + b"data" + struct.pack("<I", len(data)) + data)


DEFAULT_STEPS = ((0.25, "step 1"), (0.5, "step 2"))


class Answer:
    """A scripted answer: `result` with `status`; with `hold` (a tag), the progress `steps` come first, each
    followed by a wait for step(tag) / release(tag), as for `hold:<tag>`."""

    def __init__(self, result, status="completed", hold=None, steps=DEFAULT_STEPS):
        self.result = result
        self.status = status
        self.hold = hold
        self.steps = steps


class Hold:
    """The steps of one `hold:<tag>` request: a semaphore the test signals, or `open` for all remaining steps."""

    def __init__(self):
        self.steps = threading.Semaphore(0)
        self.open = threading.Event()
        self.started = threading.Event()

    def wait(self):
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not self.open.is_set():
            if self.steps.acquire(timeout=0.05):
                return
            if time.monotonic() > deadline:
                return


class PageWorker:
    """One worker for one space. `start()` connects and waits for `register_response.success`."""

    def __init__(self, url, space_name, token=None, name="page-worker", media_base=None,
                 transports=("websocket", "polling"), answers=None):
        self.url = url
        self.answers = answers or {}
        self.space_name = space_name
        self.token = token
        self.name = name
        self.media_base = media_base or url
        self.transports = list(transports)
        self.responses = []
        self.received = []
        self.answered = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.registered = threading.Event()
        self.refused = threading.Event()
        self.holds = {}
        self.jobs = []
        self.stopping = False
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("connect", self._on_connect)
        self.sio.on("register_response", self._on_register_response)
        self.sio.on("inference_request", self._on_request)
        self.thread = threading.Thread(target=self._process, name=f"{name}-jobs", daemon=True)
        self.thread.start()

    # ---- Life cycle ----

    def start(self, timeout=15, wait=True):
        self.sio.connect(self.url, transports=self.transports, wait_timeout=timeout)
        if wait and not self.registered.wait(timeout):
            raise AssertionError(f"{self.name} was not registered for {self.space_name!r}: {self.responses}")
        return self

    def stop(self):
        with self.lock:
            self.stopping = True
            for hold in self.holds.values():
                hold.open.set()
            self.changed.notify_all()
        try:
            self.sio.disconnect()
        except Exception:
            pass
        self.thread.join(5)

    # ---- What the test controls and observes ----

    def _hold(self, tag):
        with self.lock:
            return self.holds.setdefault(tag, Hold())

    def step(self, tag):
        """Lets the held request `tag` go on to its next step."""
        self._hold(tag).steps.release()

    def release(self, tag):
        """Lets the held request `tag` run to the end."""
        self._hold(tag).open.set()

    def wait_held(self, tag, timeout=20):
        """Waits until the worker has received `hold:<tag>` (and sent its first progress)."""
        if not self._hold(tag).started.wait(timeout):
            raise AssertionError(f"{self.name} never received hold:{tag}; received {self.prompts}")

    @property
    def prompts(self):
        with self.lock:
            return [(request.get("payload") or {}).get("prompt") for request in self.received]

    def wait_answered(self, count, timeout=20):
        """Waits until the worker has answered `count` requests in all."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.answered) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name} answered {len(self.answered)} of {count}: {self.answered}")
                self.changed.wait(left)

    # ---- Socket.IO ----

    def _on_connect(self):
        data = {"space_name": self.space_name}
        if self.token is not None:
            data["token"] = self.token
        self.sio.emit("register", data)

    def _on_register_response(self, data):
        self.responses.append(data)
        (self.registered if data.get("success") else self.refused).set()

    def _on_request(self, data):
        with self.lock:
            self.received.append(data)
            self.jobs.append(data)
            self.changed.notify_all()

    def _process(self):
        while True:
            with self.lock:
                while not self.jobs and not self.stopping:
                    self.changed.wait()
                if self.stopping:
                    return
                request = self.jobs.pop(0)
            try:
                self._handle(request)
            except socketio.exceptions.BadNamespaceError:
                return  # disconnected meanwhile

    def _emit(self, event, data):
        self.sio.emit(event, data)

    def _answer(self, prompt):
        """The answer to a prompt of the little language in the module's docstring."""
        if prompt.startswith("text:"):
            return Answer({"text_output": prompt[len("text:"):]})
        if prompt == "image":
            return Answer({"image": data_url(TINY_PNG)})
        if prompt.startswith("image:"):
            return Answer({"text_output": prompt[len("image:"):], "image": data_url(PICTURE_PNG)})
        if prompt == "image_url":
            return Answer({"image_url": self.media_base + "/img.png"})
        if prompt == "audio":
            return Answer({"audio_url": self.media_base + "/a.wav"})
        if prompt == "video":
            return Answer({"video_url": self.media_base + "/v.mp4"})
        if prompt == "file":
            return Answer({"files": [{"url": self.media_base + "/notes.txt", "name": "notes.txt"}]})
        if prompt == "json":
            return Answer(dict(JSON_RESULT))
        if prompt == "fail":
            return Answer({"error": "boom"}, status="failed")
        if prompt == "xss":
            return Answer(dict(XSS_RESULT))
        if prompt.startswith("hold:"):
            tag = prompt[len("hold:"):]
            return Answer({"text_output": f"released {tag}"}, hold=tag)
        return Answer({"text_output": f"echo: {prompt}"})

    def _handle(self, request):
        request_id = request["request_id"]
        prompt = str((request.get("payload") or {}).get("prompt") or "")
        answer = self.answers.get(prompt) or self._answer(prompt)
        if answer.hold is not None:
            hold = self._hold(answer.hold)
            for number, (progress, message) in enumerate(answer.steps):
                self._emit("inference_progress", {"request_id": request_id, "progress": progress, "message": message})
                if number == 0:
                    hold.started.set()
                hold.wait()
        status, result = answer.status, answer.result
        self._emit("inference_result", {"request_id": request_id, "status": status, "result": result})
        with self.lock:
            self.answered.append((request_id, prompt))
            self.changed.notify_all()
