import Foundation
import GRDB

/// De-duplication of consumed events by CloudEvent `source` + `id`.
///
/// Call ``claim(_:source:id:)`` inside the write transaction that applies the event, so the
/// record of having seen it and its effects commit (or roll back) together.
public enum Inbox {
    /// Records the event; `true` the first time, `false` for a duplicate (nothing changed).
    /// `processed_at` is stored as Unix seconds (a number: no date formatting per event).
    public static func claim(_ db: some SQLTransaction, source: String, id: String, at date: Date = Date()) throws -> Bool {
        try db.execute(
            "INSERT INTO inbox (source, id, processed_at) VALUES (?, ?, ?) ON CONFLICT (source, id) DO NOTHING",
            [.text(source), .text(id), .real(date.timeIntervalSince1970)]) > 0
    }

    /// Takes back a claim made earlier in this same transaction, for an event that turned out
    /// invalid: an invalid event leaves no claim, so a corrected replay with the same `source` +
    /// `id` is processed rather than taken for a duplicate.
    public static func release(_ db: some SQLTransaction, source: String, id: String) throws {
        try db.execute("DELETE FROM inbox WHERE source = ? AND id = ?", [.text(source), .text(id)])
    }

    /// Whether the event was already claimed.
    public static func contains(_ db: some SQLTransaction, source: String, id: String) throws -> Bool {
        try db.fetchOne("SELECT 1 FROM inbox WHERE source = ? AND id = ?", [.text(source), .text(id)]) != nil
    }

    /// Deletes the entries processed before `date`, at most `limit` of them (one bounded batch
    /// of ``RetentionService``; nil: all); returns how many. Entries written before timestamps
    /// became Unix seconds hold date text (`2026-11-23 04:00:00.000`) and are compared as such.
    ///
    /// There is no index on `processed_at` (it would cost every claim an index write): each
    /// batch scans the table until it found `limit` due rows. Run hourly, a batch usually
    /// removes one hour's worth of entries, so one scan per run.
    @discardableResult
    public static func prune(_ db: some SQLTransaction, processedBefore date: Date, limit: Int? = nil) throws -> Int {
        switch db.dialect {
        case .sqlite:
            return try db.execute(
                """
                DELETE FROM inbox WHERE (source, id) IN (
                    SELECT source, id FROM inbox
                    WHERE processed_at < ? OR (typeof(processed_at) = 'text' AND processed_at < ?)
                    LIMIT ?)
                """,
                [.real(date.timeIntervalSince1970), .text(SQLDateText.format(date)), .integer(Int64(limit.map { max(0, $0) } ?? -1))])
        case .postgres:
            return try db.execute(
                "DELETE FROM inbox WHERE (source, id) IN (SELECT source, id FROM inbox WHERE processed_at < ? LIMIT ?)",
                [.real(date.timeIntervalSince1970), limit.map { .integer(Int64(max(0, $0))) } ?? .null])
        }
    }
}
