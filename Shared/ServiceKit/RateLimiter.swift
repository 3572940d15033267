import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Token buckets per credential, as a pure state machine (time passed in): each key refills at
/// `rate` per second up to `burst`; a request takes one token (or `cost` of them: bytes, for a
/// byte budget) or is told how long to wait.
/// At most `maxKeys` buckets are kept: when full, buckets that have refilled completely (the
/// ones nobody is pressing) are dropped first, then the oldest.
public struct TokenBuckets: Sendable {
    public let rate: Double
    public let burst: Double
    public let maxKeys: Int
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    public init(rate: Double, burst: Double, maxKeys: Int = 10_000) {
        self.rate = rate
        self.burst = max(burst, 1)
        self.maxKeys = maxKeys
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// Refused: retry after this many seconds (at least 1, whole seconds for `Retry-After`).
        case limited(retryAfter: Int)
    }

    public mutating func take(_ key: String, now: Double, cost: Double = 1) -> Decision {
        var bucket = buckets[key] ?? (tokens: burst, at: now)
        bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) * rate)
        bucket.at = now
        defer {
            if buckets[key] == nil && buckets.count >= maxKeys { evict(now: now) }
            buckets[key] = bucket
        }
        if bucket.tokens >= cost {
            bucket.tokens -= cost
            return .allowed
        }
        return .limited(retryAfter: max(1, Int(((min(cost, burst) - bucket.tokens) / rate).rounded(.up))))
    }

    public var keyCount: Int { buckets.count }

    private mutating func evict(now: Double) {
        let full = buckets.filter { $0.value.tokens + (now - $0.value.at) * rate >= burst }.map(\.key)
        for key in full { buckets[key] = nil }
        while buckets.count >= maxKeys, let oldest = buckets.min(by: { $0.value.at < $1.value.at })?.key {
            buckets[oldest] = nil
        }
    }
}

/// `HTTP_RATE_LIMIT`: 429 problem+json with `Retry-After` once a credential (the bearer token,
/// kept only as its SHA-256; requests without one share a bucket) exceeds its rate. The open
/// probes (`/healthz`, `/readyz`, `/metrics`) are never limited.
public struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    static var openPaths: Set<String> { ["/healthz", "/readyz", "/metrics"] }
    final class Shared: Sendable {
        let buckets: Mutex<TokenBuckets>
        init(_ buckets: TokenBuckets) { self.buckets = Mutex(buckets) }
    }
    let shared: Shared
    let limited: @Sendable () -> Void
    let now: @Sendable () -> Double

    /// `now`: seconds, for the buckets (tests pass a clock that stands still).
    public init(
        rate: Double, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        limited: @escaping @Sendable () -> Void = {}
    ) {
        shared = Shared(TokenBuckets(rate: rate, burst: rate * 2))
        self.limited = limited
        self.now = now
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !Self.openPaths.contains(request.uri.path) else { return try await next(request, context) }
        let key = request.headers[.authorization].map { TokenAuthenticator.hash(token: $0) } ?? "anonymous"
        let now = self.now()
        switch shared.buckets.withLock({ $0.take(key, now: now) }) {
        case .allowed:
            return try await next(request, context)
        case .limited(let seconds):
            limited()
            throw ProblemDetails(
                status: .tooManyRequests, type: "https://itr.example.com/problems/rate-limited", title: "rate-limited",
                detail: "more than \(Int(shared.buckets.withLock { $0.rate })) requests per second for this credential; retry after \(seconds) s",
                headers: ["Retry-After": "\(seconds)"])
        }
    }
}
