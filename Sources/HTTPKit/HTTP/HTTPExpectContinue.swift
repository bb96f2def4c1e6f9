extension HTTPRequestHead {
    /// Whether the client sent `Expect: 100-continue` (HTTP/1.1 only) and waits for an interim
    /// `100 Continue` before sending its body. curl does this for bodies over 1 KiB and otherwise stalls
    /// for a second; a server that does not want the body answers with the final status instead.
    public var expectsContinue: Bool {
        self.versionMajor == 1 && self.versionMinor >= 1 && self.headers.hasToken("100-continue", in: .expect)
    }
}

extension HTTPResponseEncoder {
    /// The complete interim response to write when `expectsContinue` is true and the body is wanted.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}
