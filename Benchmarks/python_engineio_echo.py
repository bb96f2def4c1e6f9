"""Reference Engine.IO v4 echo server for Benchmarks/bench.py: python-engineio under uvicorn.

    python python_engineio_echo.py PORT     (PORT 0 picks a free port)

Prints `python-engineio-echo listening on port N` on stdout once uvicorn accepts connections.
Settings mirror what bench.py passes to our eio-echo: path /socket.io/, ping interval 25 s,
ping timeout 20 s, max payload 1e6 bytes; every message is echoed back (text as text, bytes as bytes).
One process, one asyncio loop, uvicorn log level warning.
"""
import asyncio
import socket
import sys

import engineio
import uvicorn


def build_app():
    eio = engineio.AsyncServer(
        async_mode="asgi",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        cors_allowed_origins="*",
        logger=False,
    )

    @eio.on("message")
    async def message(sid, data):
        await eio.send(sid, data)

    return engineio.ASGIApp(eio, engineio_path="socket.io")


async def main(port):
    # Bind the socket ourselves so that port 0 works and the printed port is the real one.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    config = uvicorn.Config(build_app(), log_level="warning", workers=1, lifespan="on",
                            access_log=False, backlog=4096, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            await serving  # re-raises the startup error
            raise SystemExit("uvicorn stopped before it started")
        await asyncio.sleep(0.02)
    print(f"python-engineio-echo listening on port {sock.getsockname()[1]}", flush=True)
    await serving


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python_engineio_echo.py PORT")
    asyncio.run(main(int(sys.argv[1])))
