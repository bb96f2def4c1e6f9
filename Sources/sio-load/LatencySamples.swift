/// Round-trip times in nanoseconds, with the quantiles `sioload` reports (nearest rank below: the sample at
/// index ⌊q·n⌋ of the sorted list), so both generators turn the same samples into the same figures.
struct LatencySamples: Sendable {
    private var values: [UInt64] = []
    private var sorted = true
    /// Like `sioload`, keeps at most 50 million samples (400 MB); later ones are dropped.
    static let capacityLimit = 50_000_000

    var count: Int { self.values.count }

    mutating func reserve(_ count: Int) {
        self.values.reserveCapacity(min(count, Self.capacityLimit))
    }

    @inline(__always)
    mutating func add(_ nanos: UInt64) {
        guard self.values.count < Self.capacityLimit else { return }
        self.values.append(nanos)
        self.sorted = false
    }

    /// The quantile `q` (0...1) in milliseconds, or -1 without samples.
    mutating func quantileMillis(_ q: Double) -> Double {
        self.sortIfNeeded()
        guard !self.values.isEmpty else { return -1 }
        let index = min(self.values.count - 1, Int(q * Double(self.values.count)))
        return Double(self.values[index]) / 1e6
    }

    var meanMillis: Double {
        guard !self.values.isEmpty else { return -1 }
        var total = 0.0
        for value in self.values { total += Double(value) }
        return total / Double(self.values.count) / 1e6
    }

    mutating func maxMillis() -> Double {
        self.sortIfNeeded()
        return self.values.last.map { Double($0) / 1e6 } ?? -1
    }

    private mutating func sortIfNeeded() {
        if !self.sorted {
            self.values.sort()
            self.sorted = true
        }
    }
}
