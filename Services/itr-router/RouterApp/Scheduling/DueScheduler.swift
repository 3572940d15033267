import Foundation
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
///
/// Several instances on one PostgreSQL database: every instance's scheduler reads the same
/// `due_moments`, so a moment still fires when the instance that planned it is gone. Each moment
/// fires once: a batch takes, ticket by ticket, the ticket's lock without waiting (a ticket
/// another transaction holds, another scheduler's batch or a consumer changing it, is skipped
/// for this pass, the advisory form of `FOR UPDATE SKIP LOCKED` in the order every writer takes
/// its locks: ticket first, then its rows), then deletes the row as read; a row another instance
/// fired meanwhile deletes nothing and is not fired again.
public final class DueScheduler: Service, Sendable {
    private let store: SQLStore
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
        store: SQLStore, rules: RulesHolder, clock: any RouterClock, relay: OutboxRelay?,
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
                let pass = try await firePass(now: now)
                if pass.taken > 0 {
                    relay?.notify()
                    continue
                }
                if pass.skipped > 0 {
                    // Due, but their tickets are held by other transactions right now.
                    await wake.wait(timeout: .milliseconds(50))
                    continue
                }
                let next = try await store.read { db in
                    try db.fetchOne("SELECT due_at FROM due_moments ORDER BY due_at LIMIT 1", [])?[0].double
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
        try await firePass(now: now, dueBy: dueBy).taken
    }

    /// One batch: the rows it took (fired or found not to hold) and the due rows it left to a
    /// later pass because another transaction held their ticket.
    func firePass(now: Date, dueBy: Date? = nil) async throws -> (taken: Int, skipped: Int) {
        let rules = self.rules.current
        let limit = batchLimit
        let logger = self.logger
        let bound = min(dueBy ?? now, now)
        let (taken, skipped, emitted) = try await store.write { db -> (Int, Int, Int) in
            // SQLite's implicit rowid; PostgreSQL's identity column of the same role. Ties in
            // the order they were planned (both grow with each insert), on both engines alike;
            // SQLite reads that order from the index (`due_moments_due` ends with the rowid).
            let key = db.dialect == .sqlite ? "rowid" : "id"
            let rows = try db.fetch(
                """
                SELECT \(key), ticket_id, due_at, kind, cause_id, traceparent FROM due_moments
                WHERE due_at <= ? ORDER BY due_at, ord, \(key) LIMIT ?
                """,
                SQLValue.list(bound.timeIntervalSince1970, limit))
            var engine = RouterEngine(rules: rules, now: now)
            var taken = 0
            var skipped = 0
            for row in rows {
                let ticketId = try row.string(1)
                guard try RouterEngine.tryLockTicket(db, ticketId) else {
                    skipped += 1
                    continue
                }
                let text = try row.string(3)
                // The row as read (a rowid alone may have been reused): gone already when an earlier
                // moment of this batch re-planned its ticket, or another instance fired it.
                let deleted = try db.execute(
                    "DELETE FROM due_moments WHERE \(key) = ? AND ticket_id = ? AND due_at = ? AND kind = ?",
                    [row[0], row[1], row[2], row[3]])
                guard deleted > 0 else { continue }
                taken += 1
                guard let kind = try? TicketRepository.decoder.decode(PlannedMoment.Kind.self, from: Data(text.utf8)) else {
                    logger.warning("unreadable due moment dropped", metadata: ["kind": "\(text)"])
                    continue
                }
                try engine.fire(
                    db, ticketId: ticketId, kind: kind, dueAt: Date(timeIntervalSince1970: try row.double(2)),
                    cause: Cause(id: row[4].string, traceparent: row[5].string))
            }
            return (taken, skipped, engine.emittedCount)
        }
        if taken > 0 {
            firedTotal.add(emitted, ordering: .relaxed)
            logger.debug("due moments handled", metadata: ["rows": "\(taken)", "events": "\(emitted)"])
        }
        return (taken, skipped)
    }
}
