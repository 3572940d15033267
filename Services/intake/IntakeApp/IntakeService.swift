import Foundation
import ITRConfig
import Logging
import ServiceKit

/// The intake service: builds its parts on the shared host and runs until SIGTERM.
public enum IntakeService {
    public static let product = "intake"

    /// Loads the configuration (refusing to start on an invalid one), then runs.
    public static func run(settings: ServiceSettings, environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let policy = try IntakePolicy.load(directory: settings.configDirectory)
        let host = ITRServiceHost(product: product, settings: settings, storeMigrations: ReportIntake.migrations)
        try await host.run { runtime in
            try await components(runtime: runtime, policy: policy)
        }
    }

    /// The consumer of `intake.reports` (rejections to `itr.rejected`), `POST /v1/reports`,
    /// the SIGHUP reload and the retention of idempotency records and alarm storms.
    public static func components(runtime: ServiceRuntime, policy: IntakePolicy) async throws -> ServiceComponents {
        let logger = runtime.logger
        let authenticator = runtime.authenticator
        let intake = try await ReportIntake(
            store: runtime.database, policy: policy, metrics: IntakeMetrics(metrics: runtime.metrics), logger: logger,
            clock: runtime.clock)
        logger.info(
            "intake configured",
            metadata: [
                "rules_version": "\(policy.rulesVersion)", "known_accounts": "\(policy.knownAccounts.count)",
                "storm_window_s": "\(Int(policy.configuration.stormWindow))", "api_tokens": "\(authenticator.grants.count)",
            ])
        var consumer = EventConsumer.Configuration(queue: queue, rejectionTarget: .rejectedQueue)
        consumer.prefetch = 512
        consumer.maximumBatch = 256
        let endpoint = ReportsEndpoint(intake: intake, authenticator: authenticator, relay: runtime.relay)
        let directory = runtime.settings.configDirectory
        return ServiceComponents(
            consumers: [.init(configuration: consumer, handler: IntakeEventHandler(intake: intake))],
            routes: { router in endpoint.register(on: router) },
            reload: {
                do {
                    let policy = try IntakePolicy.load(directory: directory)
                    intake.update(policy: policy)
                    logger.info("configuration reloaded", metadata: ["rules_version": "\(policy.rulesVersion)"])
                } catch {
                    logger.error("configuration reload failed; keeping the last good one", metadata: ["error": "\(error)"])
                }
            },
            retention: intake.retentionSteps(retention: runtime.settings.inboxRetention))
    }

    /// `intake.reports`.
    public static var queue: String { ITRTopology.queueName(of: product) ?? "intake.reports" }
}
