import Foundation
import GRDB
import ITREvents
import Logging
import ServiceKit
import Synchronization

/// The rules in force; replaced on a valid reload (SIGHUP), kept on an invalid one.
public final class RulesHolder: Sendable {
    private let current: Mutex<IPDRules>
    public init(_ rules: IPDRules) { current = Mutex(rules) }
    public var rules: IPDRules { current.withLock { $0 } }
    public func replace(_ rules: IPDRules) { current.withLock { $0 = rules } }
}

/// The consumer of `ipd-feedback.inbox`: each batch in ONE write transaction (inbox claims,
/// defect changes, outbox rows), each delivery in a savepoint of its own so a refused one
/// leaves no trace but its dead-lettering.
public struct IPDHandler: EventHandler {
    public let store: SQLStore
    public let rules: RulesHolder
    public let clock: @Sendable () -> Date
    public let logger: Logger

    public init(store: SQLStore, rules: RulesHolder, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.rules = rules
        self.clock = clock
        self.logger = logger
    }

    public func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        let book = DefectBook(rules: rules.rules)
        let now = clock()
        let logger = logger
        return try await store.write { db in
            // Instances sharing a PostgreSQL database apply their batches one at a time (see
            // ``DefectBook/lockName``).
            try db.lock(DefectBook.lockName)
            return try batch.map { message -> Disposition in
                let event: CloudEvent
                do throws(CloudEventError) {
                    event = try AMQPCloudEventCodec.decode(message.message)
                } catch {
                    return .invalid(reasonCode: error.code.rawValue, message: error.message)
                }
                var disposition = Disposition.processed
                try db.savepoint {
                    guard try Inbox.claim(db, source: event.source, id: event.id, at: now) else {
                        disposition = .duplicate
                        return .commit
                    }
                    switch try book.apply(event, db, now: now) {
                    case .applied:
                        return .commit
                    case .refused(let code, let reason):
                        logger.warning(
                            "input refused",
                            metadata: ["event_id": "\(event.id)", "type": "\(event.type)", "reason_code": "\(code)",
                                "reason": "\(reason)", "trace_id": "\(event.traceparent ?? "")"])
                        disposition = .invalid(reasonCode: code, message: reason)
                        return .rollback
                    }
                }
                return disposition
            }
        }
    }
}
