import Foundation

extension HTTPResponse {
    /// Content type used for JSON bodies.
    public static let jsonContentType = "application/json; charset=utf-8"

    /// A JSON response from already-serialized bytes.
    public static func json(bytes: [UInt8], status: Int = 200, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: headers, body: bytes)
        response.headers.set("Content-Type", jsonContentType)
        return response
    }

    /// A JSON response encoding `value` with Foundation's `JSONEncoder`.
    public static func json<T: Encodable>(
        _ value: T, status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), encoder: JSONEncoder = JSONEncoder()
    ) throws -> HTTPResponse {
        .json(bytes: Array(try encoder.encode(value)), status: status, headers: headers)
    }

    /// `{"error": message}` with `status`: the shape every error answer of the router has.
    public static func error(status: Int, message: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .json(bytes: Array("{\"error\":\(JSONText.quote(message))}".utf8), status: status, headers: headers)
    }

    /// A redirect (302 Found by default; 301, 303, 307, 308 also make sense) to `location`.
    public static func redirect(to location: String, status: Int = 302) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Location": location], body: [])
    }

    /// An HTML response.
    public static func html(_ html: String, status: Int = 200) -> HTTPResponse {
        .text(html, status: status, contentType: "text/html; charset=utf-8")
    }

    /// 204 No Content.
    public static func noContent(headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        HTTPResponse(status: 204, headers: headers, body: [])
    }
}
