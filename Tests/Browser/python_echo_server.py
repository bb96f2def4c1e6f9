"""A python-socketio server (aiohttp) with the handlers of sio-echo that the browser tests drive, so that the
same pages run against it: on connection `auth` (the handshake auth), `message` → `message-back`,
`message-with-ack` → ack, `emit-with-ack` → asks the client and emits its answer, `echo` → `echo`,
`echo-ack` → ack, `server-disconnect`, `drop-connection`; the same on `/custom`.
No connection state recovery (python-socketio has none): the pages skip those tests.

Usage: python_echo_server.py [--port P] [--ping-interval MS] [--ping-timeout MS]
Prints "listening on port N" once ready (Tests/Interop/server_process.py reads it). SIGTERM ends the process at
once, connections and all, as a crash or a restart would: the reconnection tests restart it on the same port
(aiohttp's graceful shutdown would wait for the open WebSockets).
"""
import argparse
import asyncio
import os
import signal
import socket
import sys

import socketio
from aiohttp import web


class _WholeBody:
    """`read(n)` that returns all n bytes. python-engineio's aiohttp driver reads a polling POST with
    `request.content.read(length)`, which returns what has arrived so far: a body that comes in several
    pieces (a 32 KB binary as base64, on a loaded machine) is cut short and fails to decode ("Incorrect
    padding"), and the page's test then times out. A fault of this peer, not of the client under test."""

    def __init__(self, content):
        self.content = content

    async def read(self, length=-1):
        if length is None or length < 0:
            return await self.content.read()
        return await self.content.readexactly(length)


def read_whole_polling_bodies(sio):
    translate = sio.eio._async["translate_request"]

    def whole(request):
        environ = translate(request)
        environ["wsgi.input"] = _WholeBody(environ["wsgi.input"])
        return environ

    sio.eio._async = dict(sio.eio._async, translate_request=whole)


def build(ping_interval_ms, ping_timeout_ms):
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", ping_interval=ping_interval_ms / 1000,
                               ping_timeout=ping_timeout_ms / 1000, max_http_buffer_size=10_000_000)
    read_whole_polling_bodies(sio)

    def install(ns):
        @sio.on("connect", namespace=ns)
        async def connect(sid, environ, auth):
            await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=ns)

        @sio.on("message", namespace=ns)
        async def message(sid, *args):
            await sio.emit("message-back", tuple(args), to=sid, namespace=ns)

        @sio.on("message-with-ack", namespace=ns)
        async def message_with_ack(sid, *args):
            return tuple(args)

        @sio.on("emit-with-ack", namespace=ns)
        async def emit_with_ack(sid, *args):
            answer = await sio.call("emit-with-ack", tuple(args), to=sid, namespace=ns, timeout=10)
            await sio.emit("emit-with-ack", answer if isinstance(answer, tuple) else (answer,), to=sid, namespace=ns)

        @sio.on("echo", namespace=ns)
        async def echo(sid, *args):
            await sio.emit("echo", tuple(args), to=sid, namespace=ns)

        @sio.on("echo-ack", namespace=ns)
        async def echo_ack(sid, *args):
            return tuple(args)

        @sio.on("server-disconnect", namespace=ns)
        async def server_disconnect(sid, *args):
            await sio.disconnect(sid, namespace=ns)

        @sio.on("drop-connection", namespace=ns)
        async def drop_connection(sid, *args):
            await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, ns))

    install("/")
    install("/custom")
    return sio


async def serve(port, ping_interval, ping_timeout):
    app = web.Application()
    build(ping_interval, ping_timeout).attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    # A port we bind ourselves, so that the same port can be asked for again after a restart.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    site = web.SockSite(runner, listener)
    await site.start()
    print(f"python-socketio listening on port {listener.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    sys.stdout.flush()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ping-interval", type=int, default=25000)
    parser.add_argument("--ping-timeout", type=int, default=20000)
    args, _ = parser.parse_known_args()  # sio-echo flags the harness passes to both servers are ignored
    asyncio.run(serve(args.port, args.ping_interval, args.ping_timeout))


if __name__ == "__main__":
    main()
