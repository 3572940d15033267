/// Exponential back-off with jitter for reconnect attempts: a pure value type.
///
/// The n-th delay is drawn uniformly from [cap/2, cap] where cap = min(max, initial * 2^n):
/// retries spread out (no thundering herd after a broker restart) but never collapse to zero.
struct ReconnectBackoff {
    let initial: Duration
    let maximum: Duration
    private(set) var attempt = 0

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    mutating func nextDelay<R: RandomNumberGenerator>(using generator: inout R) -> Duration {
        let exponent = min(attempt, 30)
        attempt += 1
        let initialNanos = Self.nanoseconds(initial)
        let capNanos = min(Self.nanoseconds(maximum), initialNanos.multipliedReportingOverflow(by: Int64(1) << exponent).overflow ? Int64.max : initialNanos << exponent)
        let low = capNanos / 2
        return .nanoseconds(Int64.random(in: low...max(low, capNanos), using: &generator))
    }

    mutating func nextDelay() -> Duration {
        var g = SystemRandomNumberGenerator()
        return nextDelay(using: &g)
    }

    mutating func reset() { attempt = 0 }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
