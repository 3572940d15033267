import Foundation
import GRDB

/// De-duplication of consumed events by CloudEvent `source` + `id`.
///
/// Call ``claim(_:source:id:)`` inside the write transaction that applies the event, so the
/// record of having seen it and its effects commit (or roll back) together.
public enum Inbox {
    /// Records the event; `true` the first time, `false` for a duplicate (nothing changed).
    /// `processed_at` is stored as Unix seconds (a number: no date formatting per event).
    public static func claim(_ db: Database, source: String, id: String, at date: Date = Date()) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT INTO inbox (source, id, processed_at) VALUES (?, ?, ?) ON CONFLICT (source, id) DO NOTHING"
        ).execute(arguments: [source, id, date.timeIntervalSince1970])
        return db.changesCount > 0
    }

    /// Whether the event was already claimed.
    public static func contains(_ db: Database, source: String, id: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM inbox WHERE source = ? AND id = ?)"), arguments: [source, id])
            ?? false
    }

    /// Deletes entries processed before `date` (retention); returns how many.
    @discardableResult
    public static func prune(_ db: Database, processedBefore date: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM inbox WHERE processed_at < ?", arguments: [date.timeIntervalSince1970])
        return db.changesCount
    }
}
