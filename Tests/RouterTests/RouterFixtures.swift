import AMQPClient
import Foundation
import GRDB
import ITRConfig
import ITRTestSupport
import Logging
import ServiceKit
import ServiceLifecycle
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import RouterApp

let configDirectory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path

/// A fresh router database in a temporary directory.
func makeRouterStore() throws -> ServiceStore {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("router-\(UUID().uuidString)")
    return try ServiceStore(path: directory.appendingPathComponent("itr-router.sqlite").path) { RouterSchema.register(&$0) }
}

/// The shipped rules, loaded once for the test process; each test gets its own copy (a value).
/// Loading them (the YAML files and the classifier model, in a debug build) costs about a second
/// of CPU: loaded per test, the loads kept both threads of Swift's cooperative pool busy for the
/// first 40 s of a parallel run, and the timing of every other test starved (CI, two cores).
private let shippedRulesOnce = Result { try RouterRules.load(directory: configDirectory) }

func shippedRules() throws -> RouterRules { try shippedRulesOnce.get() }

/// The rules of `directory`: the shipped ones from the cache, others loaded.
func loadRules(directory: String) throws -> RouterRules {
    directory == configDirectory ? try shippedRules() : try RouterRules.load(directory: directory)
}

/// A `itr.ticket.opened` as intake writes it.
func openedEvent(
    ticketId: String, account: String = "ACC-1003", summary: String, description: String? = nil,
    channel: Channel = .portal, line: String = "routers", model: String? = "RX8000", version: String? = "V8R11",
    component: String? = nil, alarm: Alarm? = nil, severity: Severity? = nil, openedAt: Date,
    traceparent: String? = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
) throws -> CloudEvent {
    let payload = TicketOpened(
        ticketId: ticketId, reportId: "rep-\(ticketId)", reportSource: "//crm/test", sourceSystem: "crm",
        upstreamId: "up-\(ticketId)", channel: channel, account: account, accountKnown: true,
        customer: Customer(account: account, name: "中国联通北京分公司"),
        product: Product(line: line, model: model, version: version, component: component), summary: summary,
        description: description, severity: severity.map { ReportedSeverity(reported: $0) }, alarm: alarm,
        occurredAt: openedAt, openedAt: openedAt, language: .zh)
    var event = try CloudEvent(source: "//itr/intake", payload: payload, id: "opened-\(ticketId)", time: openedAt)
    event.correlationID = ticketId
    event.traceparent = traceparent
    return event
}

/// A service-desk action; `time`: when it happened (nil: no `time`, the router takes the instant
/// it processes it, as for an HTTP action).
func actionEvent(_ action: ITREvents.TicketAction, id: String = CloudEvent.newID(), time: Date? = nil) throws -> CloudEvent {
    try CloudEvent(source: "//desk/test", payload: action, id: id, time: time)
}

let engineer = Actor(id: "eng-7", name: "王工", role: "engineer")
let customer = Actor(id: "cust-1", name: "李女士", role: "customer")

/// A delivery of `event` as the router's consumer sees it; sent by the broker user `userID`
/// (default the desk tools of the shipped access.yaml, whose actions the router accepts).
func inbound(_ event: CloudEvent, routingKey: String? = nil, redelivered: Bool = false, userID: String? = "itr-desk") -> InboundMessage {
    var message = AMQPCloudEventCodec.encode(event)
    message.properties.userID = userID
    return InboundMessage(message: message, exchange: "itr.events", routingKey: routingKey ?? event.type, redelivered: redelivered)
}

/// The events waiting in the outbox, decoded, in order.
func outboxEvents(_ store: ServiceStore) async throws -> [CloudEvent] {
    try await store.pool.read { db in
        try Outbox.pending(db, limit: 100_000).map { try AMQPCloudEventCodec.decode($0.message) }
    }
}

extension Array where Element == CloudEvent {
    func ofType(_ type: EventType) -> [CloudEvent] { filter { $0.type == type.rawValue } }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A deterministic generator, so a failure reproduces.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ p: Double) -> Bool { uniform(0...1) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// The router without a broker: a fresh store, the rules of `directory`, a manual clock at
/// `start`, the scheduler and the handler.
struct RouterHarness {
    let database: SQLStore
    let rules: RulesHolder
    let clock: ManualClock
    let scheduler: DueScheduler
    let handler: RouterHandler

    init(start: Date, directory: String = configDirectory) throws {
        try self.init(start: start, directory: directory, database: .sqlite(try makeRouterStore()))
    }

    /// On a store of either engine (``TestStore/open(_:migrations:)`` with `RouterSchema.migrations`).
    init(start: Date, directory: String = configDirectory, database: SQLStore) throws {
        self.database = database
        rules = RulesHolder(try loadRules(directory: directory), directory: directory)
        clock = ManualClock(start)
        scheduler = DueScheduler(store: database, rules: rules, clock: clock, relay: nil)
        handler = RouterHandler(store: database, rules: rules, clock: clock, scheduler: scheduler)
    }

    /// The SQLite store (the harness of the tests written for SQLite).
    var store: ServiceStore {
        guard case .sqlite(let store) = database else { preconditionFailure("a PostgreSQL harness has no SQLite store") }
        return store
    }

    /// Fires everything due at the clock's instant (and what that makes due).
    func fireAllDue(dueBy: Date? = nil) async throws {
        while try await scheduler.fireDue(now: clock.now(), dueBy: dueBy) > 0 {}
    }
}

/// One HTTP request to a router under test on 127.0.0.1: status and body.
func routerHTTP(port: Int, _ method: String, _ path: String, body: String? = nil, token: String?) async throws -> (Int, String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// itr-router in process for a broker test: settings from `environment` (plus the product's
/// defaults), the service group built with `rules` and a manual clock, a desk bearer token
/// (`token`, identity `desk-test`: tickets:read tickets:act) and the ops test token.
struct RouterUnderTest {
    /// The identity of the desk token: the actor of the test's HTTP actions.
    static let deskIdentity = "desk-test"
    let group: ServiceGroup
    let clock: ManualClock
    let logger: Logger

    init(environment: [String: String], rules: RulesHolder, token: String, label: String) async throws {
        let settings = try ServiceSettings(product: "itr-router", environment: environment, arguments: ["itr-router"])
        let host = RouterService.host(settings: settings)
        var logger = Logger(label: label)
        logger.logLevel = .warning
        let authenticator = try TokenAuthenticator(
            parsing: "\(TokenAuthenticator.hash(token: token)) \(Self.deskIdentity) tickets:read tickets:act;\(TestTokens.opsEntry)",
            origin: "test")
        let runtime = try await host.prepare(
            logger: logger, metrics: ServiceMetrics(service: "itr-router", registry: .init()), authenticator: authenticator)
        clock = ManualClock(Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down)))
        let parts = RouterService.parts(runtime: runtime, rules: rules, clock: clock)
        group = host.makeServiceGroup(runtime: runtime, components: parts.components)
        self.logger = logger
    }
}
