/// The JSON text of a received packet's array payload, exactly as it arrived.
///
/// A server that relays an event (chat broadcast, room fan-out) can pass
/// ``eventArguments`` to ``SocketPacketEncoder/encodeEvent(namespace:name:rawArguments:ackId:attachmentCount:)``
/// instead of re-serialising the decoded values. For binary packets the text
/// still holds the `{"_placeholder":true,"num":N}` objects, so the same
/// attachments must be sent along with it.
public struct SocketRawData: Sendable {
    /// The payload text, e.g. `["chat",{"text":"hi"},2]`. Shares storage with
    /// the decoded input when that was a byte array.
    public let bytes: ArraySlice<UInt8>
    /// The element ranges given at init; nil when only the count and the tail were recorded (the server's
    /// fast path for EVENTs, which would otherwise allocate an array per packet for ranges that a relaying
    /// handler never reads), and the ranges are found again by scanning the (already validated) text.
    private let knownRanges: [Range<Int>]?
    /// Number of top-level elements.
    public let count: Int
    /// From the second element's start to the last element's end; empty (at `bytes.endIndex`) with fewer
    /// than two elements.
    private let tail: Range<Int>

    /// Creates raw data; `elementRanges` must be valid indices into `bytes`.
    public init(bytes: ArraySlice<UInt8>, elementRanges: [Range<Int>]) {
        self.bytes = bytes
        self.knownRanges = elementRanges
        self.count = elementRanges.count
        if elementRanges.count >= 2 {
            self.tail = elementRanges[1].lowerBound..<elementRanges[elementRanges.count - 1].upperBound
        } else {
            self.tail = bytes.endIndex..<bytes.endIndex
        }
    }

    /// Raw data of a top-level array that was validated with `JSONArrayScanner`, which found `count`
    /// elements and the `tail` after the first.
    init(bytes: ArraySlice<UInt8>, count: Int, tail: Range<Int>) {
        self.bytes = bytes
        self.knownRanges = nil
        self.count = count
        self.tail = tail
    }

    /// For each top-level array element, its byte range as indices into ``bytes``.
    public var elementRanges: [Range<Int>] {
        if let knownRanges = self.knownRanges { return knownRanges }
        return self.bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONArrayScanner(buffer, base: self.bytes.startIndex, maxDepth: 64, recordsRanges: true)
            // The text passed this scan when the packet arrived; a failure cannot happen, and would mean none.
            return scanner.scanArray(from: 0) ? scanner.ranges : []
        }
    }

    /// The text of element `index`, or `nil` if out of range.
    public func element(_ index: Int) -> ArraySlice<UInt8>? {
        guard index >= 0, index < self.count else { return nil }
        let ranges = self.elementRanges
        return index < ranges.count ? bytes[ranges[index]] : nil
    }

    /// The text from element `index` through the last element, separators
    /// included (e.g. `{"text":"hi"},2`); empty if there are no such elements.
    public func elements(from index: Int) -> ArraySlice<UInt8> {
        guard index >= 0, index < self.count else { return bytes[bytes.endIndex..<bytes.endIndex] }
        if index == 1 { return bytes[self.tail] }
        let ranges = self.elementRanges
        guard index < ranges.count else { return bytes[bytes.endIndex..<bytes.endIndex] }
        return bytes[ranges[index].lowerBound..<ranges[ranges.count - 1].upperBound]
    }

    /// For an EVENT: the arguments after the event name.
    public var eventArguments: ArraySlice<UInt8> { elements(from: 1) }

    /// For an ACK: all arguments.
    public var ackArguments: ArraySlice<UInt8> { elements(from: 0) }
}
