import HTTPKit

/// Computes the CORS response headers for a request, as Node's `cors` middleware does for the options
/// engine.io passes it.
enum CORSHeaders {
    /// Headers for a normal request, or nil when the origin is not allowed (no CORS headers are sent then,
    /// and the browser blocks the response).
    static func forRequest(_ head: HTTPRequestHead, options: CORSOptions) -> [(String, String)] {
        let origin = head.headers["Origin"]
        var fields: [(String, String)] = []
        if let allowed = options.origins {
            guard let origin, allowed.contains(origin) else { return [] }
            fields.append(("Access-Control-Allow-Origin", origin))
            fields.append(("Vary", "Origin"))
        } else if options.credentials, let origin {
            fields.append(("Access-Control-Allow-Origin", origin))
            fields.append(("Vary", "Origin"))
        } else {
            fields.append(("Access-Control-Allow-Origin", "*"))
        }
        if options.credentials { fields.append(("Access-Control-Allow-Credentials", "true")) }
        return fields
    }

    /// Headers for a preflight (OPTIONS) request.
    static func forPreflight(_ head: HTTPRequestHead, options: CORSOptions) -> [(String, String)] {
        var fields = self.forRequest(head, options: options)
        guard !fields.isEmpty else { return [] }
        fields.append(("Access-Control-Allow-Methods", options.methods.joined(separator: ",")))
        if let requested = head.headers["Access-Control-Request-Headers"] {
            fields.append(("Access-Control-Allow-Headers", requested))
            fields.append(("Vary", "Access-Control-Request-Headers"))
        }
        return fields
    }
}
