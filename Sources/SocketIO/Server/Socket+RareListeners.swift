/// The listeners of a socket that most applications never add: in one box, so that a socket without them
/// carries one word instead of six arrays (48 bytes per idle connection). Touched on the socket's loop only.
final class SocketRareListeners {
    var anyListeners: [(id: Int, body: Socket.AnyListener)] = []
    var outgoingListeners: [(id: Int, body: Socket.AnyListener)] = []
    var disconnectingHandlers: [Socket.ReasonHandler] = []
    var disconnectHandlers: [Socket.ReasonHandler] = []
    /// Per-socket middlewares, already adapted to the chain runner; empty keeps events on the direct path.
    var middlewares: [MiddlewareRun<SocketEvent, any Error>.Step] = []
    var errorHandlers: [@Sendable (any Error) -> Void] = []
}

extension Socket {
    /// The box, taken when `create` and not there yet; nil otherwise when there is none.
    private func rareListeners(creating create: Bool) -> SocketRareListeners? {
        if let box = self.rareListeners { return box }
        guard create else { return nil }
        let box = SocketRareListeners()
        self.rareListeners = box
        return box
    }

    var anyListeners: [(id: Int, body: AnyListener)] {
        get { self.rareListeners?.anyListeners ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.anyListeners = newValue }
    }

    var outgoingListeners: [(id: Int, body: AnyListener)] {
        get { self.rareListeners?.outgoingListeners ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.outgoingListeners = newValue }
    }

    var disconnectingHandlers: [ReasonHandler] {
        get { self.rareListeners?.disconnectingHandlers ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.disconnectingHandlers = newValue }
    }

    var disconnectHandlers: [ReasonHandler] {
        get { self.rareListeners?.disconnectHandlers ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.disconnectHandlers = newValue }
    }

    var middlewares: [MiddlewareRun<SocketEvent, any Error>.Step] {
        get { self.rareListeners?.middlewares ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.middlewares = newValue }
    }

    var errorHandlers: [@Sendable (any Error) -> Void] {
        get { self.rareListeners?.errorHandlers ?? [] }
        set { self.rareListeners(creating: !newValue.isEmpty)?.errorHandlers = newValue }
    }
}
