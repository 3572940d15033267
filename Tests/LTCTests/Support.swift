import AMQPClient
import Foundation
import GRDB
import ITRConfig
import ITREvents
import ITRTestSupport
@testable import LTCApp
import Logging
import ServiceKit
import Synchronization

/// The shipped configuration directory.
let configDirectory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path

/// The shipped files by name, for in-memory variations.
func shippedFiles() throws -> [String: String] {
    var files: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: configDirectory) where name.hasSuffix(".yaml") {
        files[name] = try String(contentsOfFile: configDirectory + "/" + name, encoding: .utf8)
    }
    return files
}

/// An instant from an RFC 3339 string.
func t(_ text: String) -> Date { RFC3339.parse(text)! }

/// The processor on a fresh temporary store with the shipped rules, and helpers to feed it.
/// `updateInterval` 0 (the default here) emits every update at once, as the merge tests expect;
/// the debounce tests pass an interval and drive `clock`.
/// The shipped signal rules, loaded once for the test process (see `shippedRules()` of
/// RouterTests for why).
private let shippedSignalsOnce = Result { try LTCRules.load(directory: configDirectory) }

final class Harness: Sendable {
    let database: SQLStore
    let rules: LTCRules
    let processor: OpportunityProcessor
    let clock: TestClock
    /// The SQLite file ("" on PostgreSQL).
    let path: String
    /// The PostgreSQL schema of the test's own, dropped by ``drop()`` (nil on SQLite).
    private let postgres: TestStore?

    private init(
        database: SQLStore, postgres: TestStore?, path: String, rules: LTCRules?, updateInterval: TimeInterval?,
        clock: TestClock, ids: IDCounter
    ) throws {
        self.database = database
        self.postgres = postgres
        self.path = path
        if let rules {
            self.rules = rules
        } else {
            let shipped = try shippedSignalsOnce.get()
            self.rules = LTCRules(detector: shipped.detector, version: shipped.version)
        }
        self.clock = clock
        processor = OpportunityProcessor(
            store: database, rules: self.rules, logger: Logger(label: "ltc-test"), now: { clock.now },
            newID: { "OPP-\(ids.next())" }, updateInterval: updateInterval)
    }

    /// On a SQLite file (a new temporary one unless `path` names one).
    convenience init(
        rules: LTCRules? = nil, updateInterval: TimeInterval? = 0, path: String? = nil,
        clock: TestClock = TestClock(), ids: IDCounter = IDCounter()
    ) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ltc-\(UUID().uuidString)")
        let path = path ?? directory.appendingPathComponent("ltc.sqlite").path
        let store = try ServiceStore(path: path) { LTCStore.registerMigrations(&$0) }
        try self.init(
            database: .sqlite(store), postgres: nil, path: path, rules: rules, updateInterval: updateInterval, clock: clock, ids: ids)
    }

    /// On the test command's PostgreSQL, in `schema` (a new one unless given: several harnesses
    /// on one schema are instances sharing a database), writing as `instance`.
    static func postgres(
        schema: String? = nil, instance: String? = nil, updateInterval: TimeInterval? = 0, clock: TestClock = TestClock(),
        ids: IDCounter = IDCounter()
    ) async throws -> Harness {
        let store = try await TestStore.openPostgres(
            schema: schema ?? TestEnvironment.uniqueName("ltc"), instance: instance, migrations: LTCStore.migrations)
        return try Harness(
            database: store.store, postgres: store, path: "", rules: nil, updateInterval: updateInterval, clock: clock, ids: ids)
    }

    /// On `engine`: SQLite or PostgreSQL.
    static func on(_ engine: SQLDialect, updateInterval: TimeInterval? = 0, clock: TestClock = TestClock()) async throws -> Harness {
        switch engine {
        case .sqlite: try Harness(updateInterval: updateInterval, clock: clock)
        case .postgres: try await postgres(updateInterval: updateInterval, clock: clock)
        }
    }

    /// The SQLite store, for tests of what is SQLite's own (statement traces, GRDB's migrator).
    var store: ServiceStore {
        guard case .sqlite(let store) = database else { preconditionFailure("a PostgreSQL harness has no SQLite store") }
        return store
    }

    /// Drops the PostgreSQL schema (and closes it); nothing on SQLite.
    func drop() async {
        await postgres?.drop()
    }

    /// Closes the PostgreSQL connections, leaving the schema to another harness on it.
    func close() async {
        await postgres?.close()
    }

    /// Delivers events (one batch) and returns the dispositions.
    @discardableResult
    func deliver(_ events: [CloudEvent]) async throws -> [Disposition] {
        let batch = events.map {
            InboundMessage(message: AMQPCloudEventCodec.encode($0), exchange: ITRNames.eventsExchange, routingKey: $0.type)
        }
        return try await processor.handle(batch)
    }

    @discardableResult
    func deliver(_ events: CloudEvent...) async throws -> [Disposition] { try await deliver(events) }

    /// Every event in the outbox, in order.
    func emitted() async throws -> [CloudEvent] {
        try await database.read { db in try Outbox.pending(db, limit: 10_000) }.map { try AMQPCloudEventCodec.decode($0.message) }
    }

    /// The emitted opportunity events' data, decoded.
    func opportunities() async throws -> [(type: String, data: OpportunityIdentified)] {
        try await emitted().map { event in
            (event.type, try EventCoding.decoder.decode(OpportunityIdentified.self, from: event.data ?? Data()))
        }
    }

    func list(_ query: OpportunityQuery = OpportunityQuery()) async throws -> (items: [Opportunity], total: Int) {
        try await database.read { db in try LTCStore.list(db, query) }
    }
}

/// A clock the test moves (starts at the real time: CloudEvents reject far-off times).
final class TestClock: Sendable {
    private let value: Mutex<Date>
    init(_ start: Date = Date()) { value = Mutex(start) }
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Sequential opportunity ids for readable tests.
final class IDCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

// MARK: Router output events (the test's input)

let routerSource = "//itr/itr-router"
let intakeSource = "//itr/intake"

func opened(
    _ ticket: String, account: String, product: Product, at: Date, alarm: Alarm? = nil, id: String = CloudEvent.newID()
) -> CloudEvent {
    let payload = TicketOpened(
        ticketId: ticket, reportId: "r-\(ticket)", reportSource: "nms://test", sourceSystem: "nms", upstreamId: "u-\(ticket)",
        channel: alarm == nil ? .portal : .monitoring, account: account, accountKnown: true,
        customer: Customer(account: account, name: "测试客户"), product: product, summary: "告警 / alarm \(ticket)",
        alarm: alarm, occurredAt: at, openedAt: at, language: .zh)
    var event = try! CloudEvent(source: intakeSource, payload: payload, id: id, time: at)
    event.correlationID = ticket
    event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    return event
}

func classified(
    _ ticket: String, account: String?, type: ServiceType, priority: Priority = .p3, package: String? = nil,
    at: Date, id: String = CloudEvent.newID()
) -> CloudEvent {
    let payload = TicketClassified(
        ticketId: ticket, serviceType: type, impact: .moderate, urgency: .medium, priority: priority,
        contractPackage: package, account: account, ruleId: "st.test", rulesVersion: "v-test")
    var event = try! CloudEvent(source: routerSource, payload: payload, id: id, time: at)
    event.correlationID = ticket
    return event
}

func resolved(
    _ ticket: String, account: String, product: Product, parts: [SparePart], type: ServiceType = .hardwareFault,
    at: Date, id: String = CloudEvent.newID()
) -> CloudEvent {
    let payload = TicketResolved(
        ticketId: ticket, resolutionCode: "replaced", spareParts: parts, qualityResponsibility: .productHardware,
        product: product, priority: .p3, serviceType: type, account: account, resolvedAt: at)
    var event = try! CloudEvent(source: routerSource, payload: payload, id: id, time: at)
    event.correlationID = ticket
    return event
}

func breached(_ ticket: String, account: String, package: String, at: Date, id: String = CloudEvent.newID()) -> CloudEvent {
    let payload = SLABreached(
        ticketId: ticket, clock: .resolution, priority: .p3, targetMinutes: 240, dueAt: at, share: 1.1,
        contractPackage: package, serviceType: .softwareFault, account: account)
    var event = try! CloudEvent(source: routerSource, payload: payload, id: id, time: at)
    event.correlationID = ticket
    return event
}

func statusReport(
    _ opportunity: String, _ status: OpportunityState, value: Money? = nil, at: Date? = nil, id: String = CloudEvent.newID()
) -> CloudEvent {
    var event = try! CloudEvent(
        source: "crm://sales/cn-east", payload: OpportunityStatus(opportunityId: opportunity, status: status, note: "销售反馈", value: value),
        id: id)
    if let at { event.time = at }
    return event
}
