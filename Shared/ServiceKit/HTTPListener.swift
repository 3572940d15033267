import Foundation
import Hummingbird
import NIOCore
import HummingbirdCore
import Metrics
import Logging
import ServiceLifecycle

/// The answer of a readiness probe.
public struct ReadinessReport: Sendable, Hashable, Codable {
    public var ready: Bool
    public var components: [HealthState.Component]

    public init(ready: Bool, components: [HealthState.Component] = []) {
        self.ready = ready
        self.components = components
    }
}

/// The HTTP side of a service: `/healthz`, `/readyz`, `/metrics`, problem+json errors and the
/// service's own routes.
public enum HTTPListener {
    /// Builds the router with the shared routes and the service's own.
    ///
    /// - `GET /healthz` → 200 `{"status":"alive"}`
    /// - `GET /readyz` → 200 `{"status":"ready",...}` or 503 `{"status":"not ready","not_ready":[...],...}`
    /// - `GET /metrics` → Prometheus text format 0.0.4; scope `metrics:read` (open on the
    ///   separate loopback listener of ``makeMetricsRouter(metrics:readiness:)``)
    /// - `GET /v1/outbox/parked` (with a store; scope `admin`) → `{"count":N,"parked":[...]}`: the
    ///   outbox rows that cannot be published, with why (``Outbox/Parked``), oldest first, at most 1,000
    /// - `POST /v1/outbox/parked/retry` (with a store; scope `admin`; `?seq=3,7` for some) →
    ///   `{"unparked":N}`: makes parked rows pending again and wakes the relay (after the cause was mended)
    ///
    /// `/healthz` and `/readyz` are open; everything else needs a bearer token of `authenticator`
    /// with the route's scope (401 / 403 problem+json otherwise).
    public static func makeRouter(
        metrics: ServiceMetrics,
        readiness: @escaping @Sendable () async -> ReadinessReport,
        authenticator: TokenAuthenticator,
        store: SQLStore? = nil,
        relay: OutboxRelay? = nil,
        rateLimit: Double = 0,
        rateClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        routes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ProblemDetailsMiddleware<BasicRequestContext>())
        if rateLimit > 0 {
            router.middlewares.add(RateLimitMiddleware<BasicRequestContext>(rate: rateLimit, now: rateClock) {
                Counter(label: "itr_http_rate_limited_total").increment()
            })
        }
        addProbes(router, readiness: readiness)
        router.get("/metrics") { request, _ in
            _ = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.metricsRead])
            return metricsResponse(metrics)
        }
        if let store {
            router.get("/v1/outbox/parked") { request, _ in
                _ = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.admin])
                struct Body: Encodable {
                    var count: Int
                    var parked: [Outbox.Parked]
                }
                let body = try await store.read { db in
                    Body(count: try Outbox.parkedCount(db), parked: try Outbox.parked(db))
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return jsonResponse(.ok, try encoder.encode(body))
            }
            router.post("/v1/outbox/parked/retry") { request, _ in
                _ = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.admin])
                var seqs: [Int64]?
                if let list = request.uri.queryParameters.get("seq") {
                    let parsed = list.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
                    guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                        throw ProblemDetails(status: .badRequest, title: "Invalid seq", detail: "seq must be a comma-separated list of outbox sequence numbers")
                    }
                    seqs = parsed.compactMap { $0 }
                }
                let selected = seqs
                let unparked = try await store.write { db in try Outbox.unpark(db, seqs: selected) }
                if unparked > 0 {
                    metrics.outboxParkedRows.decrement(by: Double(unparked))
                    relay?.notify()
                }
                return jsonResponse(.ok, Data(#"{"unparked":\#(unparked)}"#.utf8))
            }
        }
        routes(router)
        return router
    }

    /// The router of the metrics listener (`METRICS_HOST`:`METRICS_PORT`, loopback by default):
    /// `/metrics`, `/healthz` and `/readyz`, open, nothing else. For a Prometheus on the same host
    /// (or network namespace); one elsewhere scrapes the main listener with a `metrics:read` token.
    public static func makeMetricsRouter(
        metrics: ServiceMetrics, readiness: @escaping @Sendable () async -> ReadinessReport
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ProblemDetailsMiddleware<BasicRequestContext>())
        addProbes(router, readiness: readiness)
        router.get("/metrics") { _, _ in metricsResponse(metrics) }
        return router
    }

    static func addProbes(_ router: Router<BasicRequestContext>, readiness: @escaping @Sendable () async -> ReadinessReport) {
        router.get("/healthz") { _, _ in
            jsonResponse(.ok, Data(#"{"status":"alive"}"#.utf8))
        }
        router.get("/readyz") { _, _ in
            let report = await readiness()
            return jsonResponse(report.ready ? .ok : .serviceUnavailable, readinessBody(report))
        }
    }

    static func metricsResponse(_ metrics: ServiceMetrics) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = ServiceMetrics.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
    }

    /// The Hummingbird application (a `Service`) serving `router` on `host:port`.
    /// Request heads are limited to 100 header fields of at most 80 KiB together (a CloudEvent in
    /// binary mode needs a dozen; an over-long header within that is kept, cut, with the refused
    /// report); a connection silent for `idleTimeout` (between requests, or in the middle of a
    /// head: a slow client) is closed.
    ///
    /// - Parameter channelHandlers: more handlers for every connection's pipeline, after the HTTP
    ///   decoder (instrumentation).
    public static func makeApplication(
        router: Router<BasicRequestContext>, host: String, port: Int, serverName: String, logger: Logger,
        idleTimeout: Double = 30, channelHandlers: @escaping @Sendable () -> [any RemovableChannelHandler] = { [] }
    ) -> some ApplicationProtocol {
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: channelHandlers(),
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 80 * 1024, maxHeaderListSize: 80 * 1024, maxHeaderFieldCount: 100))
        return Application(
            router: router, server: .http1(configuration: http1),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
            logger: logger)
    }

    static func readinessBody(_ report: ReadinessReport) -> Data {
        struct Body: Encodable {
            var status: String
            var not_ready: [String]
            var components: [String: HealthState.Component]
        }
        let body = Body(
            status: report.ready ? "ready" : "not ready",
            not_ready: report.components.filter { !$0.ready }.map(\.name),
            components: Dictionary(report.components.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)) ?? Data()
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
    }
}
