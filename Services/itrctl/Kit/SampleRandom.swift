import TextClassifier

/// The project's SplitMix64 (`SeededRandom`) with the sample day's helpers: a sequence that
/// depends only on its seed, on every platform (the sample day must be the same for the same
/// seed everywhere).
public struct SampleRandom: RandomNumberGenerator, Sendable {
    private var base: SeededRandom

    public init(seed: UInt64) {
        // The sample day's seeding: one step ahead of the plain generator (days stay as they were).
        base = SeededRandom(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    public mutating func next() -> UInt64 { base.next() }

    /// An integer in `range` (uniform, no modulo bias worth caring about here).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    public mutating func double(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }

    /// Picks by weight.
    public mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var roll = int(0...(total - 1))
        for (item, weight) in items {
            if roll < weight { return item }
            roll -= weight
        }
        return items[items.count - 1].0
    }
}
