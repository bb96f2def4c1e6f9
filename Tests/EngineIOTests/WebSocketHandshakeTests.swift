import Foundation
import XCTest

@testable import EngineIO
@testable import HTTPKit

final class WebSocketHandshakeTests: XCTestCase {
    private let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

    private func request(
        method: String = "GET", httpVersion: String = "HTTP/1.1", upgrade: String? = "websocket",
        connection: String? = "Upgrade", key: String? = "dGhlIHNhbXBsZSBub25jZQ==", version: String? = "13",
        extensions: String? = nil
    ) -> WebSocketUpgradeRequest {
        WebSocketUpgradeRequest(
            method: method, httpVersion: httpVersion, upgrade: upgrade, connection: connection, key: key,
            version: version, extensions: extensions)
    }

    private func failure(_ result: Result<WebSocketUpgradeAccepted, WebSocketHandshakeError>) -> WebSocketHandshakeError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    func testAcceptValueMatchesRFC6455Sample() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: sampleKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testValidRequestIsAcceptedWithSwitchingProtocolHeaders() throws {
        let accepted = try WebSocketHandshake.validateUpgradeRequest(request()).get()
        XCTAssertEqual(accepted.acceptValue, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertNil(accepted.permessageDeflate)
        XCTAssertEqual(WebSocketUpgradeAccepted.status, 101)
        let headers = accepted.headers.map { "\($0.name): \($0.value)" }
        XCTAssertEqual(
            headers, ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
    }

    func testHeaderTokensAreMatchedCaseInsensitivelyInLists() throws {
        let result = WebSocketHandshake.validateUpgradeRequest(
            request(upgrade: "WebSocket", connection: "keep-alive, UPGRADE", key: " \(sampleKey) ", version: " 13"))
        XCTAssertNoThrow(try result.get())
    }

    func testNonGETMethodIsRejectedWith400() {
        let error = failure(WebSocketHandshake.validateUpgradeRequest(request(method: "POST")))
        XCTAssertEqual(error, .methodNotGET)
        XCTAssertEqual(error?.status, 400)
    }

    func testHTTP10IsRejected() {
        XCTAssertEqual(
            failure(WebSocketHandshake.validateUpgradeRequest(request(httpVersion: "HTTP/1.0"))), .unsupportedHTTPVersion)
        XCTAssertEqual(failure(WebSocketHandshake.validateUpgradeRequest(request(httpVersion: "HTTP/2.0"))), .unsupportedHTTPVersion)
        XCTAssertNil(failure(WebSocketHandshake.validateUpgradeRequest(request(httpVersion: "1.1"))))
    }

    func testMissingOrWrongUpgradeHeaderIsRejected() {
        XCTAssertEqual(failure(WebSocketHandshake.validateUpgradeRequest(request(upgrade: nil))), .missingUpgradeHeader)
        XCTAssertEqual(failure(WebSocketHandshake.validateUpgradeRequest(request(upgrade: "h2c"))), .missingUpgradeHeader)
    }

    func testConnectionHeaderWithoutUpgradeTokenIsRejected() {
        XCTAssertEqual(
            failure(WebSocketHandshake.validateUpgradeRequest(request(connection: "keep-alive"))), .missingConnectionUpgrade)
        XCTAssertEqual(failure(WebSocketHandshake.validateUpgradeRequest(request(connection: nil))), .missingConnectionUpgrade)
        // "Upgrade" must be a whole token, not a substring.
        XCTAssertEqual(
            failure(WebSocketHandshake.validateUpgradeRequest(request(connection: "Upgraded"))), .missingConnectionUpgrade)
    }

    func testUnsupportedVersionGets426WithSupportedVersionHeader() {
        for version in ["8", "12", "14", nil] as [String?] {
            let error = failure(WebSocketHandshake.validateUpgradeRequest(request(version: version)))
            XCTAssertEqual(error, .unsupportedVersion(version))
            XCTAssertEqual(error?.status, 426)
            XCTAssertTrue(error?.headers.contains { $0.name == "Sec-WebSocket-Version" && $0.value == "13" } ?? false)
        }
    }

    func testKeyThatDoesNotDecodeToSixteenBytesIsRejected() {
        let fifteenBytes = Data(repeating: 1, count: 15).base64EncodedString()
        let seventeenBytes = Data(repeating: 1, count: 17).base64EncodedString()
        for key in [nil, "", "not base64!", "abc", fifteenBytes, seventeenBytes] as [String?] {
            let error = failure(WebSocketHandshake.validateUpgradeRequest(request(key: key)))
            XCTAssertEqual(error, .invalidKey, "\(String(describing: key))")
            XCTAssertEqual(error?.status, 400)
        }
    }

    func testDeflateOfferIsNegotiatedOnlyWhenServerEnablesIt() throws {
        let offer = "permessage-deflate; client_max_window_bits"
        let withoutPolicy = try WebSocketHandshake.validateUpgradeRequest(request(extensions: offer)).get()
        XCTAssertNil(withoutPolicy.permessageDeflate)
        XCTAssertFalse(withoutPolicy.headers.contains { $0.name == "Sec-WebSocket-Extensions" })

        let accepted = try WebSocketHandshake.validateUpgradeRequest(
            request(extensions: offer), permessageDeflate: PerMessageDeflateConfiguration()
        ).get()
        XCTAssertNotNil(accepted.permessageDeflate)
        XCTAssertEqual(
            accepted.headers.last.map { "\($0.name): \($0.value)" }, "Sec-WebSocket-Extensions: permessage-deflate")
    }

    func testClientKeysAreRandomBase64OfSixteenBytes() {
        let first = WebSocketHandshake.makeClientKey()
        let second = WebSocketHandshake.makeClientKey()
        XCTAssertEqual(Data(base64Encoded: first)?.count, 16)
        XCTAssertTrue(WebSocketHandshake.isValidKey(first))
        XCTAssertNotEqual(first, second)
    }

    func testClientAcceptsOnlyMatchingAcceptValue() {
        XCTAssertTrue(WebSocketHandshake.isValidAccept("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", forKey: sampleKey))
        XCTAssertFalse(WebSocketHandshake.isValidAccept("s3pPLMBiTxaQ9kYGzzhZRbK+xOp=", forKey: sampleKey))
        XCTAssertFalse(WebSocketHandshake.isValidAccept(nil, forKey: sampleKey))
    }

    func testClientAcceptComparesBytesAfterTrimmingSpacesAndTabs() {
        let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        XCTAssertTrue(WebSocketHandshake.isValidAccept(" \t\(accept) \t", forKey: sampleKey))
        XCTAssertTrue(WebSocketHandshake.isValidAccept(accept, forKey: " \(sampleKey)\t"))
        for wrong in [accept.lowercased(), accept + "=", String(accept.dropLast()), "", "x \(accept)",
                      // KELVIN SIGN is canonically equivalent to "K" as a String, but not the same bytes.
                      accept.replacingOccurrences(of: "K", with: "\u{212A}")] {
            XCTAssertFalse(WebSocketHandshake.isValidAccept(wrong, forKey: sampleKey), wrong)
        }
    }

    func testClientResponseValidationChecksStatusHeadersAndAccept() {
        let accept = WebSocketHandshake.acceptValue(forKey: sampleKey)
        XCTAssertNoThrow(
            try WebSocketHandshake.validateUpgradeResponse(
                status: 101, upgrade: "websocket", connection: "Upgrade", accept: accept, key: sampleKey))
        XCTAssertThrowsError(
            try WebSocketHandshake.validateUpgradeResponse(
                status: 200, upgrade: "websocket", connection: "Upgrade", accept: accept, key: sampleKey)
        ) { XCTAssertEqual($0 as? WebSocketClientHandshakeError, .unexpectedStatus(200)) }
        XCTAssertThrowsError(
            try WebSocketHandshake.validateUpgradeResponse(
                status: 101, upgrade: nil, connection: "Upgrade", accept: accept, key: sampleKey)
        ) { XCTAssertEqual($0 as? WebSocketClientHandshakeError, .missingUpgradeHeader) }
        XCTAssertThrowsError(
            try WebSocketHandshake.validateUpgradeResponse(
                status: 101, upgrade: "websocket", connection: "close", accept: accept, key: sampleKey)
        ) { XCTAssertEqual($0 as? WebSocketClientHandshakeError, .missingConnectionUpgrade) }
        XCTAssertThrowsError(
            try WebSocketHandshake.validateUpgradeResponse(
                status: 101, upgrade: "websocket", connection: "Upgrade", accept: "wrong", key: sampleKey)
        ) { XCTAssertEqual($0 as? WebSocketClientHandshakeError, .invalidAccept) }
    }

    func testClientRequestHeadersCarryKeyVersionAndOffer() {
        let headers = WebSocketHandshake.clientRequestHeaders(key: sampleKey, extensions: "permessage-deflate")
        let rendered = headers.map { "\($0.name): \($0.value)" }
        XCTAssertEqual(
            rendered,
            [
                "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: \(sampleKey)",
                "Sec-WebSocket-Version: 13", "Sec-WebSocket-Extensions: permessage-deflate",
            ])
    }
}
