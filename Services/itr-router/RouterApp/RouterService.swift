import Foundation
import ITRConfig
import Logging
import ServiceKit

/// Assembles and runs `itr-router`: rules (validated at start-up, reloaded on SIGHUP), the
/// consumer of `itr-router.inbox`, the due-moment scheduler, the re-planner of due moments
/// after a rules change, and the HTTP API.
public enum RouterService {
    public static let product = "itr-router"
    public static let queue = "itr-router.inbox"

    /// What the host runs, with the scheduler exposed for tests.
    public struct Parts: Sendable {
        public var components: ServiceComponents
        public var scheduler: DueScheduler
        public var replanner: RulesReplanner
        public var api: RouterAPI
    }


    public static func parts(runtime: ServiceRuntime, rules: RulesHolder, clock: any RouterClock) -> Parts {
        let logger = runtime.logger
        let scheduler = DueScheduler(
            store: runtime.database, rules: rules, clock: clock, relay: runtime.relay, logger: logger)
        let replanner = RulesReplanner(
            store: runtime.database, rules: rules, clock: clock, scheduler: scheduler, logger: logger)
        let handler = RouterHandler(store: runtime.database, rules: rules, clock: clock, scheduler: scheduler, logger: logger)
        let api = RouterAPI(
            store: runtime.database, rules: rules, clock: clock, authenticator: runtime.authenticator, relay: runtime.relay,
            scheduler: scheduler)
        var configuration = EventConsumer.Configuration(queue: queue)
        configuration.maximumBatch = 256
        let components = ServiceComponents(
            consumers: [.init(configuration: configuration, handler: handler)],
            routes: { router in api.register(router) },
            reload: {
                switch rules.reload() {
                case .success(let version):
                    logger.info(
                        "rules reloaded",
                        metadata: ["rules_version": "\(version)", "model_version": "\(rules.current.modelVersion ?? "none")"])
                    // Open tickets' due moments follow the new targets (in batches, in the background).
                    replanner.rulesChanged()
                    scheduler.poke()
                case .failure(let errors):
                    logger.error(
                        "invalid rules; keeping the last good ones",
                        metadata: ["rules_version": "\(rules.current.version)", "errors": "\(errors)"])
                }
            },
            services: [scheduler, replanner])
        return Parts(components: components, scheduler: scheduler, replanner: replanner, api: api)
    }

    /// The host with the router's migrations (both engines: `DATABASE_URL` selects PostgreSQL).
    public static func host(settings: ServiceSettings) -> ITRServiceHost {
        ITRServiceHost(product: product, settings: settings, storeMigrations: RouterSchema.migrations)
    }

    /// The executable's entry point; returns the exit status.
    public static func main(arguments: [String] = CommandLine.arguments) async -> Int32 {
        let settings: ServiceSettings
        do {
            settings = try ServiceSettings(product: product, arguments: arguments)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return error.code == .helpRequested ? 0 : 2
        }
        let rules: RouterRules
        do {
            rules = try RouterRules.load(directory: settings.configDirectory)
        } catch {
            FileHandle.standardError.write(Data("itr-router: invalid configuration:\n\(error)\n".utf8))
            return 1
        }
        let holder = RulesHolder(rules, directory: settings.configDirectory)
        let host = host(settings: settings)
        do {
            try await host.run { runtime in
                runtime.logger.info(
                    "rules loaded", metadata: ["rules_version": "\(rules.version)", "model_version": "\(rules.modelVersion ?? "none")"])
                return parts(runtime: runtime, rules: holder, clock: runtime.clock).components
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data("itr-router: \(error)\n".utf8))
            return 1
        }
    }
}
