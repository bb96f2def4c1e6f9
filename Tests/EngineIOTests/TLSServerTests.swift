import Foundation
import XCTest

@testable import HTTPKit
@testable import Transport

/// The server side of TLS in TCPConnection, over real sockets: requests over https are answered and marked
/// secure, a stalled or garbage handshake costs only its own connection, and a reload serves the new
/// certificate to new connections while older ones keep theirs. Certificates come from the openssl CLI.
final class TLSServerTests: XCTestCase {
    private var directory: String!
    private var serverGroup: EventLoopGroup!
    private var clientGroup: EventLoopGroup!
    private var server: HTTPServer!
    private var context: TLSServerContext!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("no openssl CLI") }
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-server-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        try self.makeCertificate(name: "first")
        try self.makeCertificate(name: "second")
        try self.install("first")
        self.context = try TLSServerContext(certificateFile: self.path("live.crt"), keyFile: self.path("live.key"),
                                            handshakeTimeoutMillis: 300)
        self.serverGroup = try EventLoopGroup(loopCount: 1)
        self.clientGroup = try EventLoopGroup(loopCount: 1)
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.tls = self.context
        self.server = try HTTPServer(configuration: configuration, group: self.serverGroup, handler: SchemeHandler())
    }

    override func tearDown() {
        self.server?.stopAccepting()
        self.serverGroup?.shutdown()
        self.clientGroup?.shutdown()
        // XCTest keeps every test case until the process exits: let go of the servers, loops and TLS context.
        (self.server, self.serverGroup, self.clientGroup, self.context) = (nil, nil, nil, nil)
        if let directory = self.directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    private func path(_ name: String) -> String { self.directory + "/" + name }

    /// A self-signed certificate for 127.0.0.1 in `<name>.crt` / `<name>.key` (its own trust anchor).
    private func makeCertificate(name: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", self.path(name + ".key"), "-out", self.path(name + ".crt"), "-days", "2",
                             "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl req \(name)")
    }

    /// Makes `name` the certificate the server's files hold.
    private func install(_ name: String) throws {
        for ext in ["crt", "key"] {
            try? FileManager.default.removeItem(atPath: self.path("live." + ext))
            try FileManager.default.copyItem(atPath: self.path(name + "." + ext), toPath: self.path("live." + ext))
        }
    }

    /// Opens a TLS connection trusting only `trusting`'s certificate.
    private func connect(trusting: String) async -> Result<HTTPClientConnection, HTTPClientError> {
        let connector: TLSConnector
        do {
            var configuration = TLSConfiguration(additionalCAFiles: [self.path(trusting + ".crt")])
            configuration.trustSystemRoots = false
            connector = try TLSConnector(configuration: configuration)
        } catch {
            return .failure(.connectFailed("\(error)"))
        }
        return await withCheckedContinuation { continuation in
            HTTPClientConnection.connect(host: "127.0.0.1", port: self.server.port, connector: connector,
                                         on: self.clientGroup.loops[0], timeoutMillis: 5_000) { result in
                continuation.resume(returning: result)
            }
        }
    }

    /// GET / on `connection`; the body says how the server saw the request.
    private func get(_ connection: HTTPClientConnection) async throws -> String {
        let loop = self.clientGroup.loops[0]
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            loop.execute {
                connection.execute(HTTPClientRequest(target: "/"), timeoutMillis: 5_000) { continuation.resume(returning: $0) }
            }
        }
        let response = try result.get()
        XCTAssertEqual(response.status, 200)
        return String(decoding: response.body, as: UTF8.self)
    }

    func testRequestsOverTLSAreAnsweredAndMarkedSecure() async throws {
        let connection = try await self.connect(trusting: "first").get()
        let first = try await self.get(connection)
        let second = try await self.get(connection)
        XCTAssertEqual(first, "https 127.0.0.1")
        XCTAssertEqual(second, "https 127.0.0.1", "keep-alive over the same TLS session")
    }

    func testStalledAndGarbageHandshakesCostOnlyTheirConnection() async throws {
        let stalled = try TestSocket(port: self.server.port)
        let garbage = try TestSocket(port: self.server.port)
        try garbage.send([0x16, 0x03, 0x01, 0x00, 0x05] + Array("not a client hello".utf8) + [UInt8](repeating: 0xAB, count: 300))
        // Someone else is served meanwhile.
        let body = try await self.get(try await self.connect(trusting: "first").get())
        XCTAssertEqual(body, "https 127.0.0.1")
        // The garbage gets a TLS alert (record type 21), then the end of the connection.
        guard case .bytes(let alert) = garbage.receive(deadline: TestDeadline.after(5)) else { return XCTFail("no alert") }
        XCTAssertEqual(alert.first, 21)
        XCTAssertTrue(Self.closes(garbage))
        // The silent one is closed by the handshake timeout (300 ms here), with nothing sent.
        XCTAssertTrue(Self.closes(stalled), "a stalled handshake must not hold its connection forever")
    }

    private static func closes(_ socket: TestSocket) -> Bool {
        let deadline = TestDeadline.after(5)
        while true {
            switch socket.receive(deadline: deadline) {
            case .closed: return true
            case .timedOut: return false
            case .bytes: continue
            }
        }
    }

    func testReloadServesTheNewCertificateToNewConnectionsOnly() async throws {
        let before = try await self.connect(trusting: "first").get()
        try self.install("second")
        try self.context.reload()
        guard case .failure(let error) = await self.connect(trusting: "first") else { return XCTFail("old certificate still served") }
        XCTAssertTrue("\(error)".contains("certificate verify failed"), "\(error)")
        let after = try await self.connect(trusting: "second").get()
        let afterBody = try await self.get(after)
        let beforeBody = try await self.get(before)
        XCTAssertEqual(afterBody, "https 127.0.0.1")
        XCTAssertEqual(beforeBody, "https 127.0.0.1", "a connection made before the reload keeps working")
        // A broken file leaves the current certificate in place.
        try "not a certificate".write(toFile: self.path("live.crt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try self.context.reload())
        let still = try await self.get(try await self.connect(trusting: "second").get())
        XCTAssertEqual(still, "https 127.0.0.1")
    }
}

/// Answers `<scheme> <remoteAddress>`.
private final class SchemeHandler: HTTPRequestHandling {
    func handle(_ request: HTTPRequest, exchange: HTTPExchange) {
        exchange.respond(.text("\(request.scheme) \(request.remoteAddress)"))
    }
}
