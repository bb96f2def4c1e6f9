#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Fuzz/corpus/<target>/ (committed; rerun after editing).

Seeds come from Tests/CompatFixtures (the Engine.IO and Socket.IO packets python-engineio and python-socketio
produced) and from the wire formats the unit tests use. Targets whose first input byte is a control byte (chunk
size, role, limits: see each target) get seeds with a few control bytes in front.
"""
import base64
import hashlib
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")


def write(target, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def with_controls(target, data, controls):
    for control in controls:
        write(target, bytes([control]) + (data.encode() if isinstance(data, str) else data))


def fixtures(kind):
    with open(os.path.join(ROOT, "Tests", "CompatFixtures", kind, "packets.json")) as f:
        return json.load(f)["cases"]


def engineio_and_socketio():
    for case in fixtures("engineio"):
        if "encoded" in case and isinstance(case["encoded"], str):
            write("FuzzEngineIO", case["encoded"])
        for packet in case.get("packets", []):
            if not packet.get("binary"):
                write("FuzzEngineIO", "%d%s" % (packet["type"], packet["data"]))
    for case in fixtures("socketio"):
        encoded = case["encoded"]
        attachments = [base64.b64decode(a) for a in encoded["attachments"]]
        write("FuzzSocketIO", b"\xff".join([encoded["text"].encode()] + attachments))
        data = case["packet"].get("data")
        if data is not None:
            write("FuzzJSON", json.dumps(data))


def json_seeds():
    for text in ['{"a":[1,2.5,-3e10,true,false,null],"b":{"c":"\\u00e9\\ud83d\\ude00\\n"}}', "12345678901234567890",
                 "-0.0", "1E400", '"\\/\\b\\f\\r\\t"', "[[[[[]]]]]", '{"k":1,"k":2}', "9223372036854775807"]:
        write("FuzzJSON", text)


HTTP_REQUESTS = [
    "GET /socket.io/?EIO=4&transport=polling&t=abc HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    "POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\n4helloGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=\"2\"\r\nX-Folded: one\r\n two\r\n\r\n",
]

HTTP_RESPONSES = [
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n4ping",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nbody until the end",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
]

MULTIPART = [
    "--fuzz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
    "--fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    "line1\r\nline2 --fuzzy\r\n--fuzz--\r\n",
    "preamble\r\n--fuzz\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9.txt\r\n\r\n\r\n--fuzz--",
]

FORMS = ["EIO=4&transport=polling&t=N8hyd6w&sid=abc", "a=1&a=2&b=%20x+y&c&=d&%zz=%E2%82%AC",
         "session=abc123; theme=\"dark\"; empty=; =novalue", "name=J%C3%BCrgen+M&note=a%26b%3Dc"]


def ws_frame(opcode, payload, fin=True, rsv1=False, mask=None):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes([first, (0x80 if mask else 0) | length])
    elif length < 65536:
        header = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack(">H", length)
    else:
        header = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack(">Q", length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        header += mask
    return header + payload


def deflate_raw(data):
    compressor = zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def websocket_seeds():
    for mask, role in ((b"\x01\x02\x03\x04", 0x00), (None, 0x80)):
        plain = (ws_frame(1, b"42[\"echo\",\"hi\"]", mask=mask) + ws_frame(2, bytes(range(200)), mask=mask)
                 + ws_frame(1, b"frag", fin=False, mask=mask) + ws_frame(9, b"p", mask=mask)
                 + ws_frame(0, "é".encode(), mask=mask) + ws_frame(8, b"\x03\xe8bye", mask=mask))
        with_controls("FuzzWebSocket", plain, [role | 3, role | 17])
        compressed = (ws_frame(1, deflate_raw(b"hello hello hello"), rsv1=True, mask=mask)
                      + ws_frame(2, deflate_raw(bytes(300))[:5], fin=False, rsv1=True, mask=mask)
                      + ws_frame(0, deflate_raw(bytes(300))[5:], mask=mask))
        with_controls("FuzzWebSocket", compressed, [role | 0x40 | 2, role | 0x60 | 31])
    for data in (b"hello hello hello", bytes(2000), "Grüße, ".encode() * 40):
        with_controls("FuzzInflate", deflate_raw(data), [0x3F, 0xC8, 0x41])


RESP_REPLIES = [
    "+OK\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n-ERR unknown command\r\n",
    "*3\r\n$7\r\nmessage\r\n$13\r\nsocket.io#/#\r\n$3\r\n\x93\x01\xc0\r\n",
    "%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n>3\r\n+pmessage\r\n+a*\r\n$2\r\nab\r\n",
    "_\r\n,3.14\r\n,inf\r\n#t\r\n(12345678901234567890\r\n=7\r\ntxt:abc\r\n~2\r\n:1\r\n:2\r\n"
    "|1\r\n+key\r\n+val\r\n:7\r\n!5\r\nERR x\r\n",
]


def msgpack(value):
    """MessagePack of plain Python values, in the smallest forms (enough for seeds)."""
    if value is None:
        return b"\xc0"
    if value is True or value is False:
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack("b", value)
        return b"\xd3" + struct.pack(">q", value) if value < 0 else b"\xcf" + struct.pack(">Q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        return (bytes([0xA0 | len(data)]) if len(data) < 32 else b"\xd9" + bytes([len(data)])) + data
    if isinstance(value, bytes):
        return b"\xc4" + bytes([len(value)]) + value
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(msgpack(v) for v in value)
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())
    raise TypeError(value)


MESSAGEPACK = [
    ["uid", {"type": 2, "data": ["event", "hi", b"\x01\x02", 1.5, -7, 2**40], "nsp": "/"},
     {"rooms": ["r1"], "except": [], "flags": {"volatile": True}}],
    {"uid": "x", "type": 3, "requestId": "abc", "rooms": [None, False, -2**40]},
]


def main():
    engineio_and_socketio()
    json_seeds()
    for request in HTTP_REQUESTS:
        with_controls("FuzzHTTPRequest", request, [0, 7, 63])
    for response in HTTP_RESPONSES:
        with_controls("FuzzHTTPResponse", response, [0, 9, 0x80 | 5])
    for body in MULTIPART:
        with_controls("FuzzMultipart", body, [0, 6, 63])
    for text in FORMS:
        write("FuzzForms", text)
    websocket_seeds()
    for reply in RESP_REPLIES:
        with_controls("FuzzRESP", reply.encode("latin-1"), [0, 5, 63])
    for value in MESSAGEPACK:
        write("FuzzMessagePack", msgpack(value))
    write("FuzzMessagePack", b"\xca\x3f\xc0\x00\x00")  # float 32
    write("FuzzMessagePack", b"\xd6\xff\x00\x00\x00\x01")  # fixext 4 (timestamp)


if __name__ == "__main__":
    main()
