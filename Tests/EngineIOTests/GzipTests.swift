import CZlib
@testable import EngineIO
@testable import HTTPKit
import XCTest

final class GzipTests: XCTestCase {
    /// Inflates with zlib directly (independent of `Gzip.decompress`), expecting a gzip wrapper.
    private func inflateGzip(_ data: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 31, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 1 << 20)
        var input = data
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return Array(output[0..<Int(stream.total_out)])
    }

    private let text = Array(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 200).utf8)

    func testGzipRoundTripsThroughZlibInflate() throws {
        let compressed = try gzip(text, level: 9)
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1F, 0x8B], "gzip magic")
        XCTAssertLessThan(compressed.count, text.count / 10)
        XCTAssertEqual(inflateGzip(compressed), text)
        XCTAssertEqual(try Gzip.decompress(compressed), text)
        XCTAssertEqual(inflateGzip(try gzip([])), [])
        let random = (0..<5000).map { _ in UInt8.random(in: 0...255) }
        XCTAssertEqual(inflateGzip(try gzip(random, level: 1)), random)
    }

    func testDecompressRefusesOutputOverLimitAndGarbage() throws {
        XCTAssertThrowsError(try Gzip.decompress(try gzip(text), maxSize: 100))
        XCTAssertThrowsError(try Gzip.decompress(Array("not gzip".utf8)))
        XCTAssertThrowsError(try Gzip.decompress(Array(try gzip(text).prefix(20))))
    }

    private func response(type: String = "application/json", size: Int = 4000) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": type, "ETag": "\"v1\""], body: Array(text.prefix(size)))
    }

    func testCompressibleResponseIsGzippedWhenAccepted() throws {
        let result = ResponseCompression().apply(to: response(), requestHeaders: ["Accept-Encoding": "gzip, deflate, br"])
        XCTAssertEqual(result.headers["Content-Encoding"], "gzip")
        XCTAssertEqual(result.headers["Vary"], "Accept-Encoding")
        XCTAssertEqual(result.headers["ETag"], "W/\"v1\"")
        guard case .bytes(let body) = result.body else { return XCTFail("expected bytes") }
        XCTAssertEqual(inflateGzip(body), Array(text.prefix(4000)))
    }

    func testQZeroRefusesGzip() {
        for header in ["gzip;q=0", "gzip; q=0.000, deflate", "*;q=0", "identity", "br, gzip;q=0, *;q=1"] {
            let result = ResponseCompression().apply(to: response(), requestHeaders: ["Accept-Encoding": header])
            XCTAssertNil(result.headers["Content-Encoding"], header)
            XCTAssertEqual(result.headers["Vary"], "Accept-Encoding", "still varies: \(header)")
        }
        XCTAssertTrue(ResponseCompression.acceptsGzip(["*"]))
        XCTAssertTrue(ResponseCompression.acceptsGzip(["br;q=1, GZIP;q=0.1"]))
        XCTAssertFalse(ResponseCompression.acceptsGzip([]))
    }

    func testSmallBinaryOrAlreadyEncodedResponsesAreLeftAlone() {
        let accept: HTTPHeaders = ["Accept-Encoding": "gzip"]
        let compression = ResponseCompression()
        XCTAssertNil(compression.apply(to: response(size: 1023), requestHeaders: accept).headers["Content-Encoding"])
        XCTAssertNil(compression.apply(to: response(type: "image/png"), requestHeaders: accept).headers["Vary"])
        var encoded = response()
        encoded.headers.add("Content-Encoding", "br")
        XCTAssertEqual(compression.apply(to: encoded, requestHeaders: accept).headers["Content-Encoding"], "br")
        let file = HTTPResponse(status: 200, headers: ["Content-Type": "text/html"], body: .file(path: "/x", offset: 0, length: 5000))
        XCTAssertNil(compression.apply(to: file, requestHeaders: accept).headers["Content-Encoding"])
        for type in ["text/html; charset=utf-8", "application/javascript", "image/svg+xml", "application/xml",
                     "application/ld+json", "text/css"] {
            XCTAssertTrue(ResponseCompression.isCompressible(contentType: type), type)
        }
    }

    func testCompressionMiddlewareAppliesToRouterResponses() async {
        let router = Router()
        router.use(ResponseCompression().middleware)
        let body = text
        router.get("/big") { _ in .text(String(decoding: body, as: UTF8.self)) }
        let result = await router.response(for: HTTPRequest(head: HTTPRequestHead(
            method: "GET", target: "/big", headers: ["Accept-Encoding": "gzip"])))
        XCTAssertEqual(result.headers["Content-Encoding"], "gzip")
    }
}
