#!/usr/bin/env python3
"""Capture Socket.IO v5 packet encodings from python-socketio's own encoder.

Writes packets.json next to this script. Each case holds the packet fields
and what `socketio.packet.Packet(...).encode()` produced, so the Swift
encoder/decoder can be checked against an independent implementation.

Binary values are written as {"$binary": "<base64>"} inside the fields.
python-socketio serialises with separators (",", ":") like JS, but with
json's ensure_ascii=True (non-ASCII and DEL as \\uXXXX) and Python float repr
("1e-07"); cases affected by that are marked "exact": false and must be
compared semantically. All other cases are byte-identical to what the JS
reference encoder emits.

Usage:
    python3 -m venv /tmp/sio-venv && /tmp/sio-venv/bin/pip install python-socketio
    /tmp/sio-venv/bin/python Tests/CompatFixtures/socketio/capture_socketio.py
"""

import base64
import json
import os
from importlib.metadata import version

from socketio import packet as sio_packet

CASES = [
    # (name, type, namespace, data, id, exact)
    ("connect_default_namespace", sio_packet.CONNECT, "/", None, None, True),
    ("connect_custom_namespace", sio_packet.CONNECT, "/admin", None, None, True),
    ("connect_with_auth", sio_packet.CONNECT, "/admin", {"token": "123", "user": {"id": 7}}, None, True),
    ("connect_server_sid", sio_packet.CONNECT, "/", {"sid": "wZX3oN0bSVIhsaknAAAI"}, None, True),
    ("disconnect_default_namespace", sio_packet.DISCONNECT, "/", None, None, True),
    ("disconnect_custom_namespace", sio_packet.DISCONNECT, "/admin", None, None, True),
    ("event_string_args", sio_packet.EVENT, "/", ["message", "hello", "world"], None, True),
    ("event_number_args", sio_packet.EVENT, "/", ["count", 1, -3, 0, 12345678901234, 2.5], None, True),
    ("event_nested_args", sio_packet.EVENT, "/", ["nested", {"a": [1, {"b": None, "c": True}], "d": "x", "e": False}, [[]], {}], None, True),
    ("event_name_only", sio_packet.EVENT, "/", ["ping"], None, True),
    ("event_custom_namespace", sio_packet.EVENT, "/chat", ["msg", {"text": "hi"}], None, True),
    ("event_with_ack_id", sio_packet.EVENT, "/", ["ask", "question"], 12, True),
    ("event_with_ack_id_custom_namespace", sio_packet.EVENT, "/admin", ["foo"], 13, True),
    ("event_escaped_string", sio_packet.EVENT, "/", ["esc", "quote\" backslash\\ slash/ nl\n tab\t cr\r ctrl\x01\x1f"], None, True),
    ("event_unicode", sio_packet.EVENT, "/", ["unicode", "h\u00e9llo w\u00f6rld \u2713 \U0001F600 del\x7f", {"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}], None, False),
    ("event_floats", sio_packet.EVENT, "/", ["floats", 0.1, 1e21, 1.5e-7, -2.75], None, False),
    ("ack_with_args", sio_packet.ACK, "/", ["ok", 1], 12, True),
    ("ack_empty", sio_packet.ACK, "/", [], 5, True),
    ("ack_custom_namespace", sio_packet.ACK, "/admin", ["bar"], 13, True),
    ("connect_error_object", sio_packet.CONNECT_ERROR, "/", {"message": "Not authorized", "data": {"reason": "bad token", "code": 401}}, None, True),
    ("connect_error_custom_namespace", sio_packet.CONNECT_ERROR, "/admin", {"message": "Invalid namespace"}, None, True),
    ("binary_event_top_level", sio_packet.EVENT, "/", ["upload", b"\x01\x02\x03\x04"], None, True),
    ("binary_event_nested_in_object", sio_packet.EVENT, "/", ["file", {"name": "a.bin", "content": b"\x00\xff\x10"}], None, True),
    ("binary_event_nested_in_list", sio_packet.EVENT, "/", ["list", [b"a", [b"b", "c"]]], None, True),
    ("binary_event_several_attachments", sio_packet.EVENT, "/files", ["multi", b"1", {"x": b"22", "y": [b"333"]}, b"4444"], 7, True),
    ("binary_event_empty_buffer", sio_packet.EVENT, "/", ["empty", b""], None, True),
    ("binary_ack", sio_packet.ACK, "/", ["bar", b"\x01\x02\x03\x04"], 15, True),
    ("binary_ack_custom_namespace", sio_packet.ACK, "/admin", [b"\xde\xad", {"k": b"\xbe\xef"}], 1, True),
]


def to_fixture(value):
    """Make packet data JSON-safe, marking bytes."""
    if isinstance(value, bytes):
        return {"$binary": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [to_fixture(v) for v in value]
    if isinstance(value, dict):
        return {k: to_fixture(v) for k, v in value.items()}
    return value


def main():
    cases = []
    for name, ptype, namespace, data, ack_id, exact in CASES:
        pkt = sio_packet.Packet(packet_type=ptype, data=data, namespace=namespace, id=ack_id)
        encoded = pkt.encode()
        if isinstance(encoded, list):
            text, attachments = encoded[0], encoded[1:]
        else:
            text, attachments = encoded, []
        case = {
            "name": name,
            "packet": {
                # python-socketio upgrades EVENT/ACK to BINARY_* when bytes are present.
                "type": pkt.packet_type,
                "namespace": namespace,
                "data": to_fixture(data),
                "id": ack_id,
            },
            "encoded": {
                "text": text,
                "attachments": [base64.b64encode(a).decode("ascii") for a in attachments],
            },
            "exact": exact,
        }
        cases.append(case)

    out = {
        "generator": "python-socketio " + version("python-socketio"),
        "binaryMarker": "$binary",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packets.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
