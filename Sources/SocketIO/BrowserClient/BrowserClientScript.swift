import EngineIO
import HTTPKit

/// Our browser client (`socket.io.js` in this folder, compiled into the binary), served as Node's
/// `serveClient` does: `<path>socket.io.js` and `<path>socket.io.min.js`, minified on first use, with a
/// strong ETag (304 on a matching `If-None-Match`) and gzip when the browser accepts it.
public enum BrowserClientScript {
    /// The script as written (with its comments).
    public static var source: [UInt8] { PackageResources.socket_io_js }

    /// The minified script and what is derived from it, computed once.
    struct Served: Sendable {
        let bytes: [UInt8]
        let gzipped: [UInt8]?
        let etag: String
    }

    static let served: Served = {
        let bytes = JavaScriptMinifier.minify(PackageResources.socket_io_js)
        // FNV-1a of the served bytes: a stable fingerprint, not a security measure.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let gzipped = try? Gzip.compress(bytes, level: 9)
        return Served(bytes: bytes, gzipped: gzipped.flatMap { $0.count < bytes.count ? $0 : nil },
                      etag: "\"" + String(hash, radix: 36) + "\"")
    }()

    /// The minified script, as served.
    public static var minified: [UInt8] { self.served.bytes }

    /// The response to `head` when it asks for the client under `path` (ending in "/"), else nil.
    public static func response(to head: HTTPRequestHead, path: String) -> HTTPResponse? {
        BrowserClientRoute(path: path).response(to: head)
    }

    /// The client's response for a request already known to ask for it.
    static func response(headers requestHeaders: HTTPHeaders) -> HTTPResponse {
        let served = self.served
        var headers: HTTPHeaders = [
            "ETag": served.etag, "Cache-Control": "public, max-age=0", "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        ]
        if let match = requestHeaders["If-None-Match"], Self.matches(match, etag: served.etag) {
            return HTTPResponse(status: 304, headers: headers)
        }
        headers.set("Content-Type", "application/javascript; charset=utf-8")
        if let gzipped = served.gzipped, ResponseCompression.acceptsGzip(requestHeaders.values("Accept-Encoding")) {
            headers.set("Content-Encoding", "gzip")
            return HTTPResponse(status: 200, headers: headers, body: gzipped)
        }
        return HTTPResponse(status: 200, headers: headers, body: served.bytes)
    }

    /// `If-None-Match`: `*`, or a list of tags (weak ones compared weakly, as RFC 9110 asks for GET).
    private static func matches(_ header: String, etag: String) -> Bool {
        header.split(separator: ",").contains { element in
            var tag = element.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }
}

/// Which requests get the client: GET `<path>socket.io.js` and `<path>socket.io.min.js`. Every polling request
/// passes through here first, so a mismatch costs a length comparison.
struct BrowserClientRoute: Sendable {
    private let files: [String]
    private let shortest: Int

    init(path: String) {
        self.files = [path + "socket.io.js", path + "socket.io.min.js"]
        self.shortest = self.files[0].utf8.count
    }

    func response(to head: HTTPRequestHead) -> HTTPResponse? {
        // The method first: it is a small-string compare, the path a search of the target (every polling
        // POST asked for it).
        guard head.method == "GET" else { return nil }
        let requested = head.path
        guard requested.utf8.count >= self.shortest,
              self.files.contains(where: { $0.utf8.elementsEqual(requested.utf8) }) else { return nil }
        return BrowserClientScript.response(headers: head.headers)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var text = self[...]
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
