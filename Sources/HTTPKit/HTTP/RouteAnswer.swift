import Synchronization

/// A route handler answered without Swift concurrency: called on the connection's loop thread, it answers
/// through `answer` now or later, from any thread (e.g. after work on a queue of its own). It either throws or
/// answers; errors, thrown or passed to `answer.fail`, become the same responses as an async route's.
public typealias DirectRouteHandler = @Sendable (RequestContext, RouteAnswer) throws -> Void

/// Synchronous middleware, which the router can run on the loop thread around direct routes: `before` may answer
/// itself (no later layer or route runs); `after` sees every response from the layers inside it and the route,
/// error responses included. Async routes see it as an ordinary `Middleware`.
public struct SyncMiddleware: Sendable {
    /// Runs before the layers inside it; a response here answers the request.
    public let before: @Sendable (RequestContext) -> HTTPResponse?
    /// Runs on the response of the layers inside it (error responses too) and may replace it.
    public let after: @Sendable (RequestContext, HTTPResponse) -> HTTPResponse

    /// A layer from its two steps; either may be left out.
    public init(before: @escaping @Sendable (RequestContext) -> HTTPResponse? = { _ in nil },
                after: @escaping @Sendable (RequestContext, HTTPResponse) -> HTTPResponse = { _, response in response }) {
        self.before = before
        self.after = after
    }

    /// The same layer as async middleware.
    var asMiddleware: Middleware {
        let before = self.before, after = self.after
        return { context, next in
            if let answer = before(context) { return answer }
            return after(context, try await next(context))
        }
    }
}

/// The one answer of a direct route. The first `respond` or `fail` counts; later ones are ignored. One dropped
/// without an answer (a handler that lost it) answers 500, so a request never waits forever for it.
public final class RouteAnswer: Sendable {
    private let deliver: @Sendable (Result<HTTPResponse, any Error>) -> Void
    private let answered = Atomic<Bool>(false)

    init(_ deliver: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) {
        self.deliver = deliver
    }

    deinit {
        if !self.answered.load(ordering: .acquiring) { self.deliver(.failure(RouteAnswerDropped())) }
    }

    /// Answers with `response`.
    public func respond(_ response: HTTPResponse) {
        self.complete(.success(response))
    }

    /// Answers with the response for `error`, as if the route had thrown it.
    public func fail(_ error: any Error) {
        self.complete(.failure(error))
    }

    /// Answers with `result`.
    public func complete(_ result: Result<HTTPResponse, any Error>) {
        guard !self.answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.deliver(result)
    }
}

/// A direct route's answer was released without a response (answers 500).
struct RouteAnswerDropped: Error {}
