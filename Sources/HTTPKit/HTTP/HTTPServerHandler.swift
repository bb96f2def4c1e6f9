/// What the HTTP server hands each complete request to.
///
/// Implementations answer by calling `responder.respond(_:)` exactly once, possibly later and from
/// another thread (the router answers from a Task).
public protocol HTTPServerHandler: Sendable {
    /// Handles one request.
    func handle(_ request: HTTPRequest, responder: any HTTPResponder)
}
