import EngineIO
import Foundation
@testable import SocketIO
import SocketIOTestSupport
import Transport
import XCTest

/// The in-place relay: `socket.emit(name, event.arguments)` and acks of received arguments encode straight into
/// the transport's output. The bytes must be the ones the packet encoder writes, for every namespace, id and
/// name; names that need JSON escapes, and emits from other threads, take the general path.
final class RelayedEmitTests: XCTestCase {
    // MARK: The writer against the encoder

    func testRelayedBytesMatchTheEncoder() throws {
        let namespaces = ["/", "", "/chat", "/é"]
        let names = ["echo", "x", "é-back", "a longer event name than fifteen bytes"]
        let raws = ["", "1", #"1,"two",{"3":[true]}"#, #""\u00e9",null"#]
        let ids: [Int?] = [nil, 0, 7, 10, 99, 100, 123_456_789, Int.max]
        for namespace in namespaces {
            for raw in raws {
                let rawBytes = Array(raw.utf8)[...]
                for id in ids {
                    for name in names {
                        var expected: [UInt8] = []
                        XCTAssertTrue(OutgoingPacket.appendEvent(namespace: namespace, name: name, raw: rawBytes, ackID: id, to: &expected))
                        try self.assertRelayed(namespace: namespace, name: name, raw: rawBytes, id: id, equals: expected)
                    }
                    guard let id else { continue }
                    var expected: [UInt8] = []
                    XCTAssertTrue(OutgoingPacket.appendAck(namespace: namespace, id: id, raw: rawBytes, to: &expected))
                    try self.assertRelayed(namespace: namespace, name: nil, raw: rawBytes, id: id, equals: expected)
                }
            }
        }
    }

    func testRelayedFormRefusesWhatTheEncoderEscapesOrRejects() {
        let raw = Array("1".utf8)[...]
        for name in ["a\"b", "back\\slash", "tab\there", "nl\n", "\u{1}"] {
            var name = name
            name.withUTF8 { XCTAssertNil(OutgoingPacket.relayedLength(namespace: "/", name: $0, raw: raw, id: nil)) }
        }
        XCTAssertNil(OutgoingPacket.relayedLength(namespace: "chat", name: nil, raw: raw, id: 1))
        XCTAssertNil(OutgoingPacket.relayedLength(namespace: "/a,b", name: nil, raw: raw, id: 1))
        XCTAssertNil(OutgoingPacket.relayedLength(namespace: "/", name: nil, raw: raw, id: -1))
    }

    private func assertRelayed(namespace: String, name: String?, raw: ArraySlice<UInt8>, id: Int?, equals expected: [UInt8],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let nameBytes = name.map { Array($0.utf8) }
        let (length, written) = try Self.withBuffer(nameBytes) { name in
            let length = try XCTUnwrap(OutgoingPacket.relayedLength(namespace: namespace, name: name, raw: raw, id: id),
                                       file: file, line: line)
            // One byte more than announced: a writer that overruns shows in the count instead of stopping.
            var region = [UInt8](repeating: 0, count: length + 1)
            let count = region.withUnsafeMutableBytes { bytes in
                var writer = RawByteWriter(bytes)
                OutgoingPacket.writeRelayed(namespace: namespace, name: name, raw: raw, id: id, into: &writer)
                return writer.count
            }
            return (length, Array(region[0..<count]))
        }
        XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                       file: file, line: line)
        XCTAssertEqual(written.count, length, "announced length", file: file, line: line)
    }

    func testReservedNamesAreRecognisedInBytes() {
        for name in ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
                     "connecT", "connect_errors", "disconnectin", "newlistener", "", "echo", "remove_Listener"] {
            var name = name
            let expected = isReservedEventName(name)
            name.withUTF8 { XCTAssertEqual(isReservedEventName($0), expected, String(decoding: $0, as: UTF8.self)) }
        }
    }

    func testConnectAnswerMatchesTheEncoder() throws {
        for namespace in ["/", "", "/chat", "/é"] {
            for pid in [nil, "p1d-_Xy", "another0pid"] as [String?] {
                let sid = "AbC-_0123456789xyzAAAB"
                var object = JSONObject()
                object["sid"] = .string(sid)
                if let pid { object["pid"] = .string(pid) }
                let expected = try XCTUnwrap(OutgoingPacket.control(.connect(namespace: namespace, data: object))).text
                let length = try XCTUnwrap(OutgoingPacket.connectLength(namespace: namespace, sid: sid, pid: pid))
                var written: [UInt8] = [0x34]
                OutgoingPacket.appendConnect(namespace: namespace, sid: sid, pid: pid, to: &written)
                XCTAssertEqual(String(decoding: written.dropFirst(), as: UTF8.self), String(decoding: expected, as: UTF8.self))
                XCTAssertEqual(written.count - 1, length)
            }
        }
        XCTAssertNil(OutgoingPacket.connectLength(namespace: "/", sid: "a\"b", pid: nil))
        XCTAssertNil(OutgoingPacket.connectLength(namespace: "/", sid: "ab", pid: "p\n"))
        XCTAssertNil(OutgoingPacket.connectLength(namespace: "nsp", sid: "ab", pid: nil))
    }

    private static func withBuffer<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        guard let bytes else { return try body(nil) }
        return try bytes.withUnsafeBufferPointer { try body($0) }
    }

    // MARK: On the wire

    private var server: InProcessSocketIOServer!

    override func tearDown() {
        self.server?.shutdown()
        self.server = nil
    }

    /// Relays under several names, on `/` and `/chat`, with acks, and from another thread.
    private func start() throws {
        self.server = try TestSocketIOServer.make(loops: 1, setup: { io in
            for name in ["/", "/chat"] {
                io.of(name).on(.connection) { socket in
                    socket.onEvent("echo") { socket.emit("echo", $0.arguments) }
                    socket.onEvent("quoted") { socket.emit("say \"hi\"", $0.arguments) }
                    socket.onEvent("accent") { socket.emit("é-back", $0.arguments) }
                    socket.onEvent("echo-ack") { $0.ack?.send($0.arguments) }
                    socket.onEvent("tail") { socket.emit("tail", $0.arguments.dropping(first: 1)) }
                    socket.onEvent("é") { socket.emit("é", $0.arguments) }
                    socket.onAny { name, args in
                        guard name.hasPrefix("unheard") else { return }
                        socket.emit("heard", arguments: [.string(name)] + args)
                    }
                    socket.onEvent("later") { event in
                        let arguments = event.arguments
                        DispatchQueue.global().async { socket.emit("later", arguments) }
                    }
                }
            }
        })
    }

    func testRelaysOnTheMainNamespace() throws {
        try self.start()
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/")
        try self.exchange(client, prefix: "")
    }

    func testRelaysOnACustomNamespace() throws {
        try self.start()
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/chat")
        try self.exchange(client, prefix: "/chat,")
    }

    private func exchange(_ client: SIOTestClient, prefix nsp: String) throws {
        let payload = String(repeating: "x", count: 2_000)
        let cases: [(sent: String, answer: String?)] = [
            (#"42\#(nsp)["echo",1,"\#(payload)"]"#, #"42\#(nsp)["echo",1,"\#(payload)"]"#),
            (#"42\#(nsp)["echo"]"#, #"42\#(nsp)["echo"]"#),
            (#"42\#(nsp)[ "echo" , 1.50 , {"b":1,"a":2},"\u00e9" ]"#, #"42\#(nsp)["echo",1.50 , {"b":1,"a":2},"\u00e9"]"#),
            (#"42\#(nsp)["quoted",true]"#, #"42\#(nsp)["say \"hi\"",true]"#),
            (#"42\#(nsp)["accent",[]]"#, #"42\#(nsp)["é-back",[]]"#),
            (#"42\#(nsp)17["echo-ack","a",2]"#, #"43\#(nsp)17["a",2]"#),
            (#"42\#(nsp)18["echo-ack"]"#, #"43\#(nsp)18[]"#),
            (#"42\#(nsp)["tail","drop",{"k":null}]"#, #"42\#(nsp)["tail",{"k":null}]"#),
            (#"42\#(nsp)["later","x"]"#, #"42\#(nsp)["later","x"]"#),
            // Names are matched against the handlers' by their bytes; escaped ones are decoded first.
            (#"42\#(nsp)["ech\u006f",2]"#, #"42\#(nsp)["echo",2]"#),
            (#"42\#(nsp)["é",3]"#, #"42\#(nsp)["é",3]"#),
            (#"42\#(nsp)["\u00e9",4]"#, #"42\#(nsp)["é",4]"#),
            (#"42\#(nsp)["echoo",5]"#, nil),
            (#"42\#(nsp)["ech",6]"#, nil),
            (#"42\#(nsp)["unheard-é",7]"#, #"42\#(nsp)["heard","unheard-é",7]"#),
        ]
        for (sent, answer) in cases {
            try client.send(sent)
            if let answer {
                XCTAssertEqual(try client.nextText(), answer, sent)
            } else {
                // An event without a handler answers nothing: the next answer is the probe's.
                try client.send(#"42\#(nsp)["echo","probe"]"#)
                XCTAssertEqual(try client.nextText(), #"42\#(nsp)["echo","probe"]"#, sent)
            }
        }
    }

    /// Over polling the relayed packet is written into an array of its own and queued as any message.
    func testRelaysOverPolling() throws {
        try self.start()
        let http = try SIOTestHTTP(port: self.server.port)
        let target = try http.openPollingSessionOnMainNamespace()
        XCTAssertEqual(try http.request("POST", target, body: #"42["echo",1,"two",{"3":[true]}]"#).body, "ok")
        XCTAssertEqual(try http.request("GET", target).body, #"42["echo",1,"two",{"3":[true]}]"#)
    }

    func testMalformedArgumentsStillCloseTheConnection() throws {
        try self.start()
        for bad in [#"42["echo",1,]"#, #"42["echo",01]"#, #"42["echo","\x"]"#, #"42["echo",tru]"#, #"42["echo","a]"#] {
            let client = try SIOTestClient(port: self.server.port)
            try client.connectNamespace("/")
            try client.send(bad)
            XCTAssertTrue(client.waitForClose(), bad)
        }
    }

    func testBinaryArgumentsAreNotRelayedAsText() throws {
        try self.start()
        let client = try SIOTestClient(port: self.server.port)
        try client.connectNamespace("/")
        try client.send(#"451-["echo",{"_placeholder":true,"num":0}]"#)
        try client.send(binary: [9, 8, 7])
        XCTAssertEqual(try client.nextText(), #"451-["echo",{"_placeholder":true,"num":0}]"#)
        XCTAssertEqual(try client.nextBinary(), [9, 8, 7])
    }
}
