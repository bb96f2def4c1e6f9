/// Random ids as Node's `uid2` makes them: letters and digits.
enum RandomIdentifier {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// `length` random alphanumerics.
    static func make(length: Int = 6) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for _ in 0..<length { bytes.append(self.alphabet[Int(generator.next(upperBound: UInt(self.alphabet.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
