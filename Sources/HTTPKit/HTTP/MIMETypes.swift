/// Content types by file extension, for static files and uploads.
public enum MIMETypes {
    /// The fallback for unknown extensions: browsers download rather than sniff-and-render it.
    public static let defaultType = "application/octet-stream"

    /// Extension (lowercase, no dot) → Content-Type. Text types carry `charset=utf-8` because the files
    /// this server ships are UTF-8 and browsers otherwise guess.
    public static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "json": "application/json; charset=utf-8",
        "map": "application/json; charset=utf-8",
        "webmanifest": "application/manifest+json; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "xml": "application/xml; charset=utf-8",
        "svg": "image/svg+xml; charset=utf-8",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "ico": "image/x-icon",
        "bmp": "image/bmp",
        "wasm": "application/wasm",
        "pdf": "application/pdf",
        "zip": "application/zip",
        "gz": "application/gzip",
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "ogg": "audio/ogg",
        "oga": "audio/ogg",
        "m4a": "audio/mp4",
        "flac": "audio/flac",
        "mp4": "video/mp4",
        "m4v": "video/mp4",
        "webm": "video/webm",
        "ogv": "video/ogg",
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
    ]

    /// The type for an extension (case-insensitive, with or without the dot), or the default.
    public static func type(forExtension ext: some StringProtocol) -> String {
        var key = ext.lowercased()
        if key.hasPrefix(".") { key.removeFirst() }
        return byExtension[key] ?? defaultType
    }

    /// The type for a file path's extension, or the default when it has none.
    public static func type(forPath path: some StringProtocol) -> String {
        let text = Substring(path)
        let name = text.split(separator: "/", omittingEmptySubsequences: false).last ?? text
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return defaultType }
        return type(forExtension: name[name.index(after: dot)...])
    }
}
