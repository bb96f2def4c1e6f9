import Synchronization
import Transport

/// One request awaiting its response. Answer it once, from any thread; later answers are ignored.
public final class HTTPExchange: HTTPResponder, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `connection` is only used on `loop`; `answered` is atomic.
    /// The loop that owns the connection.
    public let loop: EventLoop
    /// The method of the request (a HEAD response carries no body).
    public let method: String
    /// Strong, and dropped once the response is written or the connection closes (`detach`): a weak
    /// reference would move the connection's reference counts to a side table, making every retain and
    /// release of it take the runtime's slow path.
    @exclusivity(unchecked) private var connection: HTTPServerConnection?
    private let answered = Atomic<Bool>(false)

    init(loop: EventLoop, method: String, connection: HTTPServerConnection) {
        self.loop = loop
        self.method = method
        self.connection = connection
    }

    /// True once a response was given or the connection went away.
    public var isAnswered: Bool { self.answered.load(ordering: .acquiring) }

    /// Sends `response`; hops to the connection's loop when called elsewhere.
    public func respond(_ response: HTTPResponse) {
        guard !self.answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if self.loop.inEventLoop {
            self.connection?.send(response, for: self)
        } else {
            self.loop.execute { [self] in self.connection?.send(response, for: self) }
        }
    }

    /// Sends a response made of `head` and `body`: the same bytes as an `HTTPResponse` with the head's status
    /// and headers, without encoding the headers again. Hops to the connection's loop when called elsewhere.
    public func respond(_ head: HTTPPreparedHead, body: [UInt8]) {
        guard !self.answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if self.loop.inEventLoop {
            self.connection?.send(head, body: body, for: self)
        } else {
            self.loop.execute { [self] in self.connection?.send(head, body: body, for: self) }
        }
    }

    /// Sends a response made of `head` and a body of `bodyLength` bytes that `write` appends: on the
    /// connection's loop straight into its output buffer (no body array, no copy). `write` must append
    /// exactly `bodyLength` bytes; it runs at most once, before this returns.
    public func respond(_ head: HTTPPreparedHead, bodyLength: Int, writingBody write: (inout [UInt8]) -> Void) {
        guard self.loop.inEventLoop else {
            var body: [UInt8] = []
            body.reserveCapacity(bodyLength)
            write(&body)
            self.respond(head, body: body)
            return
        }
        guard !self.answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.connection?.send(head, bodyLength: bodyLength, writingBody: write, for: self)
    }

    /// Marks the exchange dead because its connection closed; `onAbandon` listeners fire on the loop.
    func abandon() {
        self.connection = nil
        if !self.answered.exchange(true, ordering: .acquiringAndReleasing) {
            self.abandonHandler?(self)
        }
        self.abandonHandler = nil
    }

    /// Forgets the connection once the response is written (loop thread).
    func detach() {
        self.connection = nil
    }

    /// The loop that the request's work ran on, when it is not the connection's: with connections hashed evenly
    /// over the loops (`ConnectionSpread.evenHash`), a keep-alive connection moves there once this response is
    /// written, so that the client's next requests (the polls of one Engine.IO session) need no hop between
    /// loops. Set on the connection's loop before handing the work over.
    @exclusivity(unchecked) public var preferredLoop: EventLoop?

    /// Called (on the loop) with this exchange if the connection closes before a response was given:
    /// long-polling uses it to forget a poll whose client left. The exchange is passed in so that a handler
    /// need not capture it (weakly, which costs every exchange a side table). Set and read on the loop only
    /// (no dynamic exclusivity check).
    @exclusivity(unchecked) public var abandonHandler: ((HTTPExchange) -> Void)?
}
