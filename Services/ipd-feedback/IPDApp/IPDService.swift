import Foundation
import GRDB
import Hummingbird
import ITRConfig
import ITREvents
import Logging
import ServiceKit

/// The `ipd-feedback` service: product-caused problems → a de-duplicated defect feed for R&D
/// (`itr.defect.reported` / `updated` / `fixed` on `itr.events`, `GET /v1/defects`), and R&D's
/// decisions (`itr.defect.status`) back.
public enum IPDService {
    public static let product = "ipd-feedback"

    /// Reads and validates `ipd.yaml` (with the core files it cross-checks against).
    public static func loadRules(directory: String) throws(ConfigErrors) -> IPDRules {
        let bundle = try ConfigBundle.load(directory: directory, sections: [IPDRules.self])
        return try bundle.section(IPDRules.self)
    }

    /// Loads the rules (refusing to start when they are invalid) and runs until SIGTERM.
    public static func run(settings: ServiceSettings) async throws {
        let rules = try loadRules(directory: settings.configDirectory)
        let host = ITRServiceHost(product: product, settings: settings, storeMigrations: DefectStore.migrations)
        try await host.run { runtime in
            components(runtime: runtime, rules: RulesHolder(rules))
        }
    }

    /// The consumer of `ipd-feedback.inbox`, the debounce flusher, `GET /v1/defects` and the reload.
    public static func components(
        runtime: ServiceRuntime, rules: RulesHolder, clock: (@Sendable () -> Date)? = nil,
        flushInterval: Duration = .seconds(1)
    ) -> ServiceComponents {
        let logger = runtime.logger
        let shared = runtime.clock
        let clock = clock ?? { shared.now() }
        let store = runtime.database
        let handler = IPDHandler(store: store, rules: rules, clock: clock, logger: logger)
        let flusher = DefectFlusher(
            store: store, rules: rules, relay: runtime.relay, interval: flushInterval, clock: clock, logger: logger)
        let queue = ITRTopology.queueName(of: product) ?? "\(product).inbox"
        let directory = runtime.settings.configDirectory
        let authenticator = runtime.authenticator
        return ServiceComponents(
            consumers: [.init(configuration: .init(queue: queue), handler: handler)],
            routes: { router in
                router.get("/v1/defects") { request, _ -> Response in
                    _ = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.defectsRead])
                    var parameters: [String: String] = [:]
                    for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
                    let query = try DefectQuery(parameters: parameters)
                    let current = rules.rules
                    let page = try await store.read { db in try query.run(db, rules: current) }
                    var headers = HTTPFields()
                    headers[.contentType] = "application/json"
                    let body = try EventCoding.encoder.encode(page)
                    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
                }
            },
            reload: {
                do {
                    rules.replace(try loadRules(directory: directory))
                    logger.info("ipd rules reloaded")
                } catch {
                    logger.error("invalid ipd rules; keeping the last good ones", metadata: ["error": "\(error)"])
                }
            },
            services: [flusher])
    }
}
