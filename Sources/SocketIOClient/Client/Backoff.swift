/// Reconnection delays as the JavaScript client computes them (the `backo2` algorithm): the base delay
/// doubles with each attempt, is moved up or down by a random share of up to `jitter`, and is capped.
struct Backoff: Sendable {
    var minMillis: Double
    var maxMillis: Double
    var factor: Double = 2
    var jitter: Double
    private(set) var attempts = 0

    init(minMillis: Int, maxMillis: Int, jitter: Double) {
        self.minMillis = Double(max(0, minMillis))
        self.maxMillis = Double(max(0, maxMillis))
        self.jitter = min(1, max(0, jitter))
    }

    /// The delay before the next attempt, in milliseconds; counts the attempt.
    mutating func duration(random: Double = Double.random(in: 0..<1)) -> Int {
        // Capped before the jitter so that large attempt counts cannot overflow to infinity.
        var ms = min(self.minMillis * pow2(self.factor, self.attempts), self.maxMillis * 2)
        self.attempts += 1
        if self.jitter > 0 {
            let deviation = (random * self.jitter * ms).rounded(.down)
            ms = (Int((random * 10).rounded(.down)) & 1) == 0 ? ms - deviation : ms + deviation
        }
        return Int(min(ms, self.maxMillis))
    }

    /// Starts counting from the first attempt again (after a successful connection).
    mutating func reset() { self.attempts = 0 }
}

private func pow2(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<min(exponent, 1100) {
        result *= base
        if result.isInfinite { break }
    }
    return result
}
