import Synchronization
import XCTest

@testable import HTTPKit
@testable import Transport

/// After a large message the loop's reads go back to its small storage, so text is read in place again
/// (`WebSocketInPlaceTextTests` covers the in-place reader itself), and what the loop keeps stays bounded:
/// a large storage reused while large reads keep coming, dropped once they stop.
final class WebSocketInPlaceAfterLargeReadTests: XCTestCase {
    func testInPlaceLimitIsTheLoopsSmallStorage() {
        XCTAssertEqual(WebSocketConnection.inPlaceCapacity, LoopReadStorage.smallCapacity)
    }

    func testInPlaceTextResumesAfterALargeMessage() throws {
        let recorder = InPlaceRecorder()
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown(timeoutSeconds: 5) }
        let listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { connection in
            let ws = WebSocketConnection(connection: connection, role: .server, maxMessageSize: 1 << 20, deflate: nil)
            ws.delegate = recorder
            connection.handler = ws
        }
        defer { listener.close() }
        let loop = group.loops[0]
        let client = try TestSocket(port: listener.address.port)

        /// Sends one text message and waits until the server took it: one read per message.
        func send(_ count: Int) throws -> InPlaceRecorder.Received {
            let before = recorder.count
            try client.send(WebSocketTestFrames.client(.text, [UInt8](repeating: 0x61, count: count), key: .random()))
            XCTAssertTrue(TestDeadline.wait(timeout: 5) { recorder.count > before }, "message of \(count) bytes received")
            return try XCTUnwrap(recorder.last)
        }

        XCTAssertEqual(try send(100), .init(length: 100, inPlace: true))
        XCTAssertEqual(try send(20_000), .init(length: 20_000, inPlace: false), "a large message is copied out")
        XCTAssertEqual(try send(100), .init(length: 100, inPlace: true), "the next small read is in place again")
        XCTAssertEqual(try send(3_000), .init(length: 3_000, inPlace: true))

        // Large messages that keep coming reuse one large storage; it never exceeds the loop's cap.
        for _ in 0..<10 { XCTAssertFalse(try send(30_000).inPlace) }
        let afterLarge = loop.runAndWait { loop.keptReadStorage }
        XCTAssertGreaterThan(afterLarge.large, LoopReadStorage.smallCapacity, "kept while large reads keep coming")
        XCTAssertLessThanOrEqual(afterLarge.large, LoopReadStorage.maxLargeCapacity)
        XCTAssertLessThanOrEqual(afterLarge.small, LoopReadStorage.smallCapacity)

        // Once large reads stop, the large storage goes and only the small one stays.
        for _ in 0..<LoopReadStorage.largeIdleReads { XCTAssertTrue(try send(50).inPlace) }
        let afterSmall = loop.runAndWait { loop.keptReadStorage }
        XCTAssertEqual(afterSmall.large, 0, "the large storage is dropped after \(LoopReadStorage.largeIdleReads) small reads")
        XCTAssertGreaterThan(afterSmall.small, 0)
        XCTAssertLessThanOrEqual(afterSmall.small, LoopReadStorage.smallCapacity)
    }

    /// The storage policy alone: small reads get small storage even while a large one is kept, large reads
    /// reuse the same large storage (no allocation per large read), and it is dropped after enough small reads.
    func testLargeStorageIsReusedThenDropped() {
        var storage = LoopReadStorage()
        var buffer = ByteBuffer()

        func read(_ count: Int) -> (capacity: Int, address: UnsafeRawPointer?) {
            storage.lend(into: &buffer, forReadOf: count)
            buffer.append(contentsOf: [UInt8](repeating: 1, count: count))
            let seen = (buffer.storageCapacity, buffer.storage.withUnsafeBytes { $0.baseAddress })
            buffer.moveReaderIndex(forwardBy: count)
            storage.reclaim(from: &buffer)
            return seen
        }

        let firstLarge = read(10_000)
        XCTAssertGreaterThan(firstLarge.capacity, LoopReadStorage.smallCapacity)
        let small = read(200)
        XCTAssertLessThanOrEqual(small.capacity, LoopReadStorage.smallCapacity, "a small read gets small storage")
        XCTAssertEqual(read(LoopReadStorage.smallReadLimit).address, small.address, "every small read fits it")
        XCTAssertEqual(read(9_000).address, firstLarge.address, "large reads reuse the kept large storage")
        XCTAssertEqual(storage.keptCapacities.large, firstLarge.capacity)

        for _ in 0..<(LoopReadStorage.largeIdleReads - 1) { _ = read(100) }
        XCTAssertEqual(storage.keptCapacities.large, firstLarge.capacity, "kept until the last idle read")
        _ = read(100)
        XCTAssertEqual(storage.keptCapacities.large, 0)

        // Storage beyond the cap (a message assembled over many reads) is not kept.
        var huge = ByteBuffer(bytes: [UInt8](repeating: 2, count: LoopReadStorage.maxLargeCapacity + 1))
        huge.moveReaderIndex(forwardBy: huge.readableBytes)
        storage.reclaim(from: &huge)
        XCTAssertEqual(storage.keptCapacities.large, 0)
    }
}

/// Records, for each text message, its length and whether it came as a slice of the read buffer.
private final class InPlaceRecorder: WebSocketDelegate, Sendable {
    struct Received: Equatable {
        let length: Int
        let inPlace: Bool
    }

    private let received = Mutex<[Received]>([])

    var count: Int { self.received.withLock { $0.count } }
    var last: Received? { self.received.withLock { $0.last } }

    func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: [UInt8]) {
        self.received.withLock { $0.append(Received(length: bytes.count, inPlace: false)) }
    }

    func webSocket(_ ws: WebSocketConnection, didReceiveText bytes: ArraySlice<UInt8>) {
        self.received.withLock { $0.append(Received(length: bytes.count, inPlace: true)) }
    }

    func webSocket(_ ws: WebSocketConnection, didReceiveBinary bytes: [UInt8]) {}

    func webSocketDidClose(_ ws: WebSocketConnection, code: UInt16?) {}
}
