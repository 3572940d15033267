import Foundation
import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Re-plans the due moments of every ticket not yet closed when the rules change (SIGHUP with a
/// changed file, or a start under rules other than the ones the stored moments were planned
/// with): each ticket's clocks are recomputed from its history under the new rules and its future
/// moments replaced (``TicketRepository/replan(_:_:rules:now:after:cause:)``). A moment that
/// the new rules put in the past is stored due and fires at once, so a shortened target is
/// announced at its new moment, and a lengthened one is announced at its new, later moment.
///
/// Bounded work: tickets in batches (keyset paging by id), one short write transaction per
/// batch, so consumption goes on between batches. A rules change during a pass starts it again.
/// The rules version a finished pass planned with is kept (`router_meta.planned_rules_version`).
public final class RulesReplanner: Service, Sendable {
    private let store: SQLStore
    private let rules: RulesHolder
    private let clock: any RouterClock
    private let scheduler: DueScheduler?
    private let logger: Logger
    private let batchSize: Int
    private let wake = WakeSignal()
    private let generation = Atomic<Int>(0)
    private let passes = Atomic<Int>(0)

    public init(
        store: SQLStore, rules: RulesHolder, clock: any RouterClock, scheduler: DueScheduler?,
        logger: Logger = Logger(label: "rules-replanner"), batchSize: Int = 200
    ) {
        self.store = store
        self.rules = rules
        self.clock = clock
        self.scheduler = scheduler
        self.logger = logger
        self.batchSize = batchSize
    }

    /// Finished passes (tests).
    public var completedPasses: Int { passes.load(ordering: .sequentiallyConsistent) }

    /// The rules changed: re-plan (in the background, from the start of a new pass).
    public func rulesChanged() {
        generation.add(1, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Moments stored under other rules (a restart with changed files) are re-planned too.
            if let planned = try? await self.plannedVersion(), planned != self.rules.current.version { self.wake.signal() }
            while !Task.isCancelled {
                await self.wake.wait(timeout: .seconds(3_600))
                if Task.isCancelled { break }
                do {
                    try await self.replanAll()
                } catch {
                    if error is CancellationError || Task.isCancelled { break }
                    self.logger.error("re-planning after a rules change failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    self.wake.signal()
                }
            }
        }
    }

    func plannedVersion() async throws -> String? {
        try await store.read { db in
            try db.fetchOne("SELECT value FROM router_meta WHERE key = 'planned_rules_version'", [])?[0].string
        }
    }

    /// One whole pass; returns how many tickets were re-planned. Restarts when the rules change meanwhile.
    @discardableResult
    public func replanAll() async throws -> Int {
        var total = 0
        pass: while true {
            let started = generation.load(ordering: .sequentiallyConsistent)
            let rules = self.rules.current
            var lastId = ""
            total = 0
            while true {
                try Task.checkCancellation()
                if generation.load(ordering: .sequentiallyConsistent) != started { continue pass }
                let now = clock.now()
                let limit = batchSize
                let after = lastId
                let (count, last, earliest) = try await store.write { db -> (Int, String?, Date?) in
                    let ids = try db.fetch(
                        """
                        SELECT id FROM tickets WHERE id > ? AND state NOT IN ('closed', 'cancelled', 'merged')
                        ORDER BY id LIMIT ?
                        """,
                        [.text(after), limit.sqlValue]
                    ).map { try $0.string(0) }
                    var earliest: Date?
                    for id in ids {
                        try RouterEngine.lockTicket(db, id)
                        guard let ticket = try TicketRepository.load(db, id: id, policy: rules.policy) else { continue }
                        if let due = try TicketRepository.replan(db, ticket, rules: rules, now: now) {
                            earliest = min(earliest ?? due, due)
                        }
                    }
                    return (ids.count, ids.last, earliest)
                }
                total += count
                if let earliest { scheduler?.scheduled(earliest) }
                guard let last, count == limit else { break }
                lastId = last
                await Task.yield()
            }
            let version = rules.version
            try await store.write { db in
                try db.execute(
                    """
                    INSERT INTO router_meta (key, value) VALUES ('planned_rules_version', ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """,
                    [.text(version)])
            }
            passes.add(1, ordering: .sequentiallyConsistent)
            logger.info("due moments re-planned under the current rules", metadata: ["rules_version": "\(version)", "tickets": "\(total)"])
            return total
        }
    }
}
