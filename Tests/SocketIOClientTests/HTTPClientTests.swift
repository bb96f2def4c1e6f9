import EngineIO
import Foundation
import HTTPKit
import Synchronization
import Transport
import XCTest

/// The HTTP/1.1 client pieces: response parser, connection (keep-alive, timeouts), TCP connector.
final class HTTPClientTests: XCTestCase {
    private func parseAll(_ chunks: [String], head: Bool = false) throws -> [HTTPClientResponse] {
        var parser = HTTPResponseParser()
        var buffer = ByteBuffer()
        var responses: [HTTPClientResponse] = []
        for chunk in chunks {
            buffer.append(string: chunk)
            while let response = try parser.parse(&buffer, isHeadRequest: head) { responses.append(response) }
        }
        return responses
    }

    func testContentLengthBodySplitAcrossReads() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
        // Every split point gives the same response.
        for split in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            let responses = try self.parseAll([String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)])
            XCTAssertEqual(responses.count, 1, "split \(split)")
            XCTAssertEqual(responses.first?.body, Array("hello world".utf8))
            XCTAssertEqual(responses.first?.headers["content-type"], "text/plain")
            XCTAssertEqual(responses.first?.keepAlive, true)
        }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let responses = try self.parseAll([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n",
            "6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ])
        XCTAssertEqual(responses.count, 2)
        XCTAssertEqual(responses[0].body, Array("hello world".utf8))
        XCTAssertEqual(responses[1].status, 204)
        XCTAssertEqual(responses[1].body, [])
    }

    func testBodyUntilCloseAndHead() throws {
        var parser = HTTPResponseParser()
        var buffer = ByteBuffer(string: "HTTP/1.0 200 OK\r\n\r\npart one, ")
        XCTAssertNil(try parser.parse(&buffer))
        buffer.append(string: "part two")
        XCTAssertNil(try parser.parse(&buffer))
        let response = try parser.finish()
        XCTAssertEqual(response?.body, Array("part one, part two".utf8))
        XCTAssertEqual(response?.keepAlive, false)

        let head = try self.parseAll(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"], head: true)
        XCTAssertEqual(head.first?.body, [])
    }

    func testInterimResponsesAreSkippedAndUpgradeKeepsTheRest() throws {
        let responses = try self.parseAll(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
        XCTAssertEqual(responses.map(\.status), [200])

        var parser = HTTPResponseParser()
        var buffer = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        buffer.append(contentsOf: [0x81, 0x02, 0x68, 0x69])
        let upgrade = try parser.parse(&buffer)
        XCTAssertEqual(upgrade?.status, 101)
        XCTAssertEqual(buffer.readableBytes, 4, "the WebSocket bytes stay in the buffer")
    }

    func testMalformedAndOversizedResponsesAreRejected() {
        XCTAssertThrowsError(try self.parseAll(["HTTP/2 200 OK\r\n\r\n"]))
        XCTAssertThrowsError(try self.parseAll(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"]))
        XCTAssertThrowsError(try self.parseAll(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]))
        var parser = HTTPResponseParser(limits: HTTPClientLimits(maxHeaderBytes: 1024, maxBodySize: 10))
        var big = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n")
        XCTAssertThrowsError(try parser.parse(&big)) { XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge) }
        var parser2 = HTTPResponseParser(limits: HTTPClientLimits(maxHeaderBytes: 64))
        var long = ByteBuffer(string: "HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 20))
        XCTAssertThrowsError(try parser2.parse(&long))
    }

    func testRequestEncoding() {
        var headers = HTTPHeaders()
        headers.add("X-Evil", "a\r\nInjected: yes")
        var out: [UInt8] = []
        HTTPClientRequest(method: "POST", target: "/p?q=1", headers: headers, body: Array("abc".utf8)).encode(host: "h:1", into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "POST /p?q=1 HTTP/1.1\r\nHost: h:1\r\nX-Evil: aInjected: yes\r\nContent-Length: 3\r\n\r\nabc")
    }

    func testKeepAliveConnectionCarriesSeveralRequestsAndTimesOut() throws {
        let server = try RawHTTPServer { head, _ in
            if head.hasPrefix("GET /hang") { return nil }
            return rawResponse(body: String(head.split(separator: " ")[1]))
        }
        defer { server.shutdown() }
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.next()
        let results = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        HTTPClientConnection.connect(host: "127.0.0.1", port: server.port, on: loop) { result in
            guard case .success(let connection) = result else {
                results.withLock { $0.append("connect failed") }
                done.signal()
                return
            }
            connection.execute(HTTPClientRequest(target: "/one"), timeoutMillis: 5000) { first in
                results.withLock { $0.append((try? first.get()).map { String(decoding: $0.body, as: UTF8.self) } ?? "error") }
                connection.execute(HTTPClientRequest(target: "/two"), timeoutMillis: 5000) { second in
                    results.withLock { $0.append((try? second.get()).map { String(decoding: $0.body, as: UTF8.self) } ?? "error") }
                    connection.execute(HTTPClientRequest(target: "/hang"), timeoutMillis: 150) { third in
                        if case .failure(let error) = third { results.withLock { $0.append("\(error)") } }
                        results.withLock { $0.append("closed:\(connection.isClosed)") }
                        done.signal()
                    }
                }
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(results.withLock { $0 }, ["/one", "/two", "timed out", "closed:true"])
        XCTAssertEqual(server.received.count, 3, "one connection, three requests")
    }

    func testConnectorReportsRefusalAndResolvesNames() throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let free = try RawHTTPServer { _, _ in nil }
        let port = free.port
        free.shutdown()
        let outcome = Mutex<String>("")
        let done = DispatchSemaphore(value: 0)
        TCPConnector.connect(host: "127.0.0.1", port: port, on: group.next(), timeoutMillis: 2000) { result in
            if case .failure(.connectFailed(_, let code)) = result { outcome.withLock { $0 = "refused:\(code == ECONNREFUSED)" } }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(outcome.withLock { $0 }, "refused:true")

        let server = try RawHTTPServer { _, _ in rawResponse(body: "hi") }
        defer { server.shutdown() }
        TCPConnector.connect(host: "localhost", port: server.port, on: group.next()) { result in
            switch result {
            case .success(let connection):
                outcome.withLock { $0 = "connected:\(connection.remoteAddress.port == server.port)" }
                connection.close()
            case .failure(let error):
                outcome.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(outcome.withLock { $0 }, "connected:true")

        TCPConnector.connect(host: "no-such-host.invalid", port: 80, on: group.next()) { result in
            if case .failure(.resolutionFailed) = result { outcome.withLock { $0 = "unresolved" } }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        XCTAssertEqual(outcome.withLock { $0 }, "unresolved")
    }
}
