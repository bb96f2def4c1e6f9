import EngineIO
import HTTPKit
import SocketIO

/// An error answered as JSON `{error, code, ...}`: a human message and a stable machine-readable code.
struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String
    /// Extra fields of the body, such as `retry_after`.
    var extra: [String: JSONValue] = [:]

    init(_ status: Int, _ code: String, _ message: String, extra: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
    }

    var description: String { "\(self.status) \(self.code): \(self.message)" }

    static func notLoggedIn() -> APIError { APIError(401, "not_logged_in", "login required") }
    static func forbidden(_ message: String = "forbidden") -> APIError { APIError(403, "forbidden", message) }
    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(400, code, message) }
    static func notFound(_ code: String, _ message: String) -> APIError { APIError(404, code, message) }

    /// The JSON body.
    var body: JSONValue {
        var object = JSONObject()
        object["error"] = .string(self.message)
        object["code"] = .string(self.code)
        for key in self.extra.keys.sorted() { object[key] = self.extra[key] }
        return .object(object)
    }

    var response: HTTPResponse {
        var response = HTTPResponse.json(bytes: JSONSerializer.serialize(self.body), status: self.status)
        if let retryAfter = self.extra["retry_after"]?.intValue { response.headers.set("Retry-After", String(retryAfter)) }
        return response
    }

    /// A stable code for a bare HTTP status (errors raised by the HTTP layer).
    static func code(forStatus status: Int) -> String {
        switch status {
        case 400: return "bad_request"
        case 401: return "not_logged_in"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 409: return "conflict"
        case 413: return "too_large"
        case 415: return "unsupported_media_type"
        case 429: return "rate_limited"
        case 503: return "unavailable"
        default: return status >= 500 ? "internal" : "error"
        }
    }
}
