import SocketIO

// Temporary: the single-server behaviour of serverSideEmit (no other servers, so no answers), with the
// names of REDIS_API.md, until branch redis-adapter brings the real API into SocketIO.
extension Namespace {
    func serverSideEmit(_ event: String, _ args: [JSONValue]) {}

    func serverSideEmitWithAck(_ event: String, _ args: [JSONValue], timeoutMillis: Int,
                               completion: @escaping @Sendable (_ error: SocketAckError?, _ responses: [JSONValue]) -> Void) {
        completion(nil, [])
    }

    func onServerSideEvent(_ event: String,
                           _ handler: @escaping @Sendable (_ args: [JSONValue], _ ack: (@Sendable (JSONValue) -> Void)?) -> Void) {}
}
