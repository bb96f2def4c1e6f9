import EngineIO
import HTTPKit

/// Refuses cross-site state-changing requests the way Go's `net/http.CrossOriginProtection` does:
///
/// - GET, HEAD and OPTIONS are always allowed (they must not change state);
/// - with `Sec-Fetch-Site` (every current browser): `same-origin` and `none` (typed URL, bookmark) pass,
///   anything else (`same-site`, `cross-site`) is refused;
/// - without it, a request with no `Origin` either is not from a browser (curl, scripts posting forms) and
///   passes; with an `Origin`, its host must equal the `Host` header.
enum CrossOriginProtection {
    /// Whether the request may proceed.
    static func allows(method: String, headers: HTTPHeaders) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS": return true
        default: break
        }
        if let site = headers["Sec-Fetch-Site"] {
            let value = site.lowercased()
            return value == "same-origin" || value == "none"
        }
        guard let origin = headers["Origin"] else { return true }
        guard let host = headers["Host"], let originHost = Self.host(ofOrigin: origin) else { return false }
        return originHost.lowercased() == host.lowercased()
    }

    /// `example.com:8080` from `https://example.com:8080`; nil for `null` and other opaque origins.
    static func host(ofOrigin origin: String) -> String? {
        guard let range = origin.range(of: "://") else { return nil }
        let rest = origin[range.upperBound...]
        let host = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return host.isEmpty ? nil : host
    }

    /// The answer to a refused request: 403 `{error, code: "cross_origin_request"}` (SpacesServer.frontDoor).
    static var refusal: HTTPResponse {
        APIError(403, "cross_origin_request", "Cross-origin request refused").response
    }
}
