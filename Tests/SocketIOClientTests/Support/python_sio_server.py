"""A python-socketio AsyncServer (aiohttp) for the Swift client's interop tests.

Usage: python_sio_server.py [--port P] [--ping-interval S] [--ping-timeout S] [--certfile F --keyfile F]
Prints "listening on port N" once ready. The handlers match ClientTestApp in ClientTestServer.swift:
welcome on connect, echo, echo-ack, ignore, ask-client (server-to-client ack), server-disconnect, burst,
count, transport; /restricted admits only auth {"token": "secret"}.
"""
import argparse
import asyncio
import os
import signal
import ssl
import sys
import threading

import socketio
from aiohttp import web


def build(ping_interval, ping_timeout):
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", ping_interval=ping_interval,
                               ping_timeout=ping_timeout, max_http_buffer_size=10_000_000)

    def install(ns):
        @sio.on("connect", namespace=ns)
        async def connect(sid, environ, auth):
            if ns == "/restricted" and (not auth or auth.get("token") != "secret"):
                raise socketio.exceptions.ConnectionRefusedError("not authorized", {"reason": "bad token"})
            await sio.emit("welcome", (ns, auth if auth is not None else {}), to=sid, namespace=ns)

        @sio.on("echo", namespace=ns)
        async def echo(sid, *args):
            await sio.emit("echo", tuple(args), to=sid, namespace=ns)

        @sio.on("echo-ack", namespace=ns)
        async def echo_ack(sid, *args):
            return tuple(args)

        @sio.on("ignore", namespace=ns)
        async def ignore(sid, *args):
            # Never answers: an event that asked for an ack and returned None still gets an empty ack
            # from python-socketio, so wait longer than any test's ack timeout first.
            await asyncio.sleep(60)

        @sio.on("ask-client", namespace=ns)
        async def ask_client(sid, *args):
            try:
                answer = await sio.call("question", tuple(args), to=sid, namespace=ns, timeout=5)
            except Exception as error:  # noqa: BLE001 - reported to the client
                await sio.emit("answer-error", str(error), to=sid, namespace=ns)
                return
            if not isinstance(answer, tuple):
                answer = (answer,)
            await sio.emit("answer", answer, to=sid, namespace=ns)

        @sio.on("server-disconnect", namespace=ns)
        async def server_disconnect(sid, *args):
            await sio.disconnect(sid, namespace=ns)

        @sio.on("burst", namespace=ns)
        async def burst(sid, count):
            for i in range(count):
                await sio.emit("burst", i, to=sid, namespace=ns)

        @sio.on("transport", namespace=ns)
        async def transport(sid, *args):
            return sio.transport(sid, namespace=ns)

    for ns in ("/", "/custom", "/restricted"):
        install(ns)
    return sio


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ping-interval", type=float, default=25)
    parser.add_argument("--ping-timeout", type=float, default=20)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()
    context = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.certfile, args.keyfile)
    sio = build(args.ping_interval, args.ping_timeout)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    site = web.TCPSite(runner, "127.0.0.1", args.port, reuse_address=True, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"listening on port {port}", flush=True)
    try:
        await stop.wait()
    finally:
        await asyncio.wait_for(runner.cleanup(), 3)


def exit_when_parent_goes():
    """The test keeps our stdin open; EOF means it is gone, so no server outlives its test run."""
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
