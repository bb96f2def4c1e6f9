"""Reference Socket.IO v5 server for Benchmarks/sio_bench.py: python-socketio AsyncServer on aiohttp.

    python python_socketio_app.py PORT     (PORT 0 picks a free port)

Serves the benchmark app of shared/perf/README.md, as our sio-echo does:
  echo       -> emit `echo` back to the sender with the same arguments
  echo-ack   -> acknowledge with the same arguments
  join       -> join the room named by the first argument, acknowledge with the room name
  broadcast  -> emit `broadcast` with the remaining arguments to every socket in the room named first
Settings mirror what the bench passes to sio-echo: path /socket.io/, ping interval 25 s, ping timeout 20 s,
max payload 1e6 bytes, CORS *. One process, one asyncio loop, no logging. Prints
`python-socketio-app listening on port N` on stdout once the socket accepts connections.
"""
import asyncio
import os
import signal
import socket
import sys

import socketio
from aiohttp import web


def build_app():
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
    )

    @sio.on("echo")
    async def echo(sid, *args):
        await sio.emit("echo", args, to=sid)

    @sio.on("echo-ack")
    async def echo_ack(sid, *args):
        return args

    @sio.on("join")
    async def join(sid, room, *_):
        await sio.enter_room(sid, room)
        return room

    @sio.on("broadcast")
    async def broadcast(sid, room, *args):
        await sio.emit("broadcast", args, room=room)

    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    return app


async def main(port):
    # Bind the socket ourselves so that port 0 works and the printed port is the real one.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    runner = web.AppRunner(build_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, backlog=4096)
    await site.start()
    print(f"python-socketio-app listening on port {sock.getsockname()[1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python_socketio_app.py PORT")
    # The bench stops servers with SIGTERM; a graceful aiohttp shutdown of 10,000 sockets takes seconds.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        asyncio.run(main(int(sys.argv[1])))
    except (KeyboardInterrupt, SystemExit):
        pass
