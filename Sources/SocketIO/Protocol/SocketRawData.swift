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
    /// For each top-level array element, its byte range as indices into ``bytes``.
    public let elementRanges: [Range<Int>]

    /// Creates raw data; `elementRanges` must be valid indices into `bytes`.
    public init(bytes: ArraySlice<UInt8>, elementRanges: [Range<Int>]) {
        self.bytes = bytes
        self.elementRanges = elementRanges
    }

    /// Number of top-level elements.
    public var count: Int { elementRanges.count }

    /// The text of element `index`, or `nil` if out of range.
    public func element(_ index: Int) -> ArraySlice<UInt8>? {
        guard elementRanges.indices.contains(index) else { return nil }
        return bytes[elementRanges[index]]
    }

    /// The text from element `index` through the last element, separators
    /// included (e.g. `{"text":"hi"},2`); empty if there are no such elements.
    public func elements(from index: Int) -> ArraySlice<UInt8> {
        guard index >= 0, index < elementRanges.count, let last = elementRanges.last else {
            return bytes[bytes.endIndex..<bytes.endIndex]
        }
        return bytes[elementRanges[index].lowerBound..<last.upperBound]
    }

    /// For an EVENT: the arguments after the event name.
    public var eventArguments: ArraySlice<UInt8> { elements(from: 1) }

    /// For an ACK: all arguments.
    public var ackArguments: ArraySlice<UInt8> { elements(from: 0) }
}
