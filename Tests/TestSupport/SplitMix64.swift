import TextClassifier

/// The tests' seeded generator: the project's one SplitMix64 (TextClassifier's `SeededRandom`).
public typealias SplitMix64 = SeededRandom

extension SeededRandom {
    /// A double uniformly in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }
}
