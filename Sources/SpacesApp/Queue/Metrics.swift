/// A Prometheus histogram with fixed buckets.
struct Histogram: Sendable {
    let buckets: [Double]
    private(set) var counts: [Int]
    private(set) var sum: Double = 0
    private(set) var count: Int = 0

    init(buckets: [Double]) {
        self.buckets = buckets
        self.counts = [Int](repeating: 0, count: buckets.count)
    }

    mutating func observe(_ value: Double) {
        for (index, bound) in self.buckets.enumerated() where value <= bound { self.counts[index] += 1 }
        self.sum += value
        self.count += 1
    }

    /// Text exposition lines for metric `name`.
    func render(name: String, help: String) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (index, bound) in self.buckets.enumerated() {
            out += "\(name)_bucket{le=\"\(Self.format(bound))\"} \(self.counts[index])\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(self.count)\n"
        out += "\(name)_sum \(Self.format(self.sum))\n\(name)_count \(self.count)\n"
        return out
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static let secondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
}

/// Counters and histograms the core keeps (on its queue) for `/metrics`.
struct CoreMetrics: Sendable {
    var dispatchWait = Histogram(buckets: Histogram.secondsBuckets)
    var processing = Histogram(buckets: Histogram.secondsBuckets)
    var submitted = 0
    var dispatched = 0
    var redelivered = 0
    var ignoredResults = 0
    var registrationsRefused = 0
}
