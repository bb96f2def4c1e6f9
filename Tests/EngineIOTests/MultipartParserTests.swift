@testable import EngineIO
@testable import HTTPKit
import XCTest

final class MultipartParserTests: XCTestCase {
    enum Step: Equatable {
        case begin(name: String?, filename: String?, contentType: String?)
        case data([UInt8])
        case end
    }

    /// Binary content that contains near-misses of the delimiter, so the parser has to hold back and release.
    private static let fileBytes: [UInt8] = Array("\r\n--XyZ".utf8.dropLast()) + [0, 255, 13, 10, 45] + Array("\r\n--X".utf8)
        + (0..<200).map { UInt8($0) } + Array("\r\n-".utf8)

    private static var sampleBody: [UInt8] {
        var body = Array("preamble to ignore\r\n--XyZ\r\n".utf8)
        body += Array("Content-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\nWorld\r\n--XyZ\r\n".utf8)
        body += Array(("Content-Disposition: form-data; name=\"upload\"; filename=\"a b.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n").utf8)
        body += fileBytes
        body += Array("\r\n--XyZ  \r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--XyZ--\r\nepilogue".utf8)
        return body
    }

    private static let expected: [Step] = [
        .begin(name: "title", filename: nil, contentType: nil), .data(Array("Hello\r\nWorld".utf8)), .end,
        .begin(name: "upload", filename: "a b.bin", contentType: "application/octet-stream"), .data(fileBytes), .end,
        .begin(name: "empty", filename: nil, contentType: nil), .end,
    ]

    private func run(_ chunks: [ArraySlice<UInt8>], boundary: String = "XyZ",
                     limits: MultipartLimits = MultipartLimits()) throws -> [Step] {
        var parser = try MultipartParser(boundary: boundary, limits: limits)
        var steps: [Step] = []
        for chunk in chunks {
            for event in try parser.feed(chunk) {
                switch event {
                case .partBegin(let head):
                    steps.append(.begin(name: head.name, filename: head.filename, contentType: head.contentType))
                case .data(let bytes):
                    XCTAssertFalse(bytes.isEmpty)
                    if case .data(let previous) = steps.last {
                        steps[steps.count - 1] = .data(previous + bytes)
                    } else {
                        steps.append(.data(bytes))
                    }
                case .partEnd:
                    steps.append(.end)
                }
            }
        }
        try parser.finish()
        return steps
    }

    private func assertStatus(_ status: Int, _ body: String, limits: MultipartLimits = MultipartLimits(),
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run([ArraySlice(body.utf8)], limits: limits), file: file, line: line) { error in
            XCTAssertEqual((error as? MultipartError)?.status, status, "\(error)", file: file, line: line)
        }
    }

    func testWholeBodyParsesIntoParts() throws {
        XCTAssertEqual(try run([ArraySlice(Self.sampleBody)]), Self.expected)
    }

    func testBoundarySplitAtEveryOffsetGivesSameParts() throws {
        let body = Self.sampleBody
        for split in 0...body.count {
            XCTAssertEqual(try run([body[0..<split], body[split...]]), Self.expected, "split at \(split)")
        }
    }

    func testOneByteAtATimeGivesSameParts() throws {
        let body = Self.sampleBody
        XCTAssertEqual(try run(body.indices.map { body[$0...$0] }), Self.expected)
    }

    func testBodyStartingDirectlyWithBoundaryNeedsNoPreamble() throws {
        let body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--"
        XCTAssertEqual(try run([ArraySlice(body.utf8)], boundary: "b"), [
            .begin(name: "x", filename: nil, contentType: nil), .data([UInt8(ascii: "1")]), .end,
        ])
    }

    func testMissingClosingBoundaryIs400() {
        assertStatus(400, "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc")
        assertStatus(400, "no boundary at all")
    }

    func testMalformedDelimiterLineIs400() {
        assertStatus(400, "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc\r\n--XyZjunk\r\n")
        assertStatus(400, "--XyZ\r\nno colon here\r\n\r\nabc\r\n--XyZ--")
    }

    func testOversizedPartHeadersAre413() {
        let header = "X-Long: " + String(repeating: "h", count: 300) + "\r\n"
        assertStatus(413, "--XyZ\r\n\(header)\r\nabc\r\n--XyZ--", limits: MultipartLimits(maxPartHeaderBytes: 100))
        assertStatus(413, "--XyZ\r\n\(header)", limits: MultipartLimits(maxPartHeaderBytes: 100))
    }

    func testTooManyPartsIs413() {
        let part = "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n"
        assertStatus(413, String(repeating: part, count: 4) + "--XyZ--", limits: MultipartLimits(maxParts: 3))
    }

    func testBoundaryIsTakenFromContentType() throws {
        XCTAssertEqual(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=\"a;b c\""), "a;b c")
        XCTAssertEqual(MultipartParser.boundary(fromContentType: "Multipart/Form-Data; charset=utf-8; BOUNDARY=zz"), "zz")
        XCTAssertNil(MultipartParser.boundary(fromContentType: "text/plain; boundary=zz"))
        XCTAssertThrowsError(try MultipartParser(contentType: "application/json")) { error in
            XCTAssertEqual((error as? MultipartError)?.status, 415)
        }
        XCTAssertThrowsError(try MultipartParser(contentType: "multipart/form-data")) { error in
            XCTAssertEqual((error as? MultipartError)?.status, 400)
        }
    }

    // MARK: - Collector

    private var directory = ""

    override func setUpWithError() throws {
        self.directory = NSTemporaryDirectory() + "multipart-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private func filesInDirectory() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: self.directory)) ?? []
    }

    func testCollectorWritesFilesToDiskAndKeepsFieldsInMemory() throws {
        let form = try MultipartFormCollector.collect(
            body: Self.sampleBody, contentType: "multipart/form-data; boundary=XyZ", directory: self.directory)
        XCTAssertEqual(form.fields, QueryParameters([("title", "Hello\r\nWorld"), ("empty", "")]))
        XCTAssertEqual(form.files.count, 1)
        let file = try XCTUnwrap(form.file("upload"))
        XCTAssertEqual(file.filename, "a b.bin")
        XCTAssertEqual(file.contentType, "application/octet-stream")
        XCTAssertEqual(file.size, Self.fileBytes.count)
        XCTAssertTrue(file.path.hasPrefix(self.directory + "/"))
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: file.path))), Self.fileBytes)
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)
        form.removeFiles()
        XCTAssertEqual(filesInDirectory(), [])
    }

    func testCollectorStreamsChunksAndSkipsEmptyFileInputs() throws {
        let body = Array(("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"g\"; filename=\"g.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            + String(repeating: "0123456789", count: 1000) + "\r\n--b--\r\n").utf8)
        let collector = try MultipartFormCollector(boundary: "b", directory: self.directory)
        for start in stride(from: 0, to: body.count, by: 333) {
            try collector.feed(body[start..<min(body.count, start + 333)])
        }
        let form = try collector.finish()
        XCTAssertEqual(form.files.map(\.name), ["g"])
        XCTAssertEqual(form.files.first?.size, 10_000)
        XCTAssertEqual(filesInDirectory().count, 1)
    }

    func testFilesOverTotalLimitAre413AndNothingIsLeftOnDisk() throws {
        let body = Array(("--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a\"\r\n\r\n"
            + String(repeating: "a", count: 600) + "\r\n--b\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b\"\r\n\r\n"
            + String(repeating: "b", count: 600) + "\r\n--b--\r\n").utf8)
        XCTAssertThrowsError(try MultipartFormCollector.collect(
            body: body, contentType: "multipart/form-data; boundary=b", directory: self.directory,
            limits: MultipartFormLimits(maxTotalFileSize: 1000))
        ) { error in
            XCTAssertEqual((error as? MultipartError)?.status, 413)
            XCTAssertEqual(Router.errorResponse(for: error).status, 413)
        }
        XCTAssertEqual(filesInDirectory(), [])
    }

    func testOversizedTextFieldIs413() {
        let body = Array(("--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n"
            + String(repeating: "t", count: 101) + "\r\n--b--\r\n").utf8)
        XCTAssertThrowsError(try MultipartFormCollector.collect(
            body: body, contentType: "multipart/form-data; boundary=b", directory: self.directory,
            limits: MultipartFormLimits(maxFieldSize: 100))
        ) { error in
            XCTAssertEqual((error as? MultipartError)?.status, 413)
        }
    }

    func testAbandonedCollectorDeletesItsFiles() throws {
        do {
            let collector = try MultipartFormCollector(boundary: "b", directory: self.directory)
            try collector.feed(Array("--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a\"\r\n\r\npartial".utf8))
            XCTAssertEqual(filesInDirectory().count, 1)
        }
        XCTAssertEqual(filesInDirectory(), [])
    }
}
