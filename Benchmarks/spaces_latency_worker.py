#!/usr/bin/env python3
"""The echo worker of `make bench-spaces`'s latency runs: python-socketio (asyncio, WebSocket), registered with
concurrency 8, answering each `inference_request` at once. It writes the wall-clock time (µs since 1970) each
request arrived, so the benchmark can compare it with the time the request was submitted.

    spaces_latency_worker.py URL SPACE_NAME OUT_FILE

Prints "registered" once the server accepted the registration; on SIGTERM writes OUT_FILE ("request_id µs" per
line) and exits.
"""
import asyncio
import signal
import sys
import time

import socketio


async def main(url, space_name, out_path):
    client = socketio.AsyncClient(reconnection=False)
    arrivals = []
    stop = asyncio.Event()

    @client.event
    async def connect():
        await client.emit("register", {"space_name": space_name, "concurrency": 8})

    @client.event
    async def register_response(data):
        if data.get("success"):
            print("registered", flush=True)
        else:
            print(f"registration refused: {data}", flush=True)
            stop.set()

    @client.event
    async def inference_request(data):
        arrivals.append((data["request_id"], time.time_ns() // 1000))
        await client.emit("inference_result", {"request_id": data["request_id"], "status": "completed",
                                               "result": {"text_output": "echo"}})

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await client.connect(url, transports=["websocket"], wait_timeout=15)
    await stop.wait()
    await client.disconnect()
    with open(out_path, "w") as out:
        out.writelines(f"{request_id} {micros}\n" for request_id, micros in arrivals)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
