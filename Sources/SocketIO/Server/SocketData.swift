/// A typed key for `SocketData`.
///
///     extension SocketDataKey where Value == String { static let user = SocketDataKey("user") }
///     socket.data[.user] = "ada"
public struct SocketDataKey<Value: Sendable>: Sendable, Hashable {
    /// The name the value is stored under.
    public let name: String

    /// The key called `name`.
    public init(_ name: String) {
        self.name = name
    }
}

/// Per-socket application data (Node's `socket.data`): read and written on the socket's loop, copied into
/// `fetchSockets()` snapshots.
public struct SocketData: Sendable {
    private var storage: [String: any Sendable] = [:]

    /// No data.
    public init() {}

    /// The value stored under `key`, if it has that type.
    public subscript<Value: Sendable>(key: SocketDataKey<Value>) -> Value? {
        get { self.storage[key.name] as? Value }
        set {
            if let newValue {
                self.storage[key.name] = newValue
            } else {
                self.storage.removeValue(forKey: key.name)
            }
        }
    }

    /// The value stored under `name`, untyped.
    public subscript(name: String) -> (any Sendable)? {
        get { self.storage[name] }
        set {
            if let newValue {
                self.storage[name] = newValue
            } else {
                self.storage.removeValue(forKey: name)
            }
        }
    }

    /// The names in use.
    public var keys: [String] { Array(self.storage.keys) }

    /// Whether nothing is stored.
    public var isEmpty: Bool { self.storage.isEmpty }
}
