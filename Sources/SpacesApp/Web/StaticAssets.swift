import EngineIO
import HTTPKit

/// The site's own stylesheet and scripts, compiled into the binary (SwiftPM `embedInCode`), served under
/// `/static/` with a content hash in their URLs so that browsers may cache them for good.
enum StaticAssets {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let version: String
    }

    static let files: [String: Asset] = [
        "spaces.css": Self.asset(PackageResources.spaces_css, "text/css; charset=utf-8"),
        "live.js": Self.asset(PackageResources.live_js, "text/javascript; charset=utf-8"),
        "space.js": Self.asset(PackageResources.space_js, "text/javascript; charset=utf-8"),
        "home.js": Self.asset(PackageResources.home_js, "text/javascript; charset=utf-8"),
        "admin.js": Self.asset(PackageResources.admin_js, "text/javascript; charset=utf-8"),
    ]

    /// `/static/<name>?v=<hash>`.
    static func url(_ name: String) -> String {
        "/static/\(name)?v=\(self.files[name]?.version ?? "0")"
    }

    private static func asset(_ bytes: [UInt8], _ contentType: String) -> Asset {
        // FNV-1a: a stable fingerprint, not a security measure.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Asset(bytes: bytes, contentType: contentType, version: String(hash, radix: 36))
    }

    static func install(on router: Router) {
        router.get("/static/:name") { context in
            guard let name = context.params["name"], let asset = self.files[name] else {
                return APIError(404, "not_found", "not found").response
            }
            let etag = "\"\(asset.version)\""
            var response: HTTPResponse
            if context.headers["If-None-Match"] == etag {
                response = HTTPResponse(status: 304)
            } else {
                response = HTTPResponse(status: 200, body: asset.bytes)
                response.headers.set("Content-Type", asset.contentType)
            }
            response.headers.set("ETag", etag)
            response.headers.set("X-Content-Type-Options", "nosniff")
            // Versioned URLs never change content; an unversioned one is checked again each time.
            let versioned = context.query["v"] == asset.version
            response.headers.set("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache")
            return response
        }
    }
}
