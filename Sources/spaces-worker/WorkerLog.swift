import Glibc
import SocketIOClient
import Synchronization
import Transport

/// The worker's log on stderr, one timestamped line per message.
///
/// Lines written on the client's loop are gathered and written together when the loop writes its output at the
/// end of the iteration: one write for the results of one read instead of one per request. Lines from other
/// threads are written at once, after the gathered ones.
final class WorkerLog: EventLoopFlushable, Sendable {
    /// The log of the worker's one connection, on the client's shared loop.
    static let shared = WorkerLog(loop: ClientEventLoop.shared.next())

    /// Gathered bytes beyond this are written at once rather than at the end of the iteration.
    private static let gatherLimit = 64 * 1024

    let loop: EventLoop
    private let gathered = Mutex<[UInt8]>([])

    init(loop: EventLoop) { self.loop = loop }

    func write(_ message: String) {
        let line = "[\(ISOTimestamp.string())] \(message)\n"
        guard self.loop.inEventLoop else {
            self.gathered.withLock { bytes in
                bytes.append(contentsOf: line.utf8)
                Self.writeAll(&bytes)
            }
            return
        }
        let first = self.gathered.withLock { bytes -> Bool in
            let first = bytes.isEmpty
            bytes.append(contentsOf: line.utf8)
            if bytes.count >= Self.gatherLimit { Self.writeAll(&bytes) }
            return first
        }
        if first { self.loop.scheduleFlush(self) }
    }

    /// Writes what was gathered (the loop calls it at the end of an iteration; the stop path before exiting).
    func flushNow() {
        self.gathered.withLock { Self.writeAll(&$0) }
    }

    private static func writeAll(_ bytes: inout [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let written = Glibc.write(2, base + offset, raw.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
            }
        }
        bytes.removeAll(keepingCapacity: bytes.capacity <= 64 * 1024)
    }
}
