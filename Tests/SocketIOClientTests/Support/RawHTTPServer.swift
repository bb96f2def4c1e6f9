import EngineIO
import Foundation
import Synchronization
import Transport

/// A bare TCP server for client tests that need a misbehaving peer: each time a request head (up to the
/// blank line) arrives, `respond` gets it and returns the raw bytes to answer, or nil to never answer.
final class RawHTTPServer: Sendable {
    let group: EventLoopGroup
    let listener: TCPListener

    init(respond: @escaping @Sendable (_ head: String, _ index: Int) -> [UInt8]?) throws {
        let group = try EventLoopGroup(loopCount: 1)
        let counter = Atomic<Int>(0)
        let log = Log()
        self.group = group
        self.listener = try TCPListener(host: "127.0.0.1", port: 0, group: group) { connection in
            connection.handler = RawHandler { head in
                let index = counter.wrappingAdd(1, ordering: .relaxed).oldValue
                log.append(head)
                return respond(head, index)
            }
        }
        self.log = log
    }

    private let log: Log

    var received: [String] { self.log.all }
    var port: Int { self.listener.address.port }

    func shutdown() {
        self.listener.close()
        self.group.shutdown(timeoutSeconds: 2)
    }

    final class Log: Sendable {
        private let entries = Mutex<[String]>([])
        func append(_ entry: String) { self.entries.withLock { $0.append(entry) } }
        var all: [String] { self.entries.withLock { $0 } }
    }
}

private final class RawHandler: ConnectionHandler, @unchecked Sendable {
    let respond: (String) -> [UInt8]?

    init(respond: @escaping (String) -> [UInt8]?) {
        self.respond = respond
    }

    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer) {
        while true {
            let bytes = buffer.readableArray
            guard let end = bytes.indices.first(where: { i in
                i + 3 < bytes.count && bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10
            }) else { return }
            let head = String(decoding: bytes[..<end], as: UTF8.self)
            var consumed = end + 4
            // Skip a Content-Length body.
            if let line = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
               let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) {
                guard bytes.count >= consumed + length else { return }
                consumed += length
            }
            buffer.moveReaderIndex(forwardBy: consumed)
            if let answer = self.respond(head) {
                if answer.isEmpty {
                    connection.close()
                    return
                }
                connection.write(answer)
            }
        }
    }

    func connectionClosed(_ connection: TCPConnection, error: Int32?) {}
}

/// An HTTP/1.1 response with a Content-Length body.
func rawResponse(status: Int = 200, headers: [String] = [], body: String) -> [UInt8] {
    var text = "HTTP/1.1 \(status) X\r\n"
    for header in headers { text += header + "\r\n" }
    text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    return Array(text.utf8)
}
