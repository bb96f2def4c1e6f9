#!/usr/bin/env python3
"""Writes packets.json: Engine.IO v4 encodings produced by python-engineio's own encoder.

The Swift codec tests decode every `encoded` form and compare it with `packets`, and encode `packets` and
compare the bytes with `encoded`, so the Swift implementation is checked against a reference
implementation rather than against itself.

Run from anywhere (python-engineio must be importable, e.g. from a venv):
    python3 -m venv /tmp/eio-venv && /tmp/eio-venv/bin/pip install python-engineio
    /tmp/eio-venv/bin/python Tests/CompatFixtures/engineio/capture_engineio.py

Case kinds:
  packet   one WebSocket message: `encoded` (text message) or `encoded_base64` (binary message, raw bytes)
  payload  one HTTP long-polling body: `encoded` (text; binary packets as `b` + base64)
  invalid  an input that python-engineio rejects (and so must the Swift decoder): `input` is a packet
           (`target` "packet") or a body (`target` "payload"), as text
"""

import base64
import json
import os
import sys
from importlib import metadata

from engineio import packet as eio_packet
from engineio import payload as eio_payload

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packets.json")

TYPE_NAMES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"]

# Inputs spanning every packet type, the UTF-8 ranges (2-, 3- and 4-byte sequences), the empty cases, and
# binary lengths that exercise each base64 padding variant (len % 3 == 0, 1, 2).
HANDSHAKE = ('{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],'
             '"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')

PACKET_CASES = [
    ("open with handshake", eio_packet.OPEN, HANDSHAKE),
    ("close", eio_packet.CLOSE, None),
    ("ping", eio_packet.PING, None),
    ("ping probe", eio_packet.PING, "probe"),
    ("pong", eio_packet.PONG, None),
    ("pong probe", eio_packet.PONG, "probe"),
    ("message text", eio_packet.MESSAGE, "hello"),
    ("message empty", eio_packet.MESSAGE, ""),
    ("message latin and cjk", eio_packet.MESSAGE, "h\u00e9llo w\u00f6rld \u4f60\u597d"),
    ("message emoji", eio_packet.MESSAGE, "\U0001F600\U0001F680 ok"),
    ("message socket.io event json", eio_packet.MESSAGE, '2["chat",{"text":"hi","n":1}]'),
    ("message starting with b", eio_packet.MESSAGE, "binary? no"),
    ("message with control chars", eio_packet.MESSAGE, "a\tb\nc\x1ed"),
    ("upgrade", eio_packet.UPGRADE, None),
    ("noop", eio_packet.NOOP, None),
    ("binary message", eio_packet.MESSAGE, bytes([0, 1, 2, 3, 255])),
    ("binary message empty", eio_packet.MESSAGE, b""),
    ("binary message utf8 lookalike", eio_packet.MESSAGE, "4hello".encode()),
    ("binary message all byte values", eio_packet.MESSAGE, bytes(range(256))),
]

PAYLOAD_CASES = [
    ("payload single text", [(eio_packet.MESSAGE, "hello")]),
    ("payload single ping", [(eio_packet.PING, None)]),
    ("payload single binary", [(eio_packet.MESSAGE, bytes([1, 2, 3, 4]))]),
    ("payload binary one byte", [(eio_packet.MESSAGE, bytes([0xFB]))]),
    ("payload binary two bytes", [(eio_packet.MESSAGE, bytes([0xFB, 0xFF]))]),
    ("payload binary three bytes", [(eio_packet.MESSAGE, bytes([0xFB, 0xFF, 0xBF]))]),
    ("payload binary empty", [(eio_packet.MESSAGE, b"")]),
    ("payload two texts", [(eio_packet.MESSAGE, "hello"), (eio_packet.MESSAGE, "\u20ac\U0001F600")]),
    ("payload mixed", [
        (eio_packet.OPEN, HANDSHAKE),
        (eio_packet.MESSAGE, "first"),
        (eio_packet.MESSAGE, bytes([0, 1, 2, 3, 4, 5])),
        (eio_packet.PING, None),
        (eio_packet.MESSAGE, ""),
        (eio_packet.MESSAGE, b""),
        (eio_packet.MESSAGE, "\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9 \U0001F680"),
        (eio_packet.NOOP, None),
        (eio_packet.CLOSE, None),
    ]),
    ("payload large binary", [(eio_packet.MESSAGE, bytes((i * 7 + 3) % 256 for i in range(3000)))]),
    ("payload upgrade flush", [(eio_packet.NOOP, None), (eio_packet.NOOP, None)]),
]

# Inputs python-engineio rejects; the generator asserts that it really does.
INVALID_CASES = [
    ("invalid empty packet", "packet", ""),
    ("invalid unknown type letter", "packet", "x"),
    ("invalid base64 dangling character", "packet", "bA"),
    ("invalid payload trailing separator", "payload", "4a\x1e"),
    ("invalid payload empty record", "payload", "4a\x1e\x1e4b"),
    ("invalid payload leading separator", "payload", "\x1e4a"),
    ("invalid payload unknown type letter", "payload", "4a\x1ez"),
    ("invalid payload base64 dangling character", "payload", "4a\x1ebAAAAA"),
]


def describe(pkt_type, data):
    """The fixture form of one packet (binary data as base64 text)."""
    if isinstance(data, (bytes, bytearray)):
        return {"type": pkt_type, "type_name": TYPE_NAMES[pkt_type],
                "data": base64.b64encode(data).decode("ascii"), "binary": True}
    return {"type": pkt_type, "type_name": TYPE_NAMES[pkt_type],
            "data": data or "", "binary": False}


def check_decodes_back(encoded, pkt_type, data):
    """python-engineio must read its own encoding back to the same packet (guards the fixture itself)."""
    decoded = eio_packet.Packet(encoded_packet=encoded)
    assert decoded.packet_type == pkt_type, (encoded, decoded.packet_type)
    if isinstance(data, (bytes, bytearray)):
        assert decoded.binary and decoded.data == data, encoded
    elif isinstance(decoded.data, str):
        # python-engineio parses JSON-looking text into objects, so compare only when it stayed text.
        assert decoded.data == (data or ""), (encoded, decoded.data)


def packet_case(name, pkt_type, data):
    encoded = eio_packet.Packet(pkt_type, data).encode(b64=False)
    check_decodes_back(encoded, pkt_type, data)
    case = {"name": name, "kind": "packet", "packets": [describe(pkt_type, data)]}
    if isinstance(encoded, (bytes, bytearray)):
        case["frame"] = "binary"
        case["encoded_base64"] = base64.b64encode(encoded).decode("ascii")
    else:
        case["frame"] = "text"
        case["encoded"] = encoded
    return case


def payload_case(name, items):
    packets = [eio_packet.Packet(t, d) for t, d in items]
    encoded = eio_payload.Payload(packets=packets).encode()
    decoded = eio_payload.Payload(encoded_payload=encoded).packets
    assert len(decoded) == len(items), name
    for (t, d), pkt in zip(items, decoded):
        assert pkt.packet_type == t, name
        if isinstance(d, (bytes, bytearray)):
            assert pkt.binary and pkt.data == d, name
    return {"name": name, "kind": "payload", "packets": [describe(t, d) for t, d in items], "encoded": encoded}


def invalid_case(name, target, text):
    try:
        if target == "packet":
            eio_packet.Packet(encoded_packet=text)
        else:
            eio_payload.Payload(encoded_payload=text)
    except Exception:  # python-engineio raises ValueError or binascii.Error
        return {"name": name, "kind": "invalid", "target": target, "input": text}
    raise AssertionError(f"python-engineio accepted {name!r}: {text!r}")


def main():
    cases = [packet_case(*c) for c in PACKET_CASES]
    cases += [payload_case(*c) for c in PAYLOAD_CASES]
    cases += [invalid_case(*c) for c in INVALID_CASES]
    document = {
        "generator": "Tests/CompatFixtures/engineio/capture_engineio.py",
        "python_engineio_version": metadata.version("python-engineio"),
        "protocol": 4,
        "cases": cases,
    }
    with open(OUTPUT, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    print(f"wrote {len(cases)} cases to {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
