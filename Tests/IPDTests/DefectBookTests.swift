import AMQPClient
import Foundation
import ITRTestSupport
import GRDB
import ITREvents
import Logging
import ServiceKit
import Synchronization
import Testing
@testable import IPDApp

final class TestClock: Sendable {
    private let value = Mutex(t0)
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The handler against a real store (SQLite, or PostgreSQL where the test command started it),
/// no broker: inbox, defects and outbox rows.
struct Harness {
    let test: TestStore
    var store: SQLStore { test.store }
    let clock = TestClock()
    let rules: RulesHolder
    let handler: IPDHandler
    let flusher: DefectFlusher

    static func make(_ engine: SQLDialect = .sqlite, rules: IPDRules = shippedRules) async throws -> Harness {
        Harness(test: try await TestStore.open(engine, migrations: DefectStore.migrations), rules: rules)
    }

    private init(test: TestStore, rules: IPDRules) {
        self.test = test
        self.rules = RulesHolder(rules)
        let clock = clock
        handler = IPDHandler(store: test.store, rules: self.rules, clock: { clock.now }, logger: Logger(label: "ipd-test"))
        flusher = DefectFlusher(store: test.store, rules: self.rules, relay: nil, clock: { clock.now }, logger: Logger(label: "ipd-test"))
    }

    func drop() async { await test.drop() }

    @discardableResult
    func send(_ events: [CloudEvent]) async throws -> [Disposition] {
        try await handler.handle(events.map {
            InboundMessage(message: AMQPCloudEventCodec.encode($0), exchange: "itr.events", routingKey: $0.type)
        })
    }

    /// Every event in the outbox, decoded.
    func emitted() async throws -> [CloudEvent] {
        try await store.read { db in try Outbox.pending(db, limit: 100_000) }.map { try AMQPCloudEventCodec.decode($0.message) }
    }

    func defects(_ query: DefectQuery = DefectQuery()) async throws -> DefectPage {
        let rules = rules.rules
        return try await store.read { db in try query.run(db, rules: rules, now: t0) }
    }
}

@Suite struct DefectBookTests {
    /// Problem + resolved ticket for `n` problems of one root cause from `customers` customers.
    func storm(_ n: Int, customers: Int, title: (Int) -> String, code: String? = nil, versions: [String] = ["V1"]) -> [CloudEvent] {
        (0..<n).flatMap { i in
            [
                event(problemOpened("PRB-\(i)", title: title(i), code: code, tickets: ["TKT-\(i)"])),
                event(ticketResolved("TKT-\(i)", problem: "PRB-\(i)", account: "ACC-\(i % customers)", version: versions[i % versions.count])),
            ]
        }
    }

    @Test(arguments: TestStore.engines)
    func aStormOfIncidentsYieldsOneReportAndFewUpdates(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        let events = storm(100, customers: 20, title: { $0 % 2 == 0 ? "Port \($0) down after upgrade" : "升级后端口\($0)宕机" }, versions: ["V100R011", "V100R012"])
        for chunk in stride(from: 0, to: events.count, by: 16) {
            try await h.send(Array(events[chunk..<min(chunk + 16, events.count)]))
            h.clock.advance(1)
        }
        var out = try await h.emitted()
        #expect(out.filter { $0.type == "itr.defect.reported" }.count == 1)
        #expect(out.filter { $0.type == "itr.defect.updated" }.isEmpty)  // within the 5m debounce
        h.clock.advance(shippedRules.update.debounce)
        #expect(try await h.flusher.flushOnce() == 1)
        #expect(try await h.flusher.flushOnce() == 0)
        out = try await h.emitted()
        let updates = out.filter { $0.type == "itr.defect.updated" }
        #expect(updates.count == 1)
        let last = try #require(updates.last).decodePayload(DefectUpdated.self).get()
        #expect(last.problemIds.count == 100)
        #expect(last.ticketIds.count == 100)
        #expect(last.impact.customers == 20)
        #expect(last.affectedVersions == ["V100R011", "V100R012"])
        let reported = try #require(out.first { $0.type == "itr.defect.reported" })
        #expect(reported.correlationID == last.defectId)
        #expect(reported.causationID != nil)
        #expect(reported.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        let page = try await h.defects()
        #expect(page.total == 1)
        #expect(page.defects[0].problems.count == 100)
    }

    /// Issue 12: an input of a type ipd-feedback does not handle (on `defect.<status>`) is
    /// refused and so kept with its reason, never acked without a trace; a problem type it does
    /// not know (`itr.problem.#`) is still nothing to do.
    @Test(arguments: TestStore.engines)
    func unknownTypesAreRefusedNotDropped(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        let data = Data("{\"defectId\":\"DEF-1\",\"status\":\"accepted\"}".utf8)
        let foreign = CloudEvent(source: "rnd://x", type: "com.example.defect.status", datacontenttype: "application/json", data: data)
        let newProblemType = CloudEvent(source: "//itr/itr-router", type: "itr.problem.reviewed", datacontenttype: "application/json", data: data)
        let dispositions = try await h.send([foreign, newProblemType])
        guard case .invalid(let code, _) = dispositions[0] else {
            Issue.record("an unknown type was \(dispositions[0]), not refused")
            return
        }
        #expect(code == "unknown-type")
        #expect(dispositions[1] == .processed)
        #expect(try await h.emitted().isEmpty)
    }

    @Test(arguments: TestStore.engines)
    func duplicatesHaveNoSecondEffect(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        let events = storm(3, customers: 3, title: { _ in "fan failure" })
        #expect(try await h.send(events) == Array(repeating: .processed, count: 6))
        #expect(try await h.send(events + events) == Array(repeating: .duplicate, count: 12))
        let page = try await h.defects()
        #expect(page.defects.first?.defect.impact.incidents == 3)
        #expect(try await h.emitted().count == 1)
    }

    @Test(arguments: TestStore.engines)
    func ticketBeforeItsProblemAndNonProductCauses(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        try await h.send([
            event(ticketResolved("T-1", problem: "P-1", account: "A", priority: .p1)),
            event(ticketResolved("T-2", problem: "P-1", account: "B", cause: .customer)),
        ])
        #expect(try await h.emitted().isEmpty)
        try await h.send([event(problemOpened("P-1", title: "board reboot", tickets: ["T-1", "T-2"]))])
        let out = try await h.emitted()
        #expect(out.map(\.type) == ["itr.defect.reported"])  // P1 crosses the threshold alone
        let d = try out[0].decodePayload(DefectReported.self).get()
        #expect(d.impact.customers == 1 && d.impact.highestPriority == .p1)
        #expect(d.ticketIds == ["T-1", "T-2"])
    }

    @Test(arguments: TestStore.engines)
    func fixReleasedEmitsFixedWithProblemsAndTickets(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        try await h.send(storm(4, customers: 2, title: { _ in "memory leak" }))
        let id = try #require(try await h.defects().defects.first?.defect.defectId)
        let status = event(DefectStatus(defectId: id, status: .fixReleased, fixVersion: "V100R013C00"), source: "rnd://pdm")
        #expect(try await h.send([status]) == [.processed])
        let fixed = try #require(try await h.emitted().last)
        #expect(fixed.type == "itr.defect.fixed")
        #expect(fixed.causationID == status.id)
        let payload = try fixed.decodePayload(DefectFixed.self).get()
        #expect(payload.fixVersion == "V100R013C00")
        #expect(payload.problemIds == ["PRB-0", "PRB-1", "PRB-2", "PRB-3"])
        #expect(payload.ticketIds == ["TKT-0", "TKT-1", "TKT-2", "TKT-3"])
        #expect(try await h.defects(DefectQuery(status: "fix-released")).total == 1)
        // A decision that is not allowed goes to the dead-letter path with its reason.
        let refused = try await h.send([event(DefectStatus(defectId: id, status: .rejected), source: "rnd://pdm")])
        #expect(refused == [.invalid(reasonCode: "invalid-transition", message: "defect \(id) is fix-released; it cannot become rejected")])
        let unknown = try await h.send([event(DefectStatus(defectId: "DEF-NOPE", status: .accepted), source: "rnd://pdm")])
        #expect(unknown.first.map { if case .invalid("unknown-defect", _) = $0 { true } else { false } } == true)
    }

    @Test(arguments: TestStore.engines)
    func aNewIncidentOnTheFixedVersionIsARegression(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        try await h.send(storm(4, customers: 2, title: { _ in "memory leak" }, versions: ["V100R012C10"]))
        let id = try #require(try await h.defects().defects.first?.defect.defectId)
        try await h.send([event(DefectStatus(defectId: id, status: .fixReleased, fixVersion: "V100R013C00"), source: "rnd://pdm")])
        let afterFix = try await h.emitted().count
        // The defect's own tickets resolved again by the fix, and a new one on an old version
        // (a customer not upgraded yet): not a regression.
        try await h.send([
            event(ticketResolved("TKT-1", problem: "PRB-1", account: "ACC-1", version: "V100R012C10")),
            event(problemOpened("PRB-8", title: "memory leak", tickets: ["TKT-8"])),
            event(ticketResolved("TKT-8", problem: "PRB-8", account: "ACC-8", version: "V100R012C10")),
        ])
        #expect(try await h.defects(DefectQuery(status: "fix-released")).total == 1)
        // A new ticket on the fixed version: the fix did not hold, announced at once.
        h.clock.advance(1)
        try await h.send([
            event(problemOpened("PRB-9", title: "memory leak", tickets: ["TKT-9"])),
            event(ticketResolved("TKT-9", problem: "PRB-9", account: "ACC-9", version: "V100R013C00")),
        ])
        let out = try await h.emitted()
        let update = try #require(out.dropFirst(afterFix).last { $0.type == "itr.defect.updated" })
        let payload = try update.decodePayload(DefectUpdated.self).get()
        #expect(payload.status == .reported && payload.regressedFixVersion == "V100R013C00" && payload.fixVersion == nil)
        #expect(payload.ticketIds.contains("TKT-9"))
        #expect(try await h.defects(DefectQuery(status: "reported")).total == 1)
        // R&D can release a new fix; the regression stays on record.
        let again = event(DefectStatus(defectId: id, status: .fixReleased, fixVersion: "V100R013C01"), source: "rnd://pdm")
        #expect(try await h.send([again]) == [.processed])
        let fixed = try #require(try await h.emitted().last).decodePayload(DefectFixed.self).get()
        #expect(fixed.fixVersion == "V100R013C01" && fixed.regressedFixVersion == "V100R013C00")
    }

    @Test(arguments: TestStore.engines)
    func duplicateIsMergedIntoItsTarget(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        try await h.send(storm(2, customers: 2, title: { _ in "fan failure" }))
        try await h.send([
            event(problemOpened("Q-1", title: "x", code: "E-77", tickets: ["U-1"])),
            event(ticketResolved("U-1", problem: "Q-1", account: "Z", priority: .p1)),
        ])
        let all = try await h.defects().defects.map(\.defect)
        #expect(all.count == 2)
        let source = try #require(all.first { $0.code == "E-77" }).defectId
        let target = try #require(all.first { $0.code == nil }).defectId
        try await h.send([event(DefectStatus(defectId: source, status: .duplicate, duplicateOf: target), source: "rnd://pdm")])
        let merged = try #require(try await h.defects(DefectQuery(status: "reported")).defects.first)
        #expect(merged.defect.defectId == target)
        #expect(merged.defect.problemIds.count == 3)
        #expect(merged.defect.impact.customers == 3)
        #expect(merged.defect.impact.highestPriority == .p1)
        let duplicate = try #require(try await h.defects(DefectQuery(status: "duplicate")).defects.first)
        #expect(duplicate.defect.duplicateOf == target)
        // A later problem with the duplicate's fingerprint folds into the target.
        try await h.send([
            event(problemOpened("Q-2", title: "y", code: "E-77", tickets: ["U-2"])),
            event(ticketResolved("U-2", problem: "Q-2", account: "Y")),
        ])
        #expect(try await h.defects(DefectQuery(status: "reported")).defects.first?.defect.problemIds.count == 4)
    }

    @Test(arguments: TestStore.engines)
    func badInputIsRefusedWithAReason(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        var bad = event(ticketResolved("T-9", problem: nil, account: "A"))
        bad.data = Data(#"{"ticketId":"T-9"}"#.utf8)
        let result = try await h.send([bad])
        guard case .invalid(let code, let message)? = result.first else {
            Issue.record("expected invalid, got \(result)")
            return
        }
        #expect(code == "invalid-data")
        #expect(message.contains("data."))
        let garbage = InboundMessage(message: AMQPMessage(body: Data("nope".utf8)), exchange: "itr.events", routingKey: "x")
        let dispositions = try await h.handler.handle([garbage])
        #expect(dispositions.first.map { if case .invalid("not-a-cloudevent", _) = $0 { true } else { false } } == true)
    }
}
