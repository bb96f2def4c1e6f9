"""A SpacesApp worker like the original mock_app.py, for the spaces end-to-end tests.

It connects with transports=['websocket', 'polling'] (configurable), emits `register {space_name}` on connect,
prints "Registration successful!" on `register_response.success`, processes `inference_request` one at a time
and answers `inference_result {request_id, status: "completed", result: {text_output, confidence, model_used,
processing_time_seconds, tokens_used, timestamp}}`.

Used in-process (SyncWorker, AsyncWorker) and as a program, so that a test can SIGKILL it mid-request:
    python spaces_mock_app.py --url http://127.0.0.1:5001 --space "Echo" [--delay 5] [--name w1]
It prints "processing <request_id>" when it starts a request and "done <request_id>" when it answered.
"""
import argparse
import asyncio
import datetime
import hashlib
import queue
import sys
import threading
import time

import requests
import socketio

_say_lock = threading.Lock()


def say(line):
    """Prints one whole line: the Socket.IO handler thread and the processing thread print concurrently, and print()
    writes the text and its newline apart (a register_response followed at once by an inference_request printed
    "Registration successful!processing ..." on one line)."""
    with _say_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def make_result(request, worker_name, started, extra=None):
    payload = request.get("payload") or {}
    prompt = payload.get("prompt", "")
    result = {
        "text_output": f"echo: {prompt}",
        "confidence": 0.99,
        "model_used": worker_name,
        "processing_time_seconds": round(time.monotonic() - started, 3),
        "tokens_used": len(prompt.split()),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    if extra:
        result.update(extra)
    return result


def download_files(payload):
    """sha256 of every file URL in the payload (the worker fetches them like a real one would)."""
    hashes = {}
    for key in ("audio", "video", "file"):
        url = payload.get(key)
        if url and url.startswith("http") and "/uploads/" in url:
            response = requests.get(url, timeout=10)
            hashes[key] = hashlib.sha256(response.content).hexdigest() if response.ok else f"http {response.status_code}"
    return hashes


class Behaviour:
    """What the worker does with each request: delay, answer or stay silent, extras."""

    def __init__(self, delay=0.0, silent=False, status="completed", download=False, upload_result=None,
                 inline_bytes=0, progress=False):
        self.delay = delay
        self.silent = silent
        self.status = status
        self.download = download
        self.upload_result = upload_result  # bytes to upload with /api/upload
        self.inline_bytes = inline_bytes  # size of an inline base64 "image" in the result
        self.progress = progress


class SyncWorker:
    """A python-socketio (sync) worker; requests are processed one at a time on a thread of its own."""

    def __init__(self, url, space_name, name="sync-worker", transports=("websocket", "polling"), behaviour=None,
                 register_extra=None, auth=None, reconnection=False):
        self.url = url
        self.space_name = space_name
        self.name = name
        self.transports = list(transports)
        self.behaviour = behaviour or Behaviour()
        self.register_extra = register_extra or {}
        self.auth = auth
        self.responses = []
        self.received = []
        self.done = []
        self.disconnected = threading.Event()
        self.registered = threading.Event()
        self.refused = threading.Event()
        self.jobs = queue.Queue()
        self.sio = socketio.Client(reconnection=reconnection)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("register_response", self._on_register_response)
        self.sio.on("inference_request", self._on_request)
        self.thread = threading.Thread(target=self._process, daemon=True)
        self.thread.start()

    def start(self, wait=True, timeout=10):
        self.sio.connect(self.url, transports=self.transports, auth=self.auth, wait_timeout=timeout)
        if wait:
            assert self.registered.wait(timeout), f"{self.name} not registered: {self.responses}"
        return self

    def stop(self):
        self.jobs.put(None)
        try:
            self.sio.disconnect()
        except Exception:
            pass

    def register(self, data=None):
        self.sio.emit("register", data if data is not None else {"space_name": self.space_name, **self.register_extra})

    def _on_connect(self):
        self.register()

    def _on_disconnect(self, *args):
        self.disconnected.set()

    def _on_register_response(self, data):
        self.responses.append(data)
        if data.get("success"):
            say("Registration successful!")
            self.registered.set()
        else:
            self.refused.set()

    def _on_request(self, data):
        self.received.append(data)
        self.jobs.put(data)

    def _process(self):
        while True:
            request = self.jobs.get()
            if request is None:
                return
            self.handle(request)

    def handle(self, request):
        b = self.behaviour
        started = time.monotonic()
        request_id = request["request_id"]
        say(f"processing {request_id}")
        if b.progress:
            self.sio.emit("inference_progress", {"request_id": request_id, "progress": 50, "message": "halfway"})
        if b.delay:
            time.sleep(b.delay)
        if b.silent:
            return
        extra = {}
        if b.download:
            extra["file_hashes"] = download_files(request.get("payload") or {})
        if b.upload_result is not None:
            response = requests.post(request["upload_url"], data={"request_id": request_id, "token": request["token"]},
                                     files={"file": ("result.bin", b.upload_result, "application/octet-stream")},
                                     timeout=10)
            extra["upload_status"] = response.status_code
            extra["file_url"] = response.json().get("url")
        if b.inline_bytes:
            import base64
            extra["image"] = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"x" * (b.inline_bytes - 4)).decode()
        result = make_result(request, self.name, started, extra)
        try:
            self.sio.emit("inference_result", {"request_id": request_id, "status": b.status, "result": result})
        except socketio.exceptions.BadNamespaceError:
            return  # disconnected meanwhile (the test stopped us, or the server went away)
        self.done.append(request_id)
        say(f"done {request_id}")


class AsyncWorker:
    """The same worker on python-socketio's AsyncClient, in an event loop on a thread of its own."""

    def __init__(self, url, space_name, name="async-worker", transports=("websocket", "polling"), behaviour=None):
        self.url = url
        self.space_name = space_name
        self.name = name
        self.transports = list(transports)
        self.behaviour = behaviour or Behaviour()
        self.responses = []
        self.received = []
        self.done = []
        self.registered = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sio = None

    def start(self, timeout=10):
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout)
        assert self.registered.wait(timeout), f"{self.name} not registered: {self.responses}"
        return self

    async def _start(self):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.jobs = asyncio.Queue()

        @self.sio.event
        async def connect():
            await self.sio.emit("register", {"space_name": self.space_name})

        @self.sio.event
        async def register_response(data):
            self.responses.append(data)
            if data.get("success"):
                say("Registration successful!")
                self.registered.set()

        @self.sio.event
        async def inference_request(data):
            self.received.append(data)
            await self.jobs.put(data)

        self.processor = asyncio.ensure_future(self._process())
        await self.sio.connect(self.url, transports=self.transports, wait_timeout=10)

    async def _process(self):
        while True:
            request = await self.jobs.get()
            started = time.monotonic()
            if self.behaviour.delay:
                await asyncio.sleep(self.behaviour.delay)
            result = make_result(request, self.name, started)
            await self.sio.emit("inference_result", {"request_id": request["request_id"], "status": "completed",
                                                     "result": result})
            self.done.append(request["request_id"])

    def stop(self):
        async def _stop():
            self.processor.cancel()
            await self.sio.disconnect()
        try:
            asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--space", required=True)
    parser.add_argument("--name", default="mock-app")
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--transports", default="websocket,polling")
    parser.add_argument("--reconnect", action="store_true")
    args = parser.parse_args()
    worker = SyncWorker(args.url, args.space, name=args.name, transports=args.transports.split(","),
                        behaviour=Behaviour(delay=args.delay), reconnection=args.reconnect)
    worker.start()
    try:
        while True:
            time.sleep(1)
            if worker.disconnected.is_set() and not args.reconnect:
                say("disconnected")
                return
    except KeyboardInterrupt:
        worker.stop()


if __name__ == "__main__":
    sys.exit(main())
