import Foundation
import GRDB
import ITREvents
import ServiceKit

/// The service's tables, next to ServiceKit's `inbox` and `outbox`, and the reads and writes
/// on them. All functions run inside the caller's transaction.
///
/// - `ipd_defects`: one row per defect, the `Defect` value as JSON plus the columns the API
///   filters and orders by;
/// - `ipd_defect_versions`: affected versions (for the `version` filter);
/// - `ipd_fingerprints`: fingerprint digest → defect (a merged duplicate's fingerprints point
///   to its target, so later problems fold into the target);
/// - `ipd_problems`: problems seen on `itr.problem.*`, their fields and defect;
/// - `ipd_tickets`: tickets resolved with a product cause (or breached before), their defect.
public enum DefectStore {
    /// The service's tables on both engines (moments: SQLite as GRDB's date text, PostgreSQL as
    /// Unix seconds; see ``SQLTransaction/moment(_:)``).
    public static let migrations: [StoreMigration] = [
        StoreMigration(
            name: "ipd-v1",
            sqlite: """
                    CREATE TABLE ipd_defects (
                        id TEXT PRIMARY KEY NOT NULL,
                        product_line TEXT NOT NULL,
                        status TEXT NOT NULL,
                        reported INTEGER NOT NULL,
                        score REAL NOT NULL,
                        first_seen DATETIME,
                        last_seen DATETIME,
                        pending_update INTEGER NOT NULL,
                        last_emitted_at DATETIME,
                        state BLOB NOT NULL
                    );
                    CREATE INDEX ipd_defects_order ON ipd_defects (reported, score DESC, id);
                    CREATE INDEX ipd_defects_pending ON ipd_defects (pending_update) WHERE pending_update = 1;
                    CREATE TABLE ipd_defect_versions (
                        defect_id TEXT NOT NULL,
                        version TEXT NOT NULL,
                        PRIMARY KEY (defect_id, version)
                    ) WITHOUT ROWID;
                    CREATE INDEX ipd_defect_versions_version ON ipd_defect_versions (version);
                    CREATE TABLE ipd_fingerprints (
                        fingerprint TEXT PRIMARY KEY NOT NULL,
                        defect_id TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE ipd_problems (
                        problem_id TEXT PRIMARY KEY NOT NULL,
                        defect_id TEXT,
                        state BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE ipd_tickets (
                        ticket_id TEXT PRIMARY KEY NOT NULL,
                        problem_id TEXT,
                        defect_id TEXT,
                        state BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX ipd_tickets_problem ON ipd_tickets (problem_id) WHERE problem_id IS NOT NULL;
                    """,
            postgres: [
                """
                CREATE TABLE ipd_defects (
                    id TEXT PRIMARY KEY NOT NULL,
                    product_line TEXT NOT NULL,
                    status TEXT NOT NULL,
                    reported INTEGER NOT NULL,
                    score DOUBLE PRECISION NOT NULL,
                    first_seen DOUBLE PRECISION,
                    last_seen DOUBLE PRECISION,
                    pending_update INTEGER NOT NULL,
                    last_emitted_at DOUBLE PRECISION,
                    state BYTEA NOT NULL
                )
                """,
                "CREATE INDEX ipd_defects_order ON ipd_defects (reported, score DESC, id)",
                "CREATE INDEX ipd_defects_pending ON ipd_defects (pending_update) WHERE pending_update = 1",
                "CREATE TABLE ipd_defect_versions (defect_id TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (defect_id, version))",
                "CREATE INDEX ipd_defect_versions_version ON ipd_defect_versions (version)",
                "CREATE TABLE ipd_fingerprints (fingerprint TEXT PRIMARY KEY NOT NULL, defect_id TEXT NOT NULL)",
                "CREATE TABLE ipd_problems (problem_id TEXT PRIMARY KEY NOT NULL, defect_id TEXT, state BYTEA NOT NULL)",
                """
                CREATE TABLE ipd_tickets (
                    ticket_id TEXT PRIMARY KEY NOT NULL, problem_id TEXT, defect_id TEXT, state BYTEA NOT NULL
                )
                """,
                "CREATE INDEX ipd_tickets_problem ON ipd_tickets (problem_id) WHERE problem_id IS NOT NULL",
            ]),
    ]

    /// The migrations into GRDB's migrator (SQLite).
    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.register(migrations)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    // MARK: Defects

    public static func defect(_ db: some SQLTransaction, id: String) throws -> Defect? {
        guard let row = try db.fetchOne("SELECT state FROM ipd_defects WHERE id = ?", [.text(id)]) else { return nil }
        return try decoder.decode(Defect.self, from: try row.data(0))
    }

    /// The defect a fingerprint digest folds into (following merges).
    public static func defectId(_ db: some SQLTransaction, fingerprint: String) throws -> String? {
        try db.fetchOne("SELECT defect_id FROM ipd_fingerprints WHERE fingerprint = ?", [.text(fingerprint)])?.string(0)
    }

    public static func save(_ db: some SQLTransaction, _ defect: Defect, score: Double) throws {
        try db.execute(
            """
            INSERT INTO ipd_defects (id, product_line, status, reported, score, first_seen, last_seen, pending_update,
                                     last_emitted_at, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET product_line = excluded.product_line, status = excluded.status,
                reported = excluded.reported, score = excluded.score, first_seen = excluded.first_seen,
                last_seen = excluded.last_seen, pending_update = excluded.pending_update,
                last_emitted_at = excluded.last_emitted_at, state = excluded.state
            """,
            [
                .text(defect.id), .text(defect.productLine), .text(defect.status.rawValue), defect.isReported.sqlValue, .real(score),
                db.moment(defect.firstSeen), db.moment(defect.lastSeen), defect.pendingUpdate.sqlValue, db.moment(defect.lastEmittedAt),
                .blob(try encoder.encode(defect)),
            ])
        try db.execute(
            "INSERT INTO ipd_fingerprints (fingerprint, defect_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [.text(defect.fingerprint.digest), .text(defect.id)])
        for version in defect.versions {
            try db.execute(
                "INSERT INTO ipd_defect_versions (defect_id, version) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(defect.id), .text(version)])
        }
    }

    /// Points every fingerprint, problem and ticket of `source` to `target` (duplicate merge).
    public static func repoint(_ db: some SQLTransaction, from source: String, to target: String) throws {
        for table in ["ipd_fingerprints", "ipd_problems", "ipd_tickets"] {
            try db.execute("UPDATE \(table) SET defect_id = ? WHERE defect_id = ?", [.text(target), .text(source)])
        }
    }

    /// Ids of defects whose deferred update may be due (the policy decides).
    public static func pendingDefectIds(_ db: some SQLTransaction, emittedBefore cutoff: Date, limit: Int) throws -> [String] {
        try db.fetch(
            """
            SELECT id FROM ipd_defects WHERE pending_update = 1 AND (last_emitted_at IS NULL OR last_emitted_at <= ?)
            ORDER BY last_emitted_at NULLS FIRST, id LIMIT ?
            """,
            [db.moment(cutoff), .integer(Int64(limit))]
        ).map { try $0.string(0) }
    }

    // MARK: Problems and tickets

    public static func problem(_ db: some SQLTransaction, id: String) throws -> ProblemRecord? {
        guard let row = try db.fetchOne("SELECT state FROM ipd_problems WHERE problem_id = ?", [.text(id)]) else { return nil }
        return try decoder.decode(ProblemRecord.self, from: try row.data(0))
    }

    public static func save(_ db: some SQLTransaction, _ problem: ProblemRecord) throws {
        try db.execute(
            """
            INSERT INTO ipd_problems (problem_id, defect_id, state) VALUES (?, ?, ?)
            ON CONFLICT (problem_id) DO UPDATE SET defect_id = excluded.defect_id, state = excluded.state
            """,
            [.text(problem.problemId), problem.defectId.sqlValue, .blob(try encoder.encode(problem))])
    }

    public static func ticket(_ db: some SQLTransaction, id: String) throws -> TicketRecord? {
        guard let row = try db.fetchOne("SELECT state FROM ipd_tickets WHERE ticket_id = ?", [.text(id)]) else { return nil }
        return try decoder.decode(TicketRecord.self, from: try row.data(0))
    }

    public static func save(_ db: some SQLTransaction, _ ticket: TicketRecord) throws {
        try db.execute(
            """
            INSERT INTO ipd_tickets (ticket_id, problem_id, defect_id, state) VALUES (?, ?, ?, ?)
            ON CONFLICT (ticket_id) DO UPDATE SET problem_id = excluded.problem_id, defect_id = excluded.defect_id,
                state = excluded.state
            """,
            [.text(ticket.ticketId), ticket.problemId.sqlValue, ticket.defectId.sqlValue, .blob(try encoder.encode(ticket))])
    }

    /// Product-caused tickets that named `problemId` before the problem itself was known.
    public static func waitingTickets(_ db: some SQLTransaction, problemId: String) throws -> [TicketRecord] {
        try db.fetch("SELECT state FROM ipd_tickets WHERE problem_id = ? AND defect_id IS NULL ORDER BY ticket_id", [.text(problemId)])
            .map { try decoder.decode(TicketRecord.self, from: try $0.data(0)) }
    }
}

/// A problem as learnt from `itr.problem.opened` (and later problem events).
public struct ProblemRecord: Sendable, Hashable, Codable {
    public var problemId: String
    public var title: String
    public var productLine: String
    public var model: String?
    public var component: String?
    public var code: String?
    public var symptom: String?
    public var ticketIds: [String]
    public var rootCause: String?
    public var resolved = false
    /// Set once a ticket of the problem was resolved with a product cause.
    public var defectId: String?

    public init(_ opened: ProblemOpened) {
        problemId = opened.problemId
        title = opened.title
        productLine = opened.productLine
        model = opened.model
        component = opened.component
        code = opened.code
        symptom = opened.symptom
        ticketIds = opened.ticketIds
    }
}

/// A ticket resolved with a product cause (or one an SLA breach was seen for first).
public struct TicketRecord: Sendable, Hashable, Codable {
    public var ticketId: String
    public var problemId: String?
    public var resolved: TicketResolved?
    public var slaBreaches = 0
    public var defectId: String?

    public init(ticketId: String) { self.ticketId = ticketId }

    /// The incident this ticket adds to its defect.
    public var incident: Incident {
        Incident(
            ticketId: ticketId, problemId: problemId, account: resolved?.account,
            contractPackage: resolved?.contractPackage, priority: resolved?.priority, version: resolved?.product.version,
            slaBreaches: slaBreaches, at: resolved?.resolvedAt)
    }
}
