import CTestCounters
import EngineIO
import Foundation
@testable import SocketIO
import SocketIOBenchmarkApp
import Transport
import XCTest

/// Performance guards for the server's hot path, counted on the event loop's thread through the malloc and
/// socket-call interposition of `CTestCounters`, so they are deterministic and independent of machine speed:
/// - heap allocations per echoed message (one at a time, and four per write as under load);
/// - socket system calls per echoed message under the benchmark's echo load (100 connections x 4 in flight).
///
/// The budgets sit a little above what the server does today; a change that adds an allocation or a system
/// call per message fails here. Lower them when the server gets leaner. Today an echo allocates nothing: reads land
/// in storage the loop lends and takes back, a text frame is unmasked there and handed on as a slice of it,
/// and the element offsets of the JSON payload are not kept; an echo-ack allocates the `SocketAck` object. The tests run
/// unoptimized (`swift test`), so the hot path avoids constructs that only allocate there (generic
/// iterators, `first`/`last` on collections of structs). `CTC_TRACE=1` prints each counted allocation's stack.
final class EchoAllocationTests: XCTestCase {
    /// Allocations per `echo` round trip, one message per loop iteration.
    static let echoAllocationBudget = 0.5
    /// Allocations per `echo-ack` round trip, one message per loop iteration.
    static let echoAckAllocationBudget = 1.5
    /// Allocations per message when four arrive in one read.
    static let batchedEchoAllocationBudget = 0.5
    /// Allocations per delivery of a broadcast to 100 sockets (the encoding is shared).
    static let broadcastAllocationBudget = 0.3

    static let payload = String(repeating: "x", count: 32)

    override func setUpWithError() throws {
        try XCTSkipUnless(ctc_interposed() != 0, "malloc interposition is not in effect in this test binary")
    }

    // MARK: Allocations

    func testEchoAllocationsPerMessage() throws {
        let perMessage = try self.measureEcho(event: "echo", batch: 1, rounds: 400)
        print("echo: \(perMessage) allocations per message")
        XCTAssertLessThanOrEqual(perMessage, Self.echoAllocationBudget, "echo allocates more per message than before")
    }

    func testEchoAckAllocationsPerMessage() throws {
        let perMessage = try self.measureEcho(event: "echo-ack", batch: 1, rounds: 400)
        print("echo-ack: \(perMessage) allocations per message")
        XCTAssertLessThanOrEqual(perMessage, Self.echoAckAllocationBudget, "echo-ack allocates more per message than before")
    }

    func testBatchedEchoAllocationsPerMessage() throws {
        let perMessage = try self.measureEcho(event: "echo", batch: 4, rounds: 150)
        print("echo, 4 per read: \(perMessage) allocations per message")
        XCTAssertLessThanOrEqual(perMessage, Self.batchedEchoAllocationBudget, "batched echo allocates more per message than before")
    }

    func testBroadcastAllocationsPerDelivery() throws {
        let server = try TestSocketIOServer.make(loops: 1) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        let members = try (0..<100).map { _ in try SIOTestClient(port: server.port) }
        for member in members {
            try member.connectNamespace()
            try member.send(#"421["join","bench"]"#)
            XCTAssertEqual(try member.nextText(), #"431["bench"]"#)
        }
        let control = try SIOTestClient(port: server.port)
        try control.connectNamespace()
        let loop = server.group.loops[0]
        func broadcast(_ i: Int) throws {
            try control.send(#"42["broadcast","bench",\#(i),"\#(Self.payload)"]"#)
            for member in members {
                XCTAssertEqual(try member.nextText(), #"42["broadcast",\#(i),"\#(Self.payload)"]"#)
            }
        }
        for i in 0..<20 { try broadcast(i) }
        let rounds = 50
        let counts = try Self.counting(on: loop) {
            for i in 0..<rounds { try broadcast(i) }
        }
        let perDelivery = Double(counts.allocations) / Double(rounds * members.count)
        print("broadcast to 100: \(perDelivery) allocations per delivery")
        XCTAssertLessThanOrEqual(perDelivery, Self.broadcastAllocationBudget, "broadcast allocates more per delivery than before")
    }

    // MARK: System calls

    /// The echo load of the benchmark (100 connections x 4 messages in flight): all the messages are in
    /// the kernel's buffers when the loop wakes up, as they are when the server runs at full load; the
    /// loop then reads each connection once and writes each connection once.
    func testEchoSystemCallsPerMessage() throws {
        let server = try TestSocketIOServer.make(loops: 1) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        let clients = try (0..<100).map { _ in try SIOTestClient(port: server.port) }
        for client in clients { try client.connectNamespace() }
        let loop = server.group.loops[0]
        let window = 4
        func round(_ r: Int) throws {
            let stalled = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            loop.execute {
                stalled.signal()
                release.wait()
            }
            stalled.wait()
            for (c, client) in clients.enumerated() {
                try client.send(batch: (0..<window).map { #"42["echo",\#(r * 1000 + c * 10 + $0),"\#(Self.payload)"]"# })
            }
            release.signal()
            for (c, client) in clients.enumerated() {
                for i in 0..<window {
                    XCTAssertEqual(try client.nextText(), #"42["echo",\#(r * 1000 + c * 10 + i),"\#(Self.payload)"]"#)
                }
            }
        }
        try round(0)
        let rounds = 5
        let counts = try Self.counting(on: loop) {
            for r in 1...rounds { try round(r) }
        }
        let messages = Double(rounds * clients.count * window)
        let perMessage = Double(counts.sends + counts.receives + counts.waits) / messages
        print("echo 100 x 4: \(perMessage) system calls per message (sends \(counts.sends), receives \(counts.receives), waits \(counts.waits), messages \(Int(messages)))")
        XCTAssertLessThanOrEqual(perMessage, 0.6, "more than 0.6 system calls per echoed message")
        XCTAssertLessThanOrEqual(Double(counts.sends), Double(rounds * clients.count) * 1.05, "more than one write per connection per wakeup")
    }

    /// The fixed-rate path (`sioload rate`): messages one at a time, each in its own wakeup, with the default
    /// two loops. Each costs what limitd's costs: one wait, one receive, one send, and nothing else: no
    /// interest changes (EPOLLOUT toggling), no second read to see EAGAIN, no wakeup of the other loop.
    func testOneMessagePerWakeupSystemCalls() throws {
        let server = try TestSocketIOServer.make(loops: 2) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        let clients = try (0..<4).map { _ in try SIOTestClient(port: server.port) }
        for client in clients { try client.connectNamespace() }
        var next = 0
        func exchange() throws {
            for client in clients {
                next += 1
                try client.send(batch: [#"42["echo",\#(next),"\#(Self.payload)"]"#])
                XCTAssertEqual(try client.nextText(), #"42["echo",\#(next),"\#(Self.payload)"]"#)
            }
        }
        for _ in 0..<20 { try exchange() }
        let rounds = 50
        let counts = try Self.counting(on: server.group.loops) {
            for _ in 0..<rounds { try exchange() }
        }
        let messages = Double(rounds * clients.count)
        print("one per wakeup, 2 loops: sends \(counts.sends), receives \(counts.receives), waits \(counts.waits), others \(counts.others), messages \(Int(messages))")
        // A few calls come from starting and stopping the count on each loop (a task and its wakeup).
        XCTAssertLessThanOrEqual(Double(counts.sends), messages + 4, "more than one send per message")
        XCTAssertLessThanOrEqual(Double(counts.receives), messages + 4, "more than one receive per message")
        XCTAssertLessThanOrEqual(Double(counts.waits), messages + 6, "more than one wait per message")
        XCTAssertLessThanOrEqual(counts.others, 2, "epoll_ctl or other calls on the per-message path")
    }

    // MARK: Helpers

    /// Echoes `rounds` x `batch` messages over one connection (each batch in one write) while counting on
    /// the loop; returns allocations per message.
    private func measureEcho(event: String, batch: Int, rounds: Int) throws -> Double {
        let server = try TestSocketIOServer.make(loops: 1) { BenchmarkApp.install(on: $0) }
        defer { server.shutdown() }
        let client = try SIOTestClient(port: server.port)
        try client.connectNamespace()
        let loop = server.group.loops[0]
        let ack = event == "echo-ack"
        var next = 1
        func exchange() throws {
            var texts: [String] = []
            var expected: [String] = []
            for _ in 0..<batch {
                let n = next
                next += 1
                if ack {
                    texts.append(#"42\#(n)["echo-ack",\#(n),"\#(Self.payload)"]"#)
                    expected.append(#"43\#(n)[\#(n),"\#(Self.payload)"]"#)
                } else {
                    texts.append(#"42["echo",\#(n),"\#(Self.payload)"]"#)
                    expected.append(#"42["echo",\#(n),"\#(Self.payload)"]"#)
                }
            }
            try client.send(batch: texts)
            for text in expected { XCTAssertEqual(try client.nextText(), text) }
        }
        for _ in 0..<100 { try exchange() }
        let counts = try Self.counting(on: loop) {
            for _ in 0..<rounds { try exchange() }
        }
        return Double(counts.allocations) / Double(rounds * batch)
    }

    /// Runs `body` on the calling thread while `loop`'s thread counts; returns the loop thread's counts.
    static func counting(on loop: EventLoop, _ body: () throws -> Void) throws -> ctc_counts {
        Self.onLoop(loop) {
            ctc_reset()
            ctc_enable()
        }
        try body()
        return Self.onLoop(loop) {
            ctc_disable()
            return ctc_read()
        }
    }

    /// `counting(on:)` over several loops, summed.
    static func counting(on loops: [EventLoop], _ body: () throws -> Void) throws -> ctc_counts {
        for loop in loops {
            Self.onLoop(loop) {
                ctc_reset()
                ctc_enable()
            }
        }
        try body()
        var total = ctc_counts()
        for loop in loops {
            let counts = Self.onLoop(loop) { () -> ctc_counts in
                ctc_disable()
                return ctc_read()
            }
            total.allocations += counts.allocations
            total.allocatedBytes += counts.allocatedBytes
            total.sends += counts.sends
            total.receives += counts.receives
            total.waits += counts.waits
            total.others += counts.others
        }
        return total
    }

    static func onLoop<T>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    // Written on the loop before the semaphore is signalled, read after it was waited for.
    var value: T?
}

/// The allocation-free EVENT reader (`IncomingEvent`) must agree with the full decoder on everything it
/// accepts: same namespace, ack id, event name and argument values. Anything it is unsure of it declines,
/// and the full decoder then decides, so declining is always allowed.
final class IncomingEventAllocationPathTests: XCTestCase {
    static let samples: [String] = [
        #"2["echo",1,"xx"]"#, #"2["echo"]"#, #"21["echo-ack",1]"#, #"2/chat,["m",{"a":[1,2,{"b":null}]},true,false]"#,
        #"2/chat,7["m"]"#, #"2 [ "spaced" , 1 , [ ] , { } ] "#, #"2["esc\"aped\n",1]"#, #"2["\u00e9t\u00e9"]"#,
        #"2["x","\ud83d\ude00","\ud800"]"#, #"2["n",-0,0.5,1e10,-1.5E-3,123456789012345678901234567890]"#,
        #"2["deep",[[[[[[[[[[[[1]]]]]]]]]]]]]"#, #"2["é", "ü"]"#,
        // Declined or invalid: the full decoder decides.
        #"2[1,2]"#, #"2["connect"]"#, #"2["disconnecting",1]"#, #"2[]"#, #"2"#, #"2["a",]"#, #"2["a" 1]"#,
        #"2["a",01]"#, #"2["a",1.]"#, #"2["a",.5]"#, #"2["a",tru]"#, #"2["a","\x"]"#, #"2["a","\u12G4"]"#,
        "2[\"a\",\"tab\there\"]", #"2["a"]x"#, #"2{"a":1}"#, #"2"a""#, #"2[null]"#, #"2[{"a":1}]"#,
        #"21234567890123456789012["a"]"#, #"2/chat["a"]"#, #"2["a",{"k"}]"#, #"2["a",{1:2}]"#, #"2["a",[1,2}]"#,
    ]

    func testAgreesWithTheFullDecoder() throws {
        for sample in Self.samples { try Self.check(Array(sample.utf8)) }
    }

    /// Mutations of valid packets (a deterministic generator): whatever the fast path accepts, the full
    /// decoder accepts the same way.
    func testAgreesOnMutatedPackets() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet = Array(#"[]{},:"\ 0123456789-+.eEtrufalsn/x\u"#.utf8)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes = Array(Self.samples[round % 12].utf8)
            for _ in 0..<(1 + next() % 3) {
                let position = bytes.isEmpty ? 0 : next() % bytes.count
                switch next() % 3 {
                case 0 where !bytes.isEmpty: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[next() % alphabet.count], at: position)
                default: if !bytes.isEmpty { bytes[position] = alphabet[next() % alphabet.count] }
                }
            }
            if try Self.check(bytes) { accepted += 1 }
        }
        XCTAssertGreaterThan(accepted, 1000, "the mutations should keep many packets valid")
    }

    /// Strings are skimmed eight bytes at a time: a quote, backslash or control byte at any offset of a
    /// long string, or UTF-8 around it, must be seen exactly as the full decoder sees it.
    func testAgreesOnLongStringsWithASpecialByteAtEveryOffset() throws {
        let specials: [[UInt8]] = [[0x22], [0x5C, 0x22], [0x5C, 0x6E], [0x5C], [0x00], [0x09], [0x1F], [0x7F],
                                   [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0x20]]
        var accepted = 0
        for length in [7, 8, 9, 16, 23, 40] {
            for offset in 0..<length {
                for special in specials {
                    var body = [UInt8](repeating: 0x61, count: length)
                    body.replaceSubrange(offset..<min(length, offset + special.count), with: special)
                    let packet = Array(#"2["ev",""#.utf8) + body + Array(#"",1]"#.utf8)
                    if try Self.check(packet) { accepted += 1 }
                    // The same bytes as the event name.
                    if try Self.check(Array(#"2[""#.utf8) + body + Array(#""]"#.utf8)) { accepted += 1 }
                }
            }
        }
        XCTAssertGreaterThan(accepted, 500)
    }

    /// Returns whether the fast path accepted `bytes`.
    @discardableResult
    static func check(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let text = bytes[...]
        guard case let (event, payload)? = IncomingEvent.read(text, maxDepth: JSONParser.defaultMaxDepth) else { return false }
        let fast = (namespace: event.namespace(in: text), ackID: event.ackID, name: event.name(in: payload), raw: payload)
        let description = String(decoding: bytes, as: UTF8.self)
        var decoder = SocketPacketDecoder()
        guard case .packet(let packet) = try decoder.decode(text: text) else {
            XCTFail("fast path accepted a packet the decoder did not complete: \(description)", file: file, line: line)
            return true
        }
        XCTAssertEqual(packet.type, .event, description, file: file, line: line)
        XCTAssertEqual(packet.namespace, fast.namespace, description, file: file, line: line)
        XCTAssertEqual(packet.id, fast.ackID, description, file: file, line: line)
        XCTAssertEqual(packet.eventName, fast.name, description, file: file, line: line)
        let arguments = SocketArguments(raw: fast.raw, rawStart: 1)
        XCTAssertEqual(Array(packet.arguments), arguments.values, description, file: file, line: line)
        XCTAssertEqual(arguments.count, packet.arguments.count, description, file: file, line: line)
        for index in 0..<arguments.count {
            XCTAssertEqual(arguments[index], packet.arguments[packet.arguments.startIndex + index], description, file: file, line: line)
        }
        if let raw = packet.rawData {
            XCTAssertEqual(Array(arguments.rawText ?? []), Array(raw.eventArguments), description, file: file, line: line)
            // The fast path keeps only the element count and the span after the name; every other range
            // is found again by scanning, and must be the one the full parser recorded.
            XCTAssertEqual(fast.raw.count, raw.count, description, file: file, line: line)
            XCTAssertEqual(fast.raw.elementRanges, raw.elementRanges, description, file: file, line: line)
            for index in -1...(raw.count + 1) {
                XCTAssertEqual(fast.raw.element(index).map(Array.init), raw.element(index).map(Array.init),
                               "\(description) element \(index)", file: file, line: line)
                XCTAssertEqual(Array(fast.raw.elements(from: index)), Array(raw.elements(from: index)),
                               "\(description) from \(index)", file: file, line: line)
            }
            XCTAssertEqual(Array(arguments.dropping(first: 1).rawText ?? []), Array(raw.elements(from: 2)),
                           description, file: file, line: line)
        }
        return true
    }
}
