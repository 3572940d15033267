import Foundation
import GRDB
import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Fires due moments (SLA warnings and breaches, OLA breaches with functional escalation,
/// hierarchical escalation steps, auto-close) at their instant.
///
/// It reads only what is due: the earliest `due_at` (index `due_moments_due`), then the rows
/// due at `now` in batches, each batch in one write transaction with its outbox rows. Between
/// moments it sleeps on the injected clock until the earliest one, and is woken early by
/// ``scheduled(_:)`` when a handler stores an earlier moment.
public final class DueScheduler: Service, Sendable {
    private let store: ServiceStore
    private let rules: RulesHolder
    private let clock: any RouterClock
    private let relay: OutboxRelay?
    private let logger: Logger
    private let batchLimit: Int
    private let wake = WakeSignal()
    private let waitingFor = Mutex<Date?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let firedTotal = Atomic<Int>(0)

    public init(
        store: ServiceStore, rules: RulesHolder, clock: any RouterClock, relay: OutboxRelay?,
        logger: Logger = Logger(label: "scheduler"), batchLimit: Int = 200
    ) {
        self.store = store
        self.rules = rules
        self.clock = clock
        self.relay = relay
        self.logger = logger
        self.batchLimit = batchLimit
    }

    /// How many moments fired so far (metrics, tests).
    public var fired: Int { firedTotal.load(ordering: .relaxed) }

    /// A moment at `instant` was stored: wake up if it is earlier than what the scheduler waits for.
    public func scheduled(_ instant: Date) {
        let earlier = waitingFor.withLock { current -> Bool in
            guard let current else { return true }
            return instant < current
        }
        if earlier { wake.signal() }
    }

    /// Wakes the scheduler (rules reloaded, tests).
    public func poke() { wake.signal() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .sequentiallyConsistent)
            self.wake.signal()
        }
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) || Task.isCancelled }

    private func loop() async {
        while !isStopping {
            do {
                let now = clock.now()
                let fired = try await fireDue(now: now)
                if fired > 0 {
                    relay?.notify()
                    continue
                }
                let next = try await store.pool.read { db in
                    try Double.fetchOne(db, sql: "SELECT due_at FROM due_moments ORDER BY due_at LIMIT 1")
                }.map(Date.init(timeIntervalSince1970:))
                if let next, next <= now { continue }
                waitingFor.withLock { $0 = next ?? .distantFuture }
                await sleep(until: next ?? now.addingTimeInterval(3_600))
                waitingFor.withLock { $0 = nil }
            } catch {
                if isStopping || error is CancellationError { break }
                logger.error("scheduler pass failed", metadata: ["error": "\(error)"])
                await wake.wait(timeout: .seconds(1))
            }
        }
    }

    private func sleep(until deadline: Date) async {
        let clock = self.clock
        let wake = self.wake
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await wake.wait(timeout: .seconds(3_600)) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Fires up to `batchLimit` moments due at `now` in one transaction; returns how many rows it took.
    /// `dueBy`: only the moments due by this instant (default `now`), e.g. a replay catching up
    /// in the order of the events' own times.
    @discardableResult
    public func fireDue(now: Date, dueBy: Date? = nil) async throws -> Int {
        let rules = self.rules.current
        let limit = batchLimit
        let logger = self.logger
        let bound = min(dueBy ?? now, now)
        let (taken, emitted) = try await store.pool.write { db -> (Int, Int) in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, ticket_id, due_at, kind, cause_id, traceparent FROM due_moments
                    WHERE due_at <= ? ORDER BY due_at, ord LIMIT ?
                    """,
                arguments: [bound.timeIntervalSince1970, limit])
            var engine = RouterEngine(rules: rules, now: now)
            for row in rows {
                let rowid: Int64 = row["rowid"]
                let text: String = row["kind"]
                // The row as read (a rowid alone may have been reused): gone already when an earlier
                // moment of this batch re-planned its ticket.
                try db.execute(
                    sql: "DELETE FROM due_moments WHERE rowid = ? AND ticket_id = ? AND due_at = ? AND kind = ?",
                    arguments: [rowid, row["ticket_id"], row["due_at"], text])
                guard db.changesCount > 0 else { continue }
                guard let kind = try? TicketRepository.decoder.decode(PlannedMoment.Kind.self, from: Data(text.utf8)) else {
                    logger.warning("unreadable due moment dropped", metadata: ["kind": "\(text)"])
                    continue
                }
                let ticketId: String = row["ticket_id"]
                try engine.fire(
                    db, ticketId: ticketId, kind: kind, dueAt: Date(timeIntervalSince1970: row["due_at"]),
                    cause: Cause(id: row["cause_id"], traceparent: row["traceparent"]))
            }
            return (rows.count, engine.emittedCount)
        }
        if taken > 0 {
            firedTotal.add(emitted, ordering: .relaxed)
            logger.debug("due moments handled", metadata: ["rows": "\(taken)", "events": "\(emitted)"])
        }
        return taken
    }
}
