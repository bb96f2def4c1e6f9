"""A SpacesApp worker written as the original mock_app.py is, run under python-socketio 4.6 (Socket.IO v2).

Module-level client, decorated handlers, `register {space_name}` on connect, one `inference_result` per
`inference_request`, `sio.wait()`. The URL, space name and transports come from the command line:
    legacy_mock_app.py URL SPACE_NAME websocket,polling
It prints "Registration successful!" once registered and "done <request_id>" after each answer.
"""
import datetime
import sys
import time

import socketio

SERVER_URL, SPACE_NAME, TRANSPORTS = sys.argv[1], sys.argv[2], sys.argv[3].split(",")

sio = socketio.Client()


@sio.event
def connect():
    print("Connected to server", flush=True)
    sio.emit("register", {"space_name": SPACE_NAME})


@sio.on("register_response")
def on_register_response(data):
    if data.get("success"):
        print("Registration successful!", flush=True)
    else:
        print(f"Registration failed: {data.get('message')}", flush=True)


@sio.on("inference_request")
def on_inference_request(data):
    started = time.time()
    request_id = data["request_id"]
    prompt = data.get("payload", {}).get("prompt", "")
    result = {
        "text_output": f"echo: {prompt}",
        "confidence": 0.95,
        "model_used": "legacy-mock-model",
        "processing_time_seconds": round(time.time() - started, 3),
        "tokens_used": len(prompt.split()),
        "timestamp": datetime.datetime.now().isoformat(),
    }
    sio.emit("inference_result", {"request_id": request_id, "status": "completed", "result": result})
    print(f"done {request_id} over {sio.transport()}", flush=True)


@sio.event
def disconnect():
    print("Disconnected from server", flush=True)


if __name__ == "__main__":
    sio.connect(SERVER_URL, transports=TRANSPORTS)
    sio.wait()
