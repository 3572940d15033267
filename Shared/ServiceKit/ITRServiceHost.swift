import AMQPClient
import Foundation
import GRDB
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Runs one ITR service: logging and metrics bootstrap, the store (SQLite in `DATA_DIR`, or
/// PostgreSQL with `DATABASE_URL` for a service whose store is written for both engines), the broker
/// connection and topology, then a `ServiceGroup` with, in start order,
///
///   broker connections (consuming, publishing) → outbox relay → retention → the service's background services → consumers → HTTP → SIGHUP reload
///
/// stopped in reverse on SIGTERM/SIGINT: HTTP stops taking requests, consumers finish and settle
/// the batch in hand, the relay publishes what is pending, the connection closes last.
///
///     try await ITRServiceHost(product: "itr-router", settings: settings) { migrator in
///         migrator.registerMigration("router-v1") { db in ... }
///     }.run { runtime in
///         ServiceComponents(consumers: [.init(configuration: .init(queue: "itr-router.inbox"), handler: handler)])
///     }
public struct ITRServiceHost: Sendable {
    public let product: String
    public let settings: ServiceSettings
    public let topology: AMQPTopology
    public let migrations: @Sendable (inout DatabaseMigrator) -> Void
    /// The service's migrations in both dialects: it may store in PostgreSQL (`DATABASE_URL`).
    /// nil: GRDB migrations (``migrations``), SQLite only.
    public let storeMigrations: [StoreMigration]?
    public var maximumGracefulShutdownDuration: Duration = .seconds(30)

    /// A service whose store is written against GRDB: SQLite in `DATA_DIR` only (a `DATABASE_URL`
    /// is refused with a reason).
    public init(
        product: String, settings: ServiceSettings, topology: AMQPTopology? = nil,
        migrations: @escaping @Sendable (inout DatabaseMigrator) -> Void = { _ in }
    ) {
        self.product = product
        self.settings = settings
        self.topology = topology ?? ITRTopology.topology(for: product)
        self.migrations = migrations
        self.storeMigrations = nil
    }

    /// A service whose store is written against ``SQLTransaction``: PostgreSQL with `DATABASE_URL`
    /// (a schema named after the product; several instances may share it), else SQLite in `DATA_DIR`.
    public init(product: String, settings: ServiceSettings, topology: AMQPTopology? = nil, storeMigrations: [StoreMigration]) {
        self.product = product
        self.settings = settings
        self.topology = topology ?? ITRTopology.topology(for: product)
        self.migrations = { migrator in migrator.register(storeMigrations) }
        self.storeMigrations = storeMigrations
    }

    /// Opens everything, asks `build` for the service's parts, and runs until shut down.
    public func run(build: @Sendable (ServiceRuntime) async throws -> ServiceComponents) async throws {
        MallocTuning.apply()
        let logger = bootstrapLogging(service: product, instance: settings.instance, level: settings.logLevel)
        ServiceMetrics.bootstrap()
        let runtime = try await prepare(logger: logger)
        let result: Result<Void, any Error>
        do {
            let components = try await build(runtime)
            let group = makeServiceGroup(runtime: runtime, components: components)
            try await group.run()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        // Every service has stopped (the relay and consumers last used it): the store's
        // connections close before the process ends.
        await runtime.database.close()
        try result.get()
    }

    /// Reads the tokens (`authenticator`, default: `API_TOKENS` / `API_TOKENS_FILE` of the process),
    /// opens the store, connects (retrying until the broker answers) and declares the topology.
    public func prepare(
        logger: Logger, metrics: ServiceMetrics? = nil, authenticator: TokenAuthenticator? = nil
    ) async throws -> ServiceRuntime {
        let authenticator = try authenticator ?? TokenAuthenticator.fromEnvironment()
        let metrics = metrics ?? ServiceMetrics(service: product)
        let database = try await openStore(logger: logger)
        do {
            return try await connect(database: database, logger: logger, metrics: metrics, authenticator: authenticator)
        } catch {
            await database.close()
            throw error
        }
    }

    /// The broker connections, the topology and the relay, on an open store.
    private func connect(
        database: SQLStore, logger: Logger, metrics: ServiceMetrics, authenticator: TokenAuthenticator
    ) async throws -> ServiceRuntime {
        if let scaled = settings.clock as? ScaledClock {
            logger.warning(
                "accelerated clock: business time runs faster than wall time",
                metadata: ["speed": "\(scaled.speed)", "epoch": "\(Int(scaled.epoch.timeIntervalSince1970))"])
        }
        metrics.instanceInfo(settings.instance).set(1.0)
        // Two connections: a publisher the broker blocks (resource alarm) or TCP holds back
        // must never stop the consumer's deliveries, acks and heartbeats. Their names (and the
        // consumer tags made from them) say which instance it is.
        var configuration = try AMQPConfiguration(url: settings.amqpURL)
        configuration.connectionName = "\(product) (\(settings.instance))"
        let connection = try await AMQPConnection.connectWithRetry(configuration, logger: logger)
        try await connection.declare(topology)
        configuration.connectionName = "\(product)-publish (\(settings.instance))"
        let publishConnection = try await AMQPConnection.connectWithRetry(configuration, logger: logger)
        let health = HealthState()
        health.addCheck("amqp") {
            let connected = connection.isConnected && publishConnection.isConnected
            metrics.amqpConnected.set(connected ? 1.0 : 0.0)
            let down = [connection.isConnected ? nil : "consuming", publishConnection.isConnected ? nil : "publishing"]
                .compactMap { $0 }
            return (connected, connected ? nil : "broker connection down (\(down.joined(separator: ", "))), recovering")
        }
        // On PostgreSQL several instances share the outbox: each relays the rows it wrote and
        // adopts those of an instance that is gone.
        var relayConfiguration = OutboxRelay.Configuration()
        if database.dialect == .postgres {
            relayConfiguration.instance = settings.instance
            relayConfiguration.ownerTimeout = .seconds(settings.outboxOwnerTimeoutSeconds)
            relayConfiguration.heartbeatInterval = .seconds(settings.outboxOwnerTimeoutSeconds / 6)
        }
        let relay = OutboxRelay(
            store: database, publisher: publishConnection, configuration: relayConfiguration, metrics: metrics,
            logger: logger.labelled("outbox-relay"))
        return ServiceRuntime(
            product: product, settings: settings, logger: logger, database: database, connection: connection,
            publishConnection: publishConnection, relay: relay, metrics: metrics, health: health, clock: settings.clock,
            authenticator: authenticator)
    }

    /// SQLite in `DATA_DIR`, or PostgreSQL when `DATABASE_URL` is set and the service's store is
    /// written for it: connected (retrying until the server answers, like the broker) and migrated.
    func openStore(logger: Logger) async throws -> SQLStore {
        guard let url = settings.databaseURL else {
            let store = try ServiceStore(settings: settings, migrations: migrations)
            logger.info("database open", metadata: ["engine": "sqlite", "path": "\(store.path)"])
            return .sqlite(store)
        }
        guard let storeMigrations else {
            throw ServiceSettingsError(
                code: .invalidValue, variable: ServiceSettings.Variable.databaseURL.rawValue,
                message: "\(product) stores in SQLite only in this build (in DATA_DIR); unset DATABASE_URL")
        }
        let postgres = try PostgresStoreSettings(url: url, schema: product, instance: settings.instance)
        var delay: Duration = .milliseconds(250)
        while true {
            do {
                let store = try await PostgresStore(
                    settings: postgres, migrations: ServiceStore.sharedMigrations + storeMigrations, logger: logger)
                logger.info(
                    "database open",
                    metadata: ["engine": "postgresql", "host": "\(postgres.host):\(postgres.port)", "database": "\(postgres.database)",
                        "schema": "\(postgres.schema)"])
                return .postgres(store)
            } catch {
                // What the server refused (a password, a missing database, a migration) is not
                // retried; only a server not reachable or still starting up (SQLSTATE 08, 57P).
                if let state = PostgresTransaction.sqlState(of: error), !state.hasPrefix("08"), !state.hasPrefix("57P") { throw error }
                logger.warning("database connect failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The service group, in start order (see the type's documentation).
    public func makeServiceGroup(runtime: ServiceRuntime, components: ServiceComponents) -> ServiceGroup {
        let retention = RetentionService(
            store: runtime.database, steps: [.inbox(retention: settings.inboxRetention)] + components.retention,
            clock: runtime.clock, metrics: runtime.metrics, logger: runtime.logger.labelled("retention"))
        var services: [any Service] = [
            ConnectionService(
                connections: [runtime.publishConnection, runtime.connection], metrics: runtime.metrics),
            runtime.relay, retention,
        ]
        services += components.services
        for consumer in components.consumers {
            services.append(
                EventConsumer(
                    service: product, configuration: consumer.configuration, source: runtime.connection,
                    handler: consumer.handler, store: runtime.database, relay: runtime.relay, health: runtime.health,
                    metrics: runtime.metrics, logger: runtime.logger.labelled("consumer")))
        }
        let health = runtime.health
        let readiness: @Sendable () async -> ReadinessReport = { ReadinessReport(ready: health.isReady, components: health.snapshot()) }
        let router = HTTPListener.makeRouter(
            metrics: runtime.metrics, readiness: readiness, authenticator: runtime.authenticator,
            store: runtime.database, relay: runtime.relay, rateLimit: settings.httpRateLimit, routes: components.routes)
        services.append(
            HTTPListener.makeApplication(
                router: router, host: settings.httpHost, port: settings.httpPort, serverName: product,
                logger: runtime.logger.labelled("http"), idleTimeout: settings.httpIdleTimeoutSeconds))
        if let metricsPort = settings.metricsPort {
            services.append(
                HTTPListener.makeApplication(
                    router: HTTPListener.makeMetricsRouter(metrics: runtime.metrics, readiness: readiness),
                    host: settings.metricsHost, port: metricsPort, serverName: product,
                    logger: runtime.logger.labelled("metrics-http"), idleTimeout: settings.httpIdleTimeoutSeconds))
        }
        if let reload = components.reload {
            services.append(ReloadOnHangupService(reload: reload, logger: runtime.logger))
            if settings.configWatchSeconds > 0 {
                services.append(
                    ConfigWatchService(
                        directory: settings.configDirectory, interval: settings.configWatchSeconds, reload: reload,
                        logger: runtime.logger))
            }
        }
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: runtime.logger)
        configuration.maximumGracefulShutdownDuration = maximumGracefulShutdownDuration
        return ServiceGroup(configuration: configuration)
    }
}

/// glibc malloc settings for a small service on few cores (Linux only; no-ops elsewhere).
///
/// glibc gives every thread that contends for a lock an arena of its own, up to 8 per core;
/// a service has a dozen threads (Swift's cooperative pool, SwiftNIO's event loops, GRDB's
/// queues, the AMQP connection thread), and memory freed in one arena is not reused by
/// another, so resident memory grows with the number of arenas touched. ``apply()``, called
/// first thing by ``ITRServiceHost/run(build:)``, caps them at ``arenaMax`` unless the
/// `MALLOC_ARENA_MAX` environment variable says otherwise. ``trim()`` (`malloc_trim(0)`)
/// returns the free pages inside the arenas to the kernel; the host calls it every
/// ``trimInterval`` while running, so the memory of a burst does not stay resident.
public enum MallocTuning {
    public static let arenaMax: Int32 = 2
    public static let trimInterval: Duration = .seconds(10)

    /// `M_ARENA_MAX` of glibc's malloc.h (not exported by Swift's Glibc module, nor are
    /// `mallopt` and `malloc_trim`: they are looked up with `dlsym`).
    static let mArenaMax: Int32 = -8

    /// Sets the arena limit; false when not on glibc or when the environment sets it.
    @discardableResult
    public static func apply(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment["MALLOC_ARENA_MAX"] == nil, let mallopt = function("mallopt", as: Mallopt.self) else { return false }
        return mallopt(mArenaMax, arenaMax) == 1
    }

    public static func trim() {
        if let trim = function("malloc_trim", as: MallocTrim.self) { _ = trim(0) }
    }

    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    typealias MallocTrim = @convention(c) (Int) -> Int32

    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}

/// Keeps the broker connection for the group's lifetime and closes it last; updates
/// `itr_amqp_connected` every second and trims malloc's free pages every
/// ``MallocTuning/trimInterval``.
struct ConnectionService: Service {
    /// Closed in this order at the end (the publisher first: the relay has finished by then).
    let connections: [AMQPConnection]
    let metrics: ServiceMetrics

    func run() async throws {
        let gauge = metrics.amqpConnected
        let wake = WakeSignal()
        await withGracefulShutdownHandler {
            var lastTrim = ContinuousClock.now
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                gauge.set(connections.allSatisfy(\.isConnected) ? 1.0 : 0.0)
                if ContinuousClock.now - lastTrim >= MallocTuning.trimInterval {
                    MallocTuning.trim()
                    lastTrim = .now
                }
                await wake.wait(timeout: .seconds(1))
            }
        } onGracefulShutdown: {
            wake.signal()
        }
        for connection in connections { await connection.close() }
        gauge.set(0.0)
    }
}

/// Calls `reload` for every SIGHUP until shutdown.
struct ReloadOnHangupService: Service {
    let reload: @Sendable () async -> Void
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading configuration")
            await reload()
        }
    }
}

extension Logger {
    /// A copy with another label, same level and metadata.
    func labelled(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        for (key, value) in handler.metadata { logger[metadataKey: key] = value }
        return logger
    }
}
