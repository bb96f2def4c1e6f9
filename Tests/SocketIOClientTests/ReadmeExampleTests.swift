import Foundation
import SocketIO
import SocketIOClient
import Synchronization
import XCTest

/// The Swift worker example of docs/spaces.md, kept compiling and working: it serves one request of a fake server.
final class ReadmeExampleTests: XCTestCase {
    // BEGIN DOCS EXAMPLE (docs/spaces.md, "A Swift worker"; body of `main`; `url` and `runModel` stand for yours)
    static func exampleWorker(url: String, runModel: @escaping @Sendable (String) async throws -> String) async throws {
        var options = SocketManagerOptions()
        options.autoConnect = false                       // install handlers first, then connect
        let manager = try SocketManager(url: url, options: options)
        let socket = manager.socket("/", options: ClientSocketOptions(auth: ["token": "worker-secret"]))

        // Runs on every (re)connection, so the worker re-registers by itself.
        socket.onConnect {
            socket.emit("register", ["space_name": "my-space", "token": "worker-secret", "concurrency": 2])
        }
        socket.on("register_response") { args, _ in
            let ok = args.first?["success"]?.boolValue == true
            print(ok ? "Registration successful!" : "refused: \(args.first?["message"]?.stringValue ?? "?")")
        }

        let requests = socket.events("inference_request")
        socket.connect()
        for await request in requests {
            guard let data = request.arguments.first, let id = data["request_id"]?.stringValue else { continue }
            let prompt = data["payload"]?["prompt"]?.stringValue ?? ""
            Task {
                do {
                    let text = try await runModel(prompt)
                    socket.emit("inference_result", ["request_id": .string(id), "status": "completed",
                                                     "result": ["text_output": .string(text)]])
                } catch {
                    socket.emit("inference_result", ["request_id": .string(id), "status": "failed",
                                                     "result": ["error": .string("\(error)")]])
                }
            }
        }
    }
    // END DOCS EXAMPLE

    func testExampleWorkerServesARequest() async throws {
        let result = Mutex<JSONValue?>(nil)
        let server = try ClientTestServer.make(setup: { io in
            io.on(.connection) { socket in
                socket.on("register") { args, _ in
                    socket.emit("register_response", ["success": true, "message": "ok"])
                    socket.emit("inference_request", ["request_id": "r1", "payload": ["prompt": "hi"]])
                }
                socket.on("inference_result") { args, _ in result.withLock { $0 = args.first } }
            }
        })
        defer { server.shutdown() }
        let url = server.url
        let model: @Sendable (String) async throws -> String = { "echo: \($0)" }
        let worker = Task.detached { try await ReadmeExampleTests.exampleWorker(url: url, runModel: model) }
        defer { worker.cancel() }
        let deadline = Date(timeIntervalSinceNow: 10)
        while result.withLock({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(result.withLock { $0 }, ["request_id": "r1", "status": "completed", "result": ["text_output": "echo: hi"]])
    }
}
