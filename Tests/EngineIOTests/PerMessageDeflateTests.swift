import CZlib
import XCTest

@testable import EngineIO
@testable import HTTPKit

final class PerMessageDeflateTests: XCTestCase {
    private let hello = Array("Hello".utf8)

    // MARK: Compression (RFC 7692 §7.2.3)

    func testCompressedHelloMatchesRFCExample() throws {
        XCTAssertEqual(try PerMessageDeflateCompressor().compress(hello), [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
    }

    func testSecondMessageWithContextTakeoverMatchesRFCExample() throws {
        let compressor = PerMessageDeflateCompressor()
        _ = try compressor.compress(hello)
        XCTAssertEqual(try compressor.compress(hello), [0xF2, 0x00, 0x11, 0x00, 0x00])
    }

    func testNoContextTakeoverCompressesEachMessageIndependently() throws {
        let compressor = PerMessageDeflateCompressor(noContextTakeover: true)
        let first = try compressor.compress(hello)
        XCTAssertEqual(try compressor.compress(hello), first)
    }

    func testEmptyMessageCompressesToSingleZeroByte() throws {
        XCTAssertEqual(try PerMessageDeflateCompressor().compress([UInt8]()), [0x00])
    }

    func testCompressAppendsToExistingOutput() throws {
        var output: [UInt8] = [0xAA, 0xBB]
        try PerMessageDeflateCompressor().compress(hello, appendingTo: &output)
        XCTAssertEqual(output, [0xAA, 0xBB, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
    }

    func testMessageCompressedInPartsEqualsWholeMessage() throws {
        let body = Array(String(repeating: "part of a message ", count: 50).utf8)
        for noContextTakeover in [false, true] {
            let whole = PerMessageDeflateCompressor(noContextTakeover: noContextTakeover)
            let parts = PerMessageDeflateCompressor(noContextTakeover: noContextTakeover)
            for _ in 0..<3 {
                let expected = try whole.compress([0x34] + body)
                var output: [UInt8] = []
                try [UInt8]([0x34]).withUnsafeBytes { try parts.compress($0, isFinal: false, appendingTo: &output) }
                try body.withUnsafeBytes { try parts.compress($0, isFinal: true, appendingTo: &output) }
                XCTAssertEqual(output, expected)
            }
        }
    }

    func testDecompressingRFCExamples() throws {
        let decompressor = PerMessageDeflateDecompressor()
        XCTAssertEqual(try decompressor.decompress([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], limit: 100), hello)
        XCTAssertEqual(try decompressor.decompress([0xF2, 0x00, 0x11, 0x00, 0x00], limit: 100), hello)
        XCTAssertEqual(try decompressor.decompress([0x00], limit: 100), [])
    }

    func testRoundTripAcrossWindowSizesAndContextModes() throws {
        // Text with repeats at distances beyond small windows, plus incompressible noise.
        var message = [UInt8]()
        for index in 0..<200 {
            message += Array("line \(index % 37): the quick brown fox \(index * 7919 % 1000)\n".utf8)
        }
        message += WebSocketTestFrames.payload(5000)
        for bits in 8...15 {
            for noContextTakeover in [false, true] {
                let compressor = PerMessageDeflateCompressor(windowBits: bits, noContextTakeover: noContextTakeover)
                let decompressor = PerMessageDeflateDecompressor(windowBits: bits, noContextTakeover: noContextTakeover)
                for round in 0..<3 {
                    let compressed = try compressor.compress(message)
                    XCTAssertEqual(
                        try decompressor.decompress(compressed, limit: 1 << 20), message,
                        "bits \(bits) takeover \(!noContextTakeover) round \(round)")
                }
            }
        }
    }

    /// Inflates a raw deflate stream with a 256-byte window, 16 output bytes at a time so that every
    /// back-reference must be served from that window; nil when the stream needs a larger one.
    private func inflateWith256ByteWindow(_ compressed: [UInt8]) -> [UInt8]? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            inflateEnd(stream)
            stream.deallocate()
        }
        guard inflateInit2_(stream, -8, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        var input = compressed + [0x00, 0x00, 0xFF, 0xFF]
        var output: [UInt8] = []
        return input.withUnsafeMutableBufferPointer { inputBuffer -> [UInt8]? in
            stream.pointee.next_in = inputBuffer.baseAddress
            stream.pointee.avail_in = uInt(inputBuffer.count)
            var chunk = [UInt8](repeating: 0, count: 16)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.pointee.next_out = chunkBuffer.baseAddress
                    stream.pointee.avail_out = uInt(chunkBuffer.count)
                    let status = inflate(stream, Z_SYNC_FLUSH)
                    return (status, chunkBuffer.count - Int(stream.pointee.avail_out))
                }
                output += chunk[..<produced]
                if status == Z_BUF_ERROR || (status == Z_OK && stream.pointee.avail_in == 0 && produced < 16) {
                    return output
                }
                if status != Z_OK { return nil }
            }
        }
    }

    func testWindowBits8OutputInflatesWithA256ByteWindow() throws {
        // zlib cannot deflate with an 8-bit raw window, so the compressor uses 9 bits; that is only
        // compliant because zlib never emits distances beyond 512 - 262 = 250. Check with a real 256-byte
        // inflate window on data that repeats at a distance of 300.
        var message: [UInt8] = []
        for _ in 0..<40 {
            message += WebSocketTestFrames.payload(100, seed: 3) + WebSocketTestFrames.payload(200, seed: 4)
        }
        let compressed = try PerMessageDeflateCompressor(windowBits: 8).compress(message)
        XCTAssertEqual(inflateWith256ByteWindow(compressed), message)
        // The check is meaningful: a 15-bit window's output does need more than 256 bytes of history.
        let wide = try PerMessageDeflateCompressor(windowBits: 15).compress(message)
        XCTAssertNil(inflateWith256ByteWindow(wide))
    }

    func testLargeMessageRoundTripsWithOutputGrowth() throws {
        let message = WebSocketTestFrames.payload((1 << 20) + 12345)
        let compressed = try PerMessageDeflateCompressor(level: 1).compress(message)
        XCTAssertEqual(try PerMessageDeflateDecompressor().decompress(compressed, limit: 2 << 20), message)
    }

    func testDecompressionLimitIsExact() throws {
        let message = [UInt8](repeating: 0x61, count: 10_000)
        let compressed = try PerMessageDeflateCompressor().compress(message)
        XCTAssertEqual(try PerMessageDeflateDecompressor().decompress(compressed, limit: 10_000), message)
        XCTAssertThrowsError(try PerMessageDeflateDecompressor().decompress(compressed, limit: 9_999)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .messageTooBig(limit: 9_999))
        }
    }

    func testStreamingDecompressionAcrossFragmentsMatchesWhole() throws {
        let message = Array(String(repeating: "fragmented deflate ", count: 500).utf8)
        let compressed = try PerMessageDeflateCompressor().compress(message)
        let decompressor = PerMessageDeflateDecompressor()
        var output: [UInt8] = []
        var index = 0
        while index < compressed.count {
            let end = min(index + 7, compressed.count)
            try compressed[index..<end].withUnsafeBytes { raw in
                try decompressor.decompress(raw, isFinal: end == compressed.count, into: &output, limit: 1 << 20)
            }
            index = end
        }
        XCTAssertEqual(output, message)
    }

    func testGarbageInputFailsAsInvalidCompressedData() {
        XCTAssertThrowsError(try PerMessageDeflateDecompressor().decompress([0xFF, 0xFF, 0xFF, 0xFF], limit: 100)) {
            XCTAssertEqual($0 as? WebSocketProtocolError, .invalidCompressedData)
        }
    }

    // MARK: Offer parsing

    func testParsesMultipleOffersInOrder() {
        let offers = PerMessageDeflate.parseOffers(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame")
        XCTAssertEqual(
            offers,
            [
                PerMessageDeflateOffer(serverMaxWindowBits: 10, clientMaxWindowBitsOffered: true),
                PerMessageDeflateOffer(),
            ])
    }

    func testParsesAllParametersIncludingQuotedValues() {
        let offers = PerMessageDeflate.parseOffers(
            "Permessage-Deflate; Server_No_Context_Takeover; client_no_context_takeover; server_max_window_bits=\"12\"; client_max_window_bits=9")
        XCTAssertEqual(
            offers,
            [
                PerMessageDeflateOffer(
                    serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12,
                    clientMaxWindowBitsOffered: true, clientMaxWindowBits: 9)
            ])
    }

    func testInvalidOffersAreSkipped() {
        let invalid = [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=abc",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; unknown_parameter",
        ]
        for header in invalid {
            XCTAssertEqual(PerMessageDeflate.parseOffers(header), [], header)
            XCTAssertEqual(PerMessageDeflate.parseOffers(header + ", permessage-deflate"), [PerMessageDeflateOffer()], header)
        }
        // An unterminated quote swallows the rest of the header, so nothing after it is offered either.
        XCTAssertEqual(PerMessageDeflate.parseOffers("permessage-deflate; server_max_window_bits=\"10, permessage-deflate"), [])
    }

    func testExtensionHeaderParserKeepsQuotedSeparators() {
        let elements = WebSocketExtensionHeader.parse("foo; a=\"x,y;z\"; b, bar")
        XCTAssertEqual(
            elements,
            [
                .init(name: "foo", parameters: [.init(name: "a", value: "x,y;z"), .init(name: "b")]),
                .init(name: "bar"),
            ])
        XCTAssertNil(WebSocketExtensionHeader.parseStrictly("foo; =x"))
        XCTAssertEqual(WebSocketExtensionHeader.parse("foo; =x, bar"), [.init(name: "bar")])
    }

    // MARK: Server negotiation

    private func negotiate(_ header: String, _ configuration: PerMessageDeflateConfiguration = .init()) -> String? {
        PerMessageDeflate.negotiate(offers: header, configuration: configuration)?.responseHeaderValue
    }

    func testServerAcceptsPlainOffer() {
        XCTAssertEqual(negotiate("permessage-deflate"), "permessage-deflate")
        XCTAssertEqual(negotiate("permessage-deflate; client_max_window_bits"), "permessage-deflate")
    }

    func testServerDeclinesWhenNoValidOffer() {
        XCTAssertNil(negotiate("x-webkit-deflate-frame"))
        XCTAssertNil(negotiate("permessage-deflate; bogus"))
        XCTAssertNil(negotiate(""))
    }

    func testServerHonoursClientRequestedServerParameters() {
        XCTAssertEqual(
            negotiate("permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover")
        XCTAssertEqual(
            negotiate("permessage-deflate; server_max_window_bits=10"), "permessage-deflate; server_max_window_bits=10")
        XCTAssertEqual(
            negotiate("permessage-deflate; server_max_window_bits=8"), "permessage-deflate; server_max_window_bits=8")
    }

    func testServerEchoesClientNoContextTakeoverHint() {
        XCTAssertEqual(
            negotiate("permessage-deflate; client_no_context_takeover"), "permessage-deflate; client_no_context_takeover")
    }

    func testServerLimitsClientWindowOnlyWhenClientAllowsIt() {
        let configuration = PerMessageDeflateConfiguration(clientMaxWindowBits: 10)
        XCTAssertEqual(
            negotiate("permessage-deflate; client_max_window_bits", configuration),
            "permessage-deflate; client_max_window_bits=10")
        XCTAssertEqual(negotiate("permessage-deflate", configuration), "permessage-deflate")
        XCTAssertEqual(
            negotiate("permessage-deflate; client_max_window_bits=9", configuration),
            "permessage-deflate; client_max_window_bits=9")
    }

    func testServerPolicyAddsItsOwnLimits() {
        let configuration = PerMessageDeflateConfiguration(
            serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11)
        XCTAssertEqual(
            negotiate("permessage-deflate", configuration),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11")
        XCTAssertEqual(
            negotiate("permessage-deflate; server_max_window_bits=9", configuration),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9")
    }

    func testServerPicksFirstValidOffer() {
        XCTAssertEqual(
            negotiate("permessage-deflate; server_max_window_bits=20, permessage-deflate; server_max_window_bits=12, permessage-deflate"),
            "permessage-deflate; server_max_window_bits=12")
    }

    func testNegotiatedParametersBuildMatchingCompressorAndDecompressor() throws {
        let parameters = try XCTUnwrap(
            PerMessageDeflate.negotiate(
                offers: "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
                configuration: .init()))
        let serverCompressor = parameters.makeCompressor(role: .server)
        XCTAssertTrue(serverCompressor.noContextTakeover)
        XCTAssertEqual(serverCompressor.windowBits, 15)
        let serverDecompressor = parameters.makeDecompressor(role: .server)
        XCTAssertEqual(serverDecompressor.windowBits, 10)
        XCTAssertFalse(serverDecompressor.noContextTakeover)
        let clientDecompressor = parameters.makeDecompressor(role: .client)
        XCTAssertTrue(clientDecompressor.noContextTakeover)
        let compressed = try serverCompressor.compress(hello)
        XCTAssertEqual(try clientDecompressor.decompress(compressed, limit: 100), hello)
    }

    // MARK: Client negotiation

    func testClientOfferReflectsConfiguration() {
        XCTAssertEqual(PerMessageDeflate.clientOffer(configuration: .init()), "permessage-deflate; client_max_window_bits")
        XCTAssertEqual(
            PerMessageDeflate.clientOffer(
                configuration: .init(
                    serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10,
                    clientMaxWindowBits: 12)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"
        )
    }

    func testClientAcceptsValidResponse() throws {
        let parameters = try PerMessageDeflate.parseServerResponse(
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10", configuration: .init())
        XCTAssertEqual(parameters?.serverMaxWindowBits, 12)
        XCTAssertEqual(parameters?.clientMaxWindowBits, 10)
        XCTAssertEqual(parameters?.makeCompressor(role: .client).windowBits, 10)
        XCTAssertEqual(parameters?.makeDecompressor(role: .client).windowBits, 12)
        XCTAssertNil(try PerMessageDeflate.parseServerResponse(nil, configuration: .init()))
        XCTAssertNil(try PerMessageDeflate.parseServerResponse("", configuration: .init()))
    }

    func testClientAppliesItsOwnStricterSettings() throws {
        let parameters = try PerMessageDeflate.parseServerResponse(
            "permessage-deflate", configuration: .init(clientNoContextTakeover: true, clientMaxWindowBits: 9))
        XCTAssertEqual(parameters?.makeCompressor(role: .client).windowBits, 9)
        XCTAssertEqual(parameters?.makeCompressor(role: .client).noContextTakeover, true)
    }

    func testClientRejectsInvalidResponses() {
        let cases: [(String, PerMessageDeflateConfiguration, PerMessageDeflateNegotiationError)] = [
            ("x-webkit-deflate-frame", .init(), .unexpectedExtension("x-webkit-deflate-frame")),
            ("permessage-deflate, permessage-deflate", .init(), .tooManyExtensions),
            ("permessage-deflate; client_max_window_bits", .init(), .invalidParameters),
            ("permessage-deflate; bogus", .init(), .invalidParameters),
            ("permessage-deflate; a=\"", .init(), .malformedHeader),
            ("permessage-deflate", .init(serverNoContextTakeover: true), .requirementNotHonoured),
            ("permessage-deflate", .init(serverMaxWindowBits: 10), .requirementNotHonoured),
            ("permessage-deflate; server_max_window_bits=11", .init(serverMaxWindowBits: 10), .requirementNotHonoured),
        ]
        for (header, configuration, expected) in cases {
            XCTAssertThrowsError(try PerMessageDeflate.parseServerResponse(header, configuration: configuration), header) {
                XCTAssertEqual($0 as? PerMessageDeflateNegotiationError, expected, header)
            }
        }
    }
}
