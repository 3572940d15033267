import Histogram

/// Percentiles of an HdrHistogram of microseconds, reported in milliseconds.
struct LatencySummary: Codable, Sendable {
    var count: UInt64
    var ratePerSecond: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    var meanMs: Double
    /// How far the paced publisher fell behind its schedule at worst (the latency still counts
    /// from the scheduled time), ms.
    var publisherMaxLagMs: Double?

    init(_ histogram: Histogram<UInt64>, rate: Double, count expected: Int, publisherMaxLagMicros: UInt64? = nil) {
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
        count = histogram.totalCount
        ratePerSecond = rate
        p50Ms = ms(histogram.valueAtPercentile(50))
        p90Ms = ms(histogram.valueAtPercentile(90))
        p99Ms = ms(histogram.valueAtPercentile(99))
        p999Ms = ms(histogram.valueAtPercentile(99.9))
        maxMs = ms(histogram.max)
        meanMs = histogram.mean / 1000
        publisherMaxLagMs = publisherMaxLagMicros.map(ms)
    }

    var line: String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        return "n=\(count) @ \(Int(ratePerSecond))/s: p50 \(f(p50Ms)) ms, p99 \(f(p99Ms)) ms, p99.9 \(f(p999Ms)) ms, max \(f(maxMs)) ms"
    }
}
