@testable import EngineIO
@testable import HTTPKit
import XCTest

final class StaticFilesTests: XCTestCase {
    private var root = ""
    private var outside = ""

    override func setUpWithError() throws {
        let base = NSTemporaryDirectory() + "static-tests-" + UUID().uuidString
        self.root = base + "/public"
        self.outside = base + "/secret.txt"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/css", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/docs", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try Data("<h1>hi</h1>".utf8).write(to: URL(fileURLWithPath: root + "/index.html"))
        try Data("body{}".utf8).write(to: URL(fileURLWithPath: root + "/css/site.css"))
        try Data("docs index".utf8).write(to: URL(fileURLWithPath: root + "/docs/index.html"))
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: root + "/digits.txt"))
        try Data("SECRET".utf8).write(to: URL(fileURLWithPath: root + "/.env"))
        try Data("top secret".utf8).write(to: URL(fileURLWithPath: outside))
        try fm.createSymbolicLink(atPath: root + "/escape.txt", withDestinationPath: outside)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (self.root as NSString).deletingLastPathComponent)
    }

    private func router(_ files: StaticFiles) -> Router {
        let router = Router()
        router.get("/static/*path", handler: files.handler())
        return router
    }

    private func get(_ target: String, _ headers: HTTPHeaders = HTTPHeaders(), method: String = "GET",
                     files: StaticFiles? = nil) async -> HTTPResponse {
        await router(files ?? StaticFiles(root: root)).response(
            for: HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: headers)))
    }

    func testFileIsServedAsFileBodyWithTypeAndValidators() async throws {
        let response = await get("/static/css/site.css")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "text/css; charset=utf-8")
        XCTAssertNotNil(response.headers["ETag"])
        XCTAssertNotNil(response.headers["Last-Modified"].flatMap { HTTPDate.parse($0) })
        XCTAssertEqual(response.headers["Cache-Control"], "public, max-age=0")
        guard case .file(let path, let offset, let length) = response.body else { return XCTFail("expected file") }
        XCTAssertTrue(path.hasSuffix("/css/site.css"))
        XCTAssertEqual(offset, 0)
        XCTAssertEqual(length, 6)
    }

    func testContentTypesByExtension() {
        let expected = [
            "a.html": "text/html; charset=utf-8", "a.js": "text/javascript; charset=utf-8",
            "a.mjs": "text/javascript; charset=utf-8", "a.json": "application/json; charset=utf-8",
            "a.PNG": "image/png", "a.jpg": "image/jpeg", "a.jpeg": "image/jpeg", "a.gif": "image/gif",
            "a.svg": "image/svg+xml; charset=utf-8", "a.webp": "image/webp", "a.ico": "image/x-icon",
            "a.wasm": "application/wasm", "a.txt": "text/plain; charset=utf-8", "a.mp3": "audio/mpeg",
            "a.wav": "audio/wav", "a.ogg": "audio/ogg", "a.mp4": "video/mp4", "a.webm": "video/webm",
            "a.pdf": "application/pdf", "a.woff2": "font/woff2", "dir.v2/noext": "application/octet-stream",
            ".bashrc": "application/octet-stream",
        ]
        for (path, type) in expected {
            XCTAssertEqual(MIMETypes.type(forPath: path), type, path)
        }
    }

    func testMatchingIfNoneMatchGives304() async throws {
        let first = await get("/static/digits.txt")
        let etag = try XCTUnwrap(first.headers["ETag"])
        let second = await get("/static/digits.txt", ["If-None-Match": "\"other\", W/\(etag)"])
        XCTAssertEqual(second.status, 304)
        XCTAssertEqual(second.headers["ETag"], etag)
        guard case .bytes(let bytes) = second.body else { return XCTFail("304 has no file body") }
        XCTAssertTrue(bytes.isEmpty)
        let changed = await get("/static/digits.txt", ["If-None-Match": "\"other\""])
        XCTAssertEqual(changed.status, 200)
    }

    func testIfModifiedSinceGives304UnlessFileIsNewer() async throws {
        let first = await get("/static/digits.txt")
        let lastModified = try XCTUnwrap(first.headers["Last-Modified"])
        let notModified = await get("/static/digits.txt", ["If-Modified-Since": lastModified])
        XCTAssertEqual(notModified.status, 304)
        let old = await get("/static/digits.txt", ["If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"])
        XCTAssertEqual(old.status, 200)
    }

    func testTraversalAttemptsAreRefused() async {
        for target in ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/css/%2E%2E/%2e%2e/secret.txt",
                       "/static/..%2fsecret.txt", "/static/%252e%252e/secret.txt", "/static/a%00.txt",
                       "/static/..%5csecret.txt"] {
            let response = await get(target)
            XCTAssertEqual(response.status, 403, target)
        }
        let symlink = await get("/static/escape.txt")
        XCTAssertEqual(symlink.status, 404, "symlinks leading outside the root are not followed")
        let hidden = await get("/static/.env")
        XCTAssertEqual(hidden.status, 404)
    }

    func testDirectoriesServeIndexOrRedirectOr404() async {
        let root = await get("/static/")
        guard case .file(let path, _, _) = root.body else { return XCTFail("expected index file") }
        XCTAssertTrue(path.hasSuffix("/index.html"))
        XCTAssertEqual(root.headers["Content-Type"], "text/html; charset=utf-8")

        let withoutSlash = await get("/static/docs?v=1")
        XCTAssertEqual(withoutSlash.status, 301)
        XCTAssertEqual(withoutSlash.headers["Location"], "/static/docs/?v=1")

        let sneaky = await get("//static/docs")
        XCTAssertEqual(sneaky.headers["Location"], "/static/docs/", "never a protocol-relative Location")

        let noIndex = await get("/static/empty/")
        XCTAssertEqual(noIndex.status, 404)
        let missing = await get("/static/nope.css")
        XCTAssertEqual(missing.status, 404)
    }

    func testHeadHasLengthButNoBody() async {
        let response = await get("/static/digits.txt", method: "HEAD")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "10")
        guard case .bytes(let bytes) = response.body else { return XCTFail("HEAD must not stream the file") }
        XCTAssertTrue(bytes.isEmpty)
    }

    func testSingleByteRangesAreServedAsPartialContent() async {
        let middle = await get("/static/digits.txt", ["Range": "bytes=2-4"])
        XCTAssertEqual(middle.status, 206)
        XCTAssertEqual(middle.headers["Content-Range"], "bytes 2-4/10")
        guard case .file(_, let offset, let length) = middle.body else { return XCTFail("expected file") }
        XCTAssertEqual([offset, length], [2, 3])

        let suffix = await get("/static/digits.txt", ["Range": "bytes=-3"])
        XCTAssertEqual(suffix.headers["Content-Range"], "bytes 7-9/10")
        let open = await get("/static/digits.txt", ["Range": "bytes=8-"])
        XCTAssertEqual(open.headers["Content-Range"], "bytes 8-9/10")
        let unsatisfiable = await get("/static/digits.txt", ["Range": "bytes=10-"])
        XCTAssertEqual(unsatisfiable.status, 416)
        XCTAssertEqual(unsatisfiable.headers["Content-Range"], "bytes */10")
        let stale = await get("/static/digits.txt", ["Range": "bytes=0-1", "If-Range": "\"old\""])
        XCTAssertEqual(stale.status, 200)
    }

    func testCacheControlIsConfigurable() async {
        let files = StaticFiles(root: root, cacheControl: "public, max-age=31536000, immutable")
        let response = await get("/static/digits.txt", files: files)
        XCTAssertEqual(response.headers["Cache-Control"], "public, max-age=31536000, immutable")
        let none = await get("/static/digits.txt", files: StaticFiles(root: root, cacheControl: nil))
        XCTAssertNil(none.headers["Cache-Control"])
    }

    func testOtherMethodsAre405() async {
        let response = await get("/static/digits.txt", method: "POST")
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["Allow"], "GET, HEAD")
    }
}
