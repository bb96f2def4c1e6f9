/// The numeric `type` of a message between nodes (`RequestType` of `@socket.io/redis-adapter`).
public enum RedisRequestType: Int, Sendable, Hashable {
    /// Ids of the sockets in some rooms (answered; no longer sent by 8.x).
    case sockets = 0
    /// Every room of the namespace.
    case allRooms = 1
    /// Matching sockets join rooms (no answer).
    case remoteJoin = 2
    /// Matching sockets leave rooms (no answer).
    case remoteLeave = 3
    /// Matching sockets are disconnected (no answer).
    case remoteDisconnect = 4
    /// Details of the matching sockets.
    case remoteFetch = 5
    /// An event for the other servers; also the type of the answer to it.
    case serverSideEmit = 6
    /// A broadcast expecting acknowledgements (MessagePack).
    case broadcast = 7
    /// How many clients a node wrote an acknowledged broadcast to.
    case broadcastClientCount = 8
    /// One client's acknowledgement of a broadcast (MessagePack).
    case broadcastAck = 9
}

/// Why a message from Redis could not be read.
public enum RedisMessageError: Error, Sendable, Equatable {
    /// Neither valid JSON nor valid MessagePack.
    case malformed(String)
    /// Well-formed, but a field is missing or has the wrong type.
    case invalidField(String)
    /// A `type` this adapter does not know.
    case unknownType(Int)
}
