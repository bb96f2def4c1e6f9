import Transport

/// Runs a chain of middlewares for one subject (a connecting socket, an incoming packet) on `loop`: each
/// calls `next(nil)` to pass on or `next(error)` to stop the chain; `done` gets the first error or nil.
final class MiddlewareRun<Subject: Sendable, Failure: Error>: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `index`, `finished` and `done` are used on `loop` only; `next`
    // hops there before touching them.
    typealias Step = @Sendable (_ subject: Subject, _ next: @escaping @Sendable (Failure?) -> Void) -> Void

    private let subject: Subject
    private let loop: EventLoop
    private let middlewares: [Step]
    private let done: (Failure?) -> Void
    private var index = 0
    private var finished = false

    init(subject: Subject, loop: EventLoop, middlewares: [Step], done: @escaping (Failure?) -> Void) {
        self.subject = subject
        self.loop = loop
        self.middlewares = middlewares
        self.done = done
    }

    func start() {
        self.step()
    }

    private func step() {
        guard self.index < self.middlewares.count else {
            self.finished = true
            self.done(nil)
            return
        }
        let position = self.index
        self.middlewares[position](self.subject) { error in
            if self.loop.inEventLoop {
                self.advance(from: position, error: error)
            } else {
                self.loop.execute { self.advance(from: position, error: error) }
            }
        }
    }

    private func advance(from position: Int, error: Failure?) {
        // A middleware that calls `next` twice is ignored the second time.
        guard !self.finished, position == self.index else { return }
        if let error {
            self.finished = true
            self.done(error)
            return
        }
        self.index += 1
        self.step()
    }
}
