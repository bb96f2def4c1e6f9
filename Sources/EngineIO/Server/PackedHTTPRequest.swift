import HTTPKit

/// A request head kept for a session's whole life (its handshake), packed into one byte array: method,
/// target, then each header's name and value, behind a table of their lengths. An `HTTPRequest` spends
/// three allocations on the same text (header bytes, header entries, target) plus about 100 bytes inline;
/// the packed form saves about 200 bytes per idle connection. `request` rebuilds the full value on each read
/// (an application reading `socket.handshake`, the CORS headers of a polling answer).
struct PackedHTTPRequest: Sendable {
    private enum Storage: Sendable {
        /// Field count (UInt16), then each field's length (UInt16), then the fields' bytes.
        case packed([UInt8])
        /// A head with a field too long for a 16-bit length or too many fields, kept as it came.
        case plain(Box)
    }

    private final class Box: Sendable {
        let head: HTTPRequestHead
        init(_ head: HTTPRequestHead) { self.head = head }
    }

    private let storage: Storage
    private let remoteAddress: String
    private let versionMajor: UInt8
    private let versionMinor: UInt8
    private let isSecure: Bool

    /// Keeps `request`'s head, remote address and scheme (not its body). Borrowed: an owned request cost its
    /// caller a copy.
    init(_ request: borrowing HTTPRequest) {
        // The head is read in place (a local copy of it cost retains and releases of its strings).
        self.remoteAddress = request.remoteAddress
        self.isSecure = request.isSecure
        self.versionMajor = UInt8(truncatingIfNeeded: request.head.versionMajor)
        self.versionMinor = UInt8(truncatingIfNeeded: request.head.versionMinor)
        if let packed = Self.pack(request.head) {
            self.storage = .packed(packed)
        } else {
            self.storage = .plain(Box(request.head))
        }
    }

    /// Sized from the field table, then filled in place through a pointer (lengths at the front, text
    /// behind them); the header bytes are read in place (no strings). Appending byte by byte in three passes
    /// cost about 2,600 instructions per handshake.
    private static func pack(_ head: HTTPRequestHead) -> [UInt8]? {
        guard head.versionMajor >= 0, head.versionMajor <= 255, head.versionMinor >= 0, head.versionMinor <= 255
        else { return nil }
        let maxLength = Int(UInt16.max)
        var method = head.method, target = head.target
        // Sized from the field table (a pass over the fields through a closure cost about 450 instructions).
        let fieldText = head.headers.fieldTextSize
        let count = 2 + 2 * head.headers.count, textLength = method.utf8.count + target.utf8.count + fieldText.total
        guard fieldText.longest <= maxLength, count <= maxLength, method.utf8.count <= maxLength, target.utf8.count <= maxLength else { return nil }
        let total = 2 + 2 * count + textLength
        // Written in temporary (stack) memory, then copied with `Array(_:)`: `[UInt8](unsafeUninitializedCapacity:)`
        // and `Array(repeating:count:)` allocate through the standard library's unspecialised path, which looks
        // the array's storage type up in the runtime on each call (about 360 instructions).
        return method.withUTF8 { method in
            target.withUTF8 { target in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { out -> [UInt8]? in
                    guard let base = out.baseAddress else { return nil }
                    var writer = Writer(base: base, textAt: 2 + 2 * count)
                    writer.putLength(count)
                    writer.put(method)
                    writer.put(target)
                    head.headers.forEachField { name, value, _ in
                        writer.put(name)
                        writer.put(value)
                    }
                    return Array(UnsafeBufferPointer(start: base, count: total))
                }
            }
        }
    }

    /// Fills the packed form: each length goes at the front, in order, and its bytes at the end of the text.
    private struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var lengthAt = 0
        var textAt: Int

        init(base: UnsafeMutablePointer<UInt8>, textAt: Int) {
            self.base = base
            self.textAt = textAt
        }

        mutating func putLength(_ length: Int) {
            self.base[self.lengthAt] = UInt8(truncatingIfNeeded: length >> 8)
            self.base[self.lengthAt + 1] = UInt8(truncatingIfNeeded: length)
            self.lengthAt += 2
        }

        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.putLength(bytes.count)
            if let source = bytes.baseAddress { (self.base + self.textAt).update(from: source, count: bytes.count) }
            self.textAt += bytes.count
        }
    }

    /// The request as it was given (with an empty body).
    var request: HTTPRequest {
        HTTPRequest(head: self.head, body: [], remoteAddress: self.remoteAddress, isSecure: self.isSecure)
    }

    private var head: HTTPRequestHead {
        switch self.storage {
        case .plain(let box):
            return box.head
        case .packed(let bytes):
            return bytes.withUnsafeBufferPointer { raw in
                func length(_ index: Int) -> Int { Int(raw[2 * index]) << 8 | Int(raw[2 * index + 1]) }
                let count = length(0)
                var offset = 2 + 2 * count
                func field(_ index: Int) -> String {
                    let size = length(index + 1)
                    defer { offset += size }
                    return String(decoding: UnsafeBufferPointer(rebasing: raw[offset..<(offset + size)]), as: UTF8.self)
                }
                let method = field(0)
                let target = field(1)
                var headers = HTTPHeaders()
                headers.reserveCapacity((count - 2) / 2)
                var index = 2
                while index + 1 < count {
                    let name = field(index)
                    headers.add(name, field(index + 1))
                    index += 2
                }
                return HTTPRequestHead(method: method, target: target, versionMajor: Int(self.versionMajor),
                                       versionMinor: Int(self.versionMinor), headers: headers)
            }
        }
    }
}
