import Foundation
import SocketIO
import SocketIOClient
import SocketIOTestSupport
import Transport
import XCTest

/// https/wss through the system OpenSSL, against python-socketio serving a certificate from a CA made at
/// test time with the openssl CLI.
final class TLSTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("no openssl CLI") }
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("sio-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        try ext.write(to: self.directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try self.openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=SocketIOClient Test CA",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try self.openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try self.openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                          "-out", "server.pem", "-days", "2", "-extfile", "server.ext"])
    }

    override func tearDown() {
        if let directory = self.directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = self.directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.joined(separator: " "))")
    }

    private func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

    private func startServer() throws -> PythonServer {
        try PythonServer(arguments: ["--certfile", self.path("server.pem"), "--keyfile", self.path("server.key")])
    }

    func testHTTPSAndWSSWithATrustedCA() async throws {
        let server = try self.startServer()
        defer { server.stop() }
        try await self.roundTripsOverEveryTransport(port: server.port)
    }

    /// Our own server terminating TLS (two loops, so an upgrade moves a TLS connection to its session's loop).
    func testOurServerOverHTTPSAndWSS() async throws {
        let context = try TLSServerContext(certificateFile: self.path("server.pem"), keyFile: self.path("server.key"))
        let server = try InProcessSocketIOServer(loops: 2, tls: context) { io in
            io.on(.connection) { socket in
                socket.onEvent("echo-ack") { event in event.ack?.send(event.arguments) }
                socket.on("secure") { _, ack in ack?(.bool(socket.handshake.secure)) }
                socket.on("transport") { _, ack in ack?(.string(socket.transport == .websocket ? "websocket" : "polling")) }
            }
        }
        defer { server.shutdown() }
        try await self.roundTripsOverEveryTransport(port: server.port) { socket in
            let secure = try await socket.emitWithAck("secure").first?.boolValue
            XCTAssertEqual(secure, true, "handshake.secure")
        }
    }

    /// Over polling, websocket and upgrade, trusting the test CA: a 70 KB binary round trip, then waits until
    /// the server reports the expected transport; `extra` checks more on each connected socket.
    private func roundTripsOverEveryTransport(port: Int, extra: (ClientSocket) async throws -> Void = { _ in }) async throws {
        for transports: [EngineTransport] in [[.polling], [.websocket], [.polling, .websocket]] {
            var options = SocketManagerOptions()
            options.transports = transports
            options.tls = TLSConfiguration(additionalCAFiles: [self.path("ca.pem")])
            let manager = try SocketManager(url: "https://localhost:\(port)", options: options)
            let socket = manager.socket("/")
            try await socket.waitForConnection(timeout: .seconds(15))
            let blob = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let answer = try await socket.emitWithAck("echo-ack", "secure", .data(blob), timeout: .seconds(10))
            XCTAssertEqual(answer.first, "secure", "\(transports)")
            XCTAssertEqual(answer.last?.dataValue, blob, "\(transports)")
            try await extra(socket)
            let expected = transports.contains(.websocket) ? "websocket" : "polling"
            let deadline = Date(timeIntervalSinceNow: 10)
            var transport = ""
            while Date() < deadline {
                transport = try await socket.emitWithAck("transport").first?.stringValue ?? ""
                if transport == expected { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertEqual(transport, expected)
            manager.disconnect()
        }
    }

    func testUntrustedCertificateAndWrongHostAreRefused() async throws {
        let server = try self.startServer()
        defer { server.stop() }
        // System roots only: our test CA is unknown; then our CA trusted, but the certificate names localhost.
        for (url, caFiles, expected) in [
            ("https://localhost:\(server.port)", [String](), "certificate verify failed"),
            ("https://127.0.0.1:\(server.port)", [self.path("ca.pem")], "certificate verify failed: IP address mismatch"),
        ] {
            var options = SocketManagerOptions()
            options.transports = [.websocket]
            options.reconnection = false
            options.tls = TLSConfiguration(additionalCAFiles: caFiles)
            let manager = try SocketManager(url: url, options: options)
            let socket = manager.socket("/")
            do {
                // Reconnection is off, so the failure is reported at once; the bound is for a loaded machine.
                try await socket.waitForConnection(timeout: .seconds(30))
                XCTFail("\(url): connected")
            } catch let error as ClientConnectError {
                XCTAssertEqual(error.kind, .transport)
                XCTAssertTrue(error.message.contains(expected), "\(url): \(error.message)")
            }
            manager.disconnect()
        }
    }

    func testMissingCAFileIsAConfigurationError() {
        var options = SocketManagerOptions()
        options.tls = TLSConfiguration(additionalCAFiles: ["/nonexistent/ca.pem"])
        XCTAssertThrowsError(try SocketManager(url: "https://localhost:1", options: options)) { error in
            guard case .tls = error as? ClientConfigurationError else { return XCTFail("\(error)") }
        }
    }
}
