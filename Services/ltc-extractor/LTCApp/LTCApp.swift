import Foundation
import Hummingbird
import ITRConfig
import ITREvents
import Logging
import ServiceKit

/// The ltc-extractor service (ITR → LTC): sales opportunities from what tickets reveal.
///
/// Consumes `ltc-extractor.inbox` (ticket opened / correlated / classified / resolved, SLA
/// breaches from `itr.events`; sales status reports `opportunity.<status>` from `itr.ingress`),
/// keeps tickets, observations and opportunities with the inbox and outbox (SQLite in `DATA_DIR`, or
/// PostgreSQL when `DATABASE_URL` is set, as many instances as wanted on one database), emits
/// `itr.opportunity.identified` / `updated` onto `itr.events`, and serves `GET /v1/opportunities`.
public enum LTCApp {
    public static let product = "ltc-extractor"

    /// Reads settings from the environment and flags, validates the rules, and runs until SIGTERM.
    /// Returns the process exit status.
    public static func main(
        environment: [String: String] = ProcessInfo.processInfo.environment, arguments: [String] = CommandLine.arguments
    ) async -> Int32 {
        let settings: ServiceSettings
        do {
            settings = try ServiceSettings(product: product, environment: environment, arguments: arguments)
        } catch {
            if error.code == .helpRequested {
                print(error.message)
                return 0
            }
            FileHandle.standardError.write(Data("\(product): \(error)\n".utf8))
            return 2
        }
        let logger = bootstrapLogging(service: product, instance: settings.instance, level: settings.logLevel)
        let rules: LTCRules
        do {
            rules = try LTCRules(directory: settings.configDirectory)
        } catch {
            for problem in error.errors {
                logger.error("invalid configuration", metadata: ["error": "\(problem)", "file": "\(problem.file)", "line": "\(problem.line)", "field": "\(problem.field)"])
            }
            return 1
        }
        logger.info("rules loaded", metadata: ["rules_version": "\(rules.version)", "config_dir": "\(settings.configDirectory)"])
        do {
            try await run(settings: settings, rules: rules)
            return 0
        } catch {
            logger.error("stopped on error", metadata: ["error": "\(error)"])
            return 1
        }
    }

    /// Runs the service with validated rules.
    public static func run(settings: ServiceSettings, rules: LTCRules) async throws {
        try await host(settings: settings).run { runtime in components(runtime: runtime, rules: rules) }
    }

    /// The host with the extractor's migrations (both engines) and topology.
    public static func host(settings: ServiceSettings) -> ITRServiceHost {
        ITRServiceHost(product: product, settings: settings, storeMigrations: LTCStore.migrations)
    }

    /// The consumer, routes and SIGHUP reload.
    public static func components(runtime: ServiceRuntime, rules: LTCRules) -> ServiceComponents {
        let metrics = LTCMetrics(base: runtime.metrics)
        let clock = runtime.clock
        let processor = OpportunityProcessor(
            store: runtime.database, rules: rules, logger: runtime.logger, metrics: metrics, now: { clock.now() })
        let queue = ITRTopology.queueName(of: product) ?? "\(product).inbox"
        let store = runtime.database
        let authenticator = runtime.authenticator
        let logger = runtime.logger
        // The debounced `itr.opportunity.updated`: each opportunity marked as changed at least
        // `updateInterval` ago (ltc.yaml) gets one update with its latest state; the mark is
        // written in the change's own transaction, so a crash in between loses nothing.
        let flusher = PeriodicFlusher(what: "opportunity updates", relay: runtime.relay, logger: logger) {
            try await processor.flushPendingUpdates()
        }
        return ServiceComponents(
            consumers: [.init(configuration: .init(queue: queue), handler: processor)],
            routes: { router in addRoutes(to: router, store: store, authenticator: authenticator) },
            reload: {
                do {
                    try rules.reload()
                    logger.info("rules reloaded", metadata: ["rules_version": "\(rules.version)"])
                } catch {
                    logger.error("reload refused; keeping the last good rules", metadata: ["error": "\(error)"])
                }
            },
            services: [flusher])
    }

    /// `GET /v1/opportunities` (scope `opportunities:read`).
    public static func addRoutes(to router: Router<BasicRequestContext>, store: SQLStore, authenticator: TokenAuthenticator) {
        router.get("/v1/opportunities") { request, _ -> Response in
            _ = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.opportunitiesRead])
            let parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
            let query = try OpportunityQuery(parameters: parameters)
            let (items, total) = try await store.read { db in try LTCStore.list(db, query) }
            let next = query.offset + items.count < total ? query.offset + items.count : nil
            let page = OpportunityPage(
                items: items.map(OpportunityView.init), total: total, limit: query.limit, offset: query.offset, nextOffset: next)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let body = try EventCoding.encode(page)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
        }
    }
}
