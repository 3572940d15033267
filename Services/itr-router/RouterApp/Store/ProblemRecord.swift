import Foundation
import ITRConfig
import ServiceKit

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

    /// The columns ``load(_:id:)`` reads, in the order ``init(row:)`` takes them.
    static let columns = """
        id, fingerprint, fingerprint_hash, state, title, product_line, model, component, symptom, trigger, rule_id,
        rules_version, opened_at, root_cause, workaround, known_error_at, resolved_at, fix_version, defect_id
        """

    init(row: SQLRow) throws {
        id = try row.string(0)
        fingerprint = try row.string(1)
        fingerprintHash = try row.string(2)
        state = State(rawValue: try row.string(3)) ?? .open
        title = try row.string(4)
        productLine = try row.string(5)
        model = row[6].string
        component = row[7].string
        symptom = row[8].string
        trigger = try row.string(9)
        ruleId = try row.string(10)
        rulesVersion = try row.string(11)
        openedAt = Date(timeIntervalSince1970: try row.double(12))
        rootCause = row[13].string
        workaround = row[14].string
        knownErrorAt = row[15].double.map(Date.init(timeIntervalSince1970:))
        resolvedAt = row[16].double.map(Date.init(timeIntervalSince1970:))
        fixVersion = row[17].string
        defectId = row[18].string
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

    public static func load(_ db: any SQLTransaction, id: String) throws -> ProblemRecord? {
        try db.fetchOne("SELECT \(columns) FROM problems WHERE id = ?", [.text(id)]).map(ProblemRecord.init(row:))
    }

    public func save(_ db: any SQLTransaction) throws {
        try db.execute(
            """
            INSERT INTO problems (\(Self.columns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                fingerprint = excluded.fingerprint, fingerprint_hash = excluded.fingerprint_hash, state = excluded.state,
                title = excluded.title, product_line = excluded.product_line, model = excluded.model,
                component = excluded.component, symptom = excluded.symptom, trigger = excluded.trigger,
                rule_id = excluded.rule_id, rules_version = excluded.rules_version, opened_at = excluded.opened_at,
                root_cause = excluded.root_cause, workaround = excluded.workaround,
                known_error_at = excluded.known_error_at, resolved_at = excluded.resolved_at,
                fix_version = excluded.fix_version, defect_id = excluded.defect_id
            """,
            [
                id.sqlValue, fingerprint.sqlValue, fingerprintHash.sqlValue, state.rawValue.sqlValue, title.sqlValue,
                productLine.sqlValue, model.sqlValue, component.sqlValue, symptom.sqlValue, trigger.sqlValue,
                ruleId.sqlValue, rulesVersion.sqlValue, openedAt.timeIntervalSince1970.sqlValue, rootCause.sqlValue,
                workaround.sqlValue, knownErrorAt?.timeIntervalSince1970.sqlValue ?? .null,
                resolvedAt?.timeIntervalSince1970.sqlValue ?? .null, fixVersion.sqlValue, defectId.sqlValue,
            ])
    }
}
