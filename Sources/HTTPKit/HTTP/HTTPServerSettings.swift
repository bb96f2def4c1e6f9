/// A server's configuration in one shared box: each connection holds a reference to it instead of a copy.
final class HTTPServerSettings: Sendable {
    /// What the server was started with.
    let configuration: HTTPServerConfiguration

    /// Boxes `configuration`.
    init(_ configuration: HTTPServerConfiguration) {
        self.configuration = configuration
    }
}
