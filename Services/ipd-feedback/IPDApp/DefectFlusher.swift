import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Emits the debounced `itr.defect.updated` events: every `interval` (ServiceKit's
/// ``PeriodicFlusher``), each defect with a pending material change whose debounce interval
/// has passed gets one update carrying its current snapshot (so a storm of incidents yields
/// one update per interval, not one each).
public struct DefectFlusher: Service {
    public let store: SQLStore
    public let rules: RulesHolder
    public let relay: OutboxRelay?
    public var interval: Duration
    public let clock: @Sendable () -> Date
    public let logger: Logger

    public init(
        store: SQLStore, rules: RulesHolder, relay: OutboxRelay?, interval: Duration = .seconds(1),
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.rules = rules
        self.relay = relay
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        try await PeriodicFlusher(what: "defect updates", interval: interval, relay: relay, logger: logger) {
            try await flushOnce()
        }.run()
    }

    /// One pass: returns how many updates it wrote to the outbox.
    @discardableResult
    public func flushOnce() async throws -> Int {
        let book = DefectBook(rules: rules.rules)
        let now = clock()
        let cutoff = now.addingTimeInterval(-book.rules.update.debounce)
        return try await store.write { db in
            try db.lock(DefectBook.lockName)
            var count = 0
            for id in try DefectStore.pendingDefectIds(db, emittedBefore: cutoff, limit: 500) {
                if try book.flush(defectId: id, db, now: now) { count += 1 }
            }
            return count
        }
    }
}
