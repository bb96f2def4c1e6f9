"""A python-socketio client for the Redis adapter tests.

Connects to argv[1] with auth {"name": argv[2], "rooms": argv[3:]}, prints one line per thing it sees
(`connected <sid>`, `event <name> <JSON of the arguments, bytes as {"hex": ...}>`, `disconnected`) and
answers an "ask" with "answer from <name>". Exits when its standard input closes.
"""
import json
import sys
import threading

import socketio


def plain(value):
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def main():
    url, name, rooms = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = socketio.Client(reconnection=False)

    @client.event
    def connect():
        print("connected", client.get_sid(), flush=True)

    @client.event
    def disconnect(*_):
        print("disconnected", flush=True)

    @client.on("ask")
    def ask(*_):
        return "answer from " + name

    @client.on("*")
    def any_event(event, *args):
        print("event", event, json.dumps(plain(list(args)), separators=(",", ":")), flush=True)

    client.connect(url, transports=["websocket"], auth={"name": name, "rooms": rooms}, wait_timeout=10)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    if client.connected:
        client.disconnect()


if __name__ == "__main__":
    main()
