import Foundation
import GRDB
import ITRConfig

/// A problem (the cause of one or more incidents) as stored.
public struct ProblemRecord: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case open
        case knownError = "known-error"
        case resolved
    }

    public var id: String
    public var fingerprint: String
    public var fingerprintHash: String
    public var state: State
    public var title: String
    public var productLine: String
    public var model: String?
    public var component: String?
    public var symptom: String?
    public var trigger: String
    public var ruleId: String
    public var rulesVersion: String
    public var openedAt: Date
    public var rootCause: String?
    public var workaround: String?
    public var knownErrorAt: Date?
    public var resolvedAt: Date?
    public var fixVersion: String?
    public var defectId: String?

    init(row: Row) {
        id = row["id"]
        fingerprint = row["fingerprint"]
        fingerprintHash = row["fingerprint_hash"]
        state = State(rawValue: row["state"]) ?? .open
        title = row["title"]
        productLine = row["product_line"]
        model = row["model"]
        component = row["component"]
        symptom = row["symptom"]
        trigger = row["trigger"]
        ruleId = row["rule_id"]
        rulesVersion = row["rules_version"]
        openedAt = Date(timeIntervalSince1970: row["opened_at"])
        rootCause = row["root_cause"]
        workaround = row["workaround"]
        knownErrorAt = (row["known_error_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        resolvedAt = (row["resolved_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        fixVersion = row["fix_version"]
        defectId = row["defect_id"]
    }

    public init(
        id: String, fingerprint: IncidentFingerprint, state: State, title: String, trigger: String, ruleId: String,
        rulesVersion: String, openedAt: Date
    ) {
        self.id = id
        self.fingerprint = fingerprint.key
        self.fingerprintHash = Self.fingerprintHash(fingerprint)
        self.state = state
        self.title = title
        self.productLine = fingerprint.productLine
        self.model = fingerprint.model.isEmpty ? nil : fingerprint.model
        self.component = fingerprint.component.isEmpty ? nil : fingerprint.component
        self.symptom = fingerprint.symptom.isEmpty ? nil : fingerprint.symptom
        self.trigger = trigger
        self.ruleId = ruleId
        self.rulesVersion = rulesVersion
        self.openedAt = openedAt
    }

    /// The published fingerprint: `IncidentFingerprint.digest` (FNV-1a 64 of its key), the form
    /// intake's known-error index matches new reports by.
    public static func fingerprintHash(_ fingerprint: IncidentFingerprint) -> String { fingerprint.digest }

    /// The id of the problem a ticket opens for a fingerprint key: `PRB-` and 12 hex digits of
    /// the FNV-1a hash of both, the same on every replay of the same events.
    public static func id(trigger ticketId: String, fingerprint key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(ticketId)|\(key)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return "PRB-" + (String(repeating: "0", count: 16 - hex.count) + hex).prefix(12)
    }

    public static func load(_ db: Database, id: String) throws -> ProblemRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM problems WHERE id = ?"), arguments: [id]).map(ProblemRecord.init(row:))
    }

    public func save(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO problems (
                    id, fingerprint, fingerprint_hash, state, title, product_line, model, component, symptom, trigger,
                    rule_id, rules_version, opened_at, root_cause, workaround, known_error_at, resolved_at, fix_version,
                    defect_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                id, fingerprint, fingerprintHash, state.rawValue, title, productLine, model, component, symptom, trigger,
                ruleId, rulesVersion, openedAt.timeIntervalSince1970, rootCause, workaround,
                knownErrorAt?.timeIntervalSince1970, resolvedAt?.timeIntervalSince1970, fixVersion, defectId,
            ])
    }
}
