import AMQPClient
import Hummingbird
import Logging
import ServiceLifecycle

/// What a service's builder gets from ``ITRServiceHost``: everything opened and connected.
public struct ServiceRuntime: Sendable {
    public let product: String
    public let settings: ServiceSettings
    public let logger: Logger
    /// The service's store: SQLite in `DATA_DIR`, or PostgreSQL (`DATABASE_URL`).
    public let database: SQLStore
    /// The consuming connection: deliveries, acks, heartbeats. Never blocked by publishing.
    public let connection: AMQPConnection
    /// The publishing connection (the outbox relay's): when the broker blocks publishers
    /// (`connection.blocked`: a memory or disk alarm) or TCP pushes back, only this one waits.
    public let publishConnection: AMQPConnection
    public let relay: OutboxRelay
    public let metrics: ServiceMetrics
    public let health: HealthState
    /// The deployment's clock (``ServiceSettings/clock``): stamps, validation, SLA/OLA time.
    public let clock: any ServiceClock
    /// Who may call the HTTP endpoints (`API_TOKENS`, `API_TOKENS_FILE`): every route but the probes checks it.
    public let authenticator: TokenAuthenticator

    /// The SQLite store of a service written against GRDB. Its host was made with GRDB migrations
    /// and so refuses `DATABASE_URL`: the store is SQLite by construction.
    public var store: ServiceStore {
        guard case .sqlite(let store) = database else {
            preconditionFailure("\(product) stores in SQLite only; its host refuses DATABASE_URL")
        }
        return store
    }
}

/// What a service adds to the shared machinery.
public struct ServiceComponents: Sendable {
    /// A queue to consume and the handler for it.
    public struct Consumer: Sendable {
        public var configuration: EventConsumer.Configuration
        public var handler: any EventHandler

        public init(configuration: EventConsumer.Configuration, handler: any EventHandler) {
            self.configuration = configuration
            self.handler = handler
        }
    }

    public var consumers: [Consumer]
    /// Adds the service's routes (the shared `/healthz`, `/readyz`, `/metrics` are already there).
    public var routes: @Sendable (Router<BasicRequestContext>) -> Void
    /// Called on SIGHUP (reload rules; keep the last good ones when the new ones are invalid).
    public var reload: (@Sendable () async -> Void)?
    /// Background services (clocks, schedulers), started after the relay and before the consumers.
    public var services: [any Service]
    /// The service's own prune steps, run by the host's ``RetentionService`` after the shared inbox's.
    public var retention: [RetentionStep]

    public init(
        consumers: [Consumer] = [], routes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in },
        reload: (@Sendable () async -> Void)? = nil, services: [any Service] = [], retention: [RetentionStep] = []
    ) {
        self.consumers = consumers
        self.routes = routes
        self.reload = reload
        self.services = services
        self.retention = retention
    }
}
