/// A short value of a request's query (`polling`, `4`, a session id) kept inline, without a `String`:
/// values up to 24 bytes (every session id we issue is 20) sit in three words; longer ones keep a `String`
/// (and no words). Equal values always take the same form, so the synthesized `==` and hashing compare the
/// bytes. A struct of plain words, not an enum with a `String` case: copies need no switch on the case.
struct EngineQueryToken: Hashable, Sendable {
    private var first: UInt64 = 0
    private var second: UInt64 = 0
    private var third: UInt64 = 0
    private var count: Int
    private var long: String?

    static let inlineCapacity = 24

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.count = bytes.count
        guard bytes.count <= Self.inlineCapacity else {
            self.long = String(decoding: bytes, as: UTF8.self)
            return
        }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            if let base = bytes.baseAddress { raw.baseAddress?.copyMemory(from: base, byteCount: bytes.count) }
        }
        (self.first, self.second, self.third) = words
    }

    init(_ text: String) {
        var text = text
        self = text.withUTF8 { Self($0) }
    }

    init(_ text: StaticString) {
        self = Self(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The value as text (made on each call: for the rare reader that needs one).
    /// The bytes when held inline (nil for a long value).
    func withInlineBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard self.long == nil else { return nil }
        var words = (self.first, self.second, self.third)
        let count = self.count
        return withUnsafeBytes(of: &words) { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
    }

    var string: String {
        if let long = self.long { return long }
        var words = (self.first, self.second, self.third)
        let count = self.count
        return withUnsafeBytes(of: &words) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<count]), as: UTF8.self)
        }
    }

    static let polling = EngineQueryToken("polling")
    static let websocket = EngineQueryToken("websocket")
    static let four = EngineQueryToken("4")
    static let three = EngineQueryToken("3")
}

extension EngineTransport {
    /// The transport a query's `transport` value names, compared as bytes.
    init?(_ token: EngineQueryToken) {
        if token == .polling {
            self = .polling
        } else if token == .websocket {
            self = .websocket
        } else {
            return nil
        }
    }
}
