import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves files under a root directory, with validators, conditional requests and single byte ranges.
///
/// Bodies are `.file(path:offset:length:)` so the server can stream them with sendfile. Requests are
/// refused when the path tries to leave the root: `..` segments (also when they arrive encoded, since the
/// router decodes `%2e%2e` before this sees it), a second layer of encoding (`%2e`, `%2f`, `%5c` still
/// present after decoding), backslashes, NUL bytes, and symlinks that resolve outside the root. Dotfiles
/// are hidden (404) unless allowed. Directories serve their index file; a directory URL without a
/// trailing slash is redirected (301) so relative links in the index resolve.
public struct StaticFiles: Sendable {
    /// The root directory, with symlinks resolved.
    public let root: String
    /// `Cache-Control` sent with files and 304s; nil sends none.
    public var cacheControl: String?
    /// File served for a directory; nil makes directories 404.
    public var indexFile: String?
    /// Whether path segments starting with `.` may be served.
    public var allowHiddenFiles: Bool
    /// Extra or overriding extension → Content-Type entries.
    public var extraTypes: [String: String]

    /// Creates a file server for `root`.
    public init(root: String, cacheControl: String? = "public, max-age=0", indexFile: String? = "index.html",
                allowHiddenFiles: Bool = false, extraTypes: [String: String] = [:]) {
        self.root = Self.realPath(root) ?? root
        self.cacheControl = cacheControl
        self.indexFile = indexFile
        self.allowHiddenFiles = allowHiddenFiles
        self.extraTypes = extraTypes
    }

    /// A GET route handler serving the wildcard parameter `parameter`: `router.get("/static/*path", files.handler())`.
    public func handler(parameter: String = "path") -> RouteHandler {
        let files = self
        return { context in
            files.response(for: context.request, relativePath: context.params[parameter] ?? "")
        }
    }

    /// The response for `relativePath` (already percent-decoded, relative to the root).
    public func response(for request: HTTPRequest, relativePath: String) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .error(status: 405, message: "method not allowed", headers: ["Allow": "GET, HEAD"])
        }
        let components: [Substring]
        switch self.validate(relativePath) {
        case .refused: return .error(status: 403, message: "forbidden")
        case .hidden: return .error(status: 404, message: "not found")
        case .ok(let parts): components = parts
        }

        var path = components.isEmpty ? self.root : self.root + "/" + components.joined(separator: "/")
        guard var info = Self.fileInfo(path) else { return .error(status: 404, message: "not found") }
        if info.isDirectory {
            guard let indexFile else { return .error(status: 404, message: "not found") }
            // Leading slashes collapse to one: `//evil.example/` in a Location would leave the site.
            var requestPath = request.path
            while requestPath.hasPrefix("//") { requestPath = requestPath.dropFirst() }
            if !requestPath.hasSuffix("/") {
                let query = request.head.rawQuery
                return .redirect(to: requestPath + "/" + (query.isEmpty ? "" : "?" + query), status: 301)
            }
            path += "/" + indexFile
            guard let indexInfo = Self.fileInfo(path), indexInfo.isRegular else {
                return .error(status: 404, message: "not found")
            }
            info = indexInfo
        }
        guard info.isRegular, self.isInsideRoot(path) else { return .error(status: 404, message: "not found") }
        return self.fileResponse(path: path, info: info, request: request)
    }

    // MARK: - Validation

    private enum Validation {
        case ok([Substring])
        case refused
        case hidden
    }

    private func validate(_ relativePath: String) -> Validation {
        if relativePath.utf8.contains(0) || relativePath.contains("\\") { return .refused }
        var parts: [Substring] = []
        for component in relativePath.split(separator: "/") where component != "." {
            if component == ".." { return .refused }
            // Still-encoded dots or separators mean a double-encoded path: nobody legitimate sends those.
            let lowered = component.lowercased()
            if lowered.contains("%2e") || lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%00") {
                return .refused
            }
            if component.hasPrefix(".") && !self.allowHiddenFiles { return .hidden }
            parts.append(component)
        }
        return .ok(parts)
    }

    /// Symlinks inside the root may point anywhere; only targets inside the root are served.
    private func isInsideRoot(_ path: String) -> Bool {
        guard let resolved = Self.realPath(path) else { return false }
        return resolved == self.root || resolved.hasPrefix(self.root == "/" ? "/" : self.root + "/")
    }

    // MARK: - Responses

    private func fileResponse(path: String, info: FileInfo, request: HTTPRequest) -> HTTPResponse {
        // Strong validator from mtime (ns) and size, like common servers: a rewrite changes one of them.
        let etag = "\"" + String(info.modifiedNanoseconds, radix: 16) + "-" + String(info.size, radix: 16) + "\""
        let lastModified = HTTPDate.format(epochSeconds: info.modifiedSeconds)
        var headers: HTTPHeaders = ["ETag": etag, "Last-Modified": lastModified]
        if let cacheControl = self.cacheControl { headers.add("Cache-Control", cacheControl) }

        if Self.notModified(request.headers, etag: etag, modifiedSeconds: info.modifiedSeconds) {
            return HTTPResponse(status: 304, headers: headers, body: [])
        }

        headers.add("Content-Type", self.contentType(for: path))
        headers.add("Accept-Ranges", "bytes")
        headers.add("X-Content-Type-Options", "nosniff")

        if let range = request.headers["Range"],
           Self.rangeApplies(request.headers["If-Range"], etag: etag, lastModified: lastModified) {
            switch ByteRange.parse(range, size: info.size) {
            case .none:
                break
            case .unsatisfiable:
                headers.add("Content-Range", "bytes */\(info.size)")
                return HTTPResponse(status: 416, headers: headers, body: [])
            case .range(let start, let end):
                headers.add("Content-Range", "bytes \(start)-\(end)/\(info.size)")
                return HTTPResponse(status: 206, headers: headers,
                                    body: .file(path: path, offset: start, length: end - start + 1))
            }
        }
        return HTTPResponse(status: 200, headers: headers, body: .file(path: path, offset: 0, length: info.size))
    }

    private func contentType(for path: String) -> String {
        if !self.extraTypes.isEmpty, let dot = path.lastIndex(of: "."),
           let type = self.extraTypes[path[path.index(after: dot)...].lowercased()] {
            return type
        }
        return MIMETypes.type(forPath: path)
    }

    /// RFC 9110 §13.2.2: If-None-Match (weak comparison) decides when present; otherwise If-Modified-Since.
    static func notModified(_ headers: HTTPHeaders, etag: String, modifiedSeconds: Int) -> Bool {
        let noneMatch = headers.values("If-None-Match")
        if !noneMatch.isEmpty {
            let ours = Self.opaqueTag(etag)
            for value in noneMatch {
                for candidate in value.split(separator: ",") {
                    let tag = candidate.trimmingASCIISpaces()
                    if tag == "*" || Self.opaqueTag(tag) == ours { return true }
                }
            }
            return false
        }
        if let since = headers["If-Modified-Since"], let sinceSeconds = HTTPDate.parse(since) {
            return modifiedSeconds <= sinceSeconds
        }
        return false
    }

    /// If-Range (RFC 9110 §13.1.5): the range applies only if the validator still matches (strongly).
    private static func rangeApplies(_ ifRange: String?, etag: String, lastModified: String) -> Bool {
        guard let ifRange = ifRange?.trimmingASCIISpaces() else { return true }
        if ifRange.hasPrefix("\"") { return ifRange == etag }
        return ifRange == lastModified
    }

    private static func opaqueTag(_ tag: some StringProtocol) -> Substring {
        let trimmed = Substring(tag)
        return trimmed.hasPrefix("W/") ? trimmed.dropFirst(2) : trimmed
    }

    // MARK: - File system

    private struct FileInfo {
        var isDirectory: Bool
        var isRegular: Bool
        var size: Int
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private static func fileInfo(_ path: String) -> FileInfo? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        #if canImport(Darwin)
        let seconds = Int(info.st_mtimespec.tv_sec), nanos = Int(info.st_mtimespec.tv_nsec)
        #else
        let seconds = Int(info.st_mtim.tv_sec), nanos = Int(info.st_mtim.tv_nsec)
        #endif
        return FileInfo(isDirectory: type == S_IFDIR, isRegular: type == S_IFREG, size: Int(info.st_size),
                        modifiedSeconds: seconds, modifiedNanoseconds: seconds &* 1_000_000_000 &+ nanos)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A single `Range: bytes=...` request (RFC 9110 §14.1.2). Multiple ranges are answered with the whole file,
/// which the RFC allows.
enum ByteRange: Equatable {
    /// Ignore the header and send the whole representation.
    case none
    /// 416.
    case unsatisfiable
    /// Inclusive byte positions.
    case range(start: Int, end: Int)

    static func parse(_ header: String, size: Int) -> ByteRange {
        let trimmed = header.trimmingASCIISpaces()
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .none }
        let spec = trimmed.dropFirst(6).trimmingASCIISpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .none }
        let first = spec[..<dash].trimmingASCIISpaces(), last = spec[spec.index(after: dash)...].trimmingASCIISpaces()
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = Int(last), count >= 0 else { return .none }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .range(start: max(0, size - count), end: size - 1)
        }
        guard let start = Int(first), start >= 0 else { return .none }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let parsed = Int(last), parsed >= start else { return .none }
            end = min(parsed, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .range(start: start, end: end)
    }
}
