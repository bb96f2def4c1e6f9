/// Reconnect delays: `min` doubled per consecutive failure up to `max`, then drawn from its upper half so
/// that clients dropped together do not all come back at the same instant.
enum ReconnectBackoff {
    static func delayMillis(failures: Int, min minimum: Int, max maximum: Int) -> Int {
        let floor = Swift.max(1, minimum)
        let ceiling = Swift.max(floor, maximum)
        let doubled = failures >= 30 ? ceiling : Swift.min(ceiling, floor << failures)
        return doubled / 2 + Int.random(in: 0...(doubled - doubled / 2))
    }
}
