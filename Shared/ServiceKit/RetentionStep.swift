import Foundation

/// One kind of row a service deletes once it is no longer needed (see ``RetentionService``).
///
/// ``prune`` runs inside a write transaction of the ``RetentionService``: it deletes at most
/// `limit` rows that are due at `now` (the deployment's clock, so an accelerated demonstration
/// prunes on business time) and returns how many it deleted. Fewer than `limit` means
/// nothing more is due in this run.
public struct RetentionStep: Sendable {
    /// The `table` label of `itr_retention_pruned_rows_total`.
    public var table: String
    public var prune: @Sendable (_ db: any SQLTransaction, _ now: Date, _ limit: Int) throws -> Int

    public init(table: String, prune: @escaping @Sendable (_ db: any SQLTransaction, _ now: Date, _ limit: Int) throws -> Int) {
        self.table = table
        self.prune = prune
    }

    /// The shared `inbox`: de-duplication entries processed more than `retention` seconds
    /// before now (``ServiceSettings/inboxRetention``, `ITR_INBOX_RETENTION_DAYS`).
    public static func inbox(retention: TimeInterval) -> RetentionStep {
        RetentionStep(table: "inbox") { db, now, limit in
            try Inbox.prune(db, processedBefore: now.addingTimeInterval(-retention), limit: limit)
        }
    }
}
