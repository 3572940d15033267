import GRDB
import ServiceKit

/// The router's tables (after ServiceKit's inbox and outbox).
///
/// - `tickets`: current state of each ticket plus the columns the service-level report and the
///   problem detector query (indexed: unlinked incidents by fingerprint + opened_at, problem, opened_at).
/// - `ticket_history`: append-only lifecycle facts and router decisions, each with the rule and
///   rules version behind it and the id of the event that caused it.
/// - `ola_stints`: each tier's hold of a ticket with its budget and outcome (recomputed per change).
/// - `problems` and their incidents (`tickets.problem_id`).
/// - `due_moments`: what the scheduler fires next, indexed by due time (from `EscalationPlanner`).
/// - `rejected_actions`: refused `itr.ticket.action` events, so a redelivery is refused again.
///
/// `itr-router-v2` replaces the fingerprint index by a partial index of the incidents not linked
/// to a problem (the only ones the problem detector counts): a fault that recurs for days adds
/// its linked incidents to a problem, not to the detector's scan.
///
/// The same migrations on both engines (moments are Unix seconds, REAL / DOUBLE PRECISION;
/// flags INTEGER 0/1 on both, so the same SQL reads them); the SQLite texts are the ones
/// existing databases recorded under these names. `due_moments` has on PostgreSQL the `id`
/// identity column SQLite's implicit `rowid` is on SQLite (the scheduler deletes a row by it).
public enum RouterSchema {
    public static let migrations: [StoreMigration] = [
        StoreMigration(
            name: "itr-router-v1",
            sqlite: """
                    CREATE TABLE tickets (
                        id TEXT PRIMARY KEY NOT NULL,
                        state TEXT NOT NULL,
                        tier TEXT,
                        grp TEXT,
                        first_tier TEXT,
                        service_type TEXT,
                        priority TEXT,
                        impact INTEGER,
                        urgency INTEGER,
                        account TEXT NOT NULL,
                        contract_package TEXT,
                        contract_id TEXT,
                        region TEXT,
                        product_line TEXT NOT NULL,
                        model TEXT,
                        version TEXT,
                        component TEXT,
                        alarm_code TEXT,
                        summary TEXT NOT NULL,
                        is_incident INTEGER NOT NULL DEFAULT 0,
                        fingerprint TEXT,
                        problem_id TEXT,
                        opened_at REAL NOT NULL,
                        acknowledged_at REAL,
                        response_seconds REAL,
                        resolution_seconds REAL,
                        resolved_at REAL,
                        closed_at REAL,
                        close_reason TEXT,
                        reopen_count INTEGER NOT NULL DEFAULT 0,
                        escalation_count INTEGER NOT NULL DEFAULT 0,
                        hierarchical_count INTEGER NOT NULL DEFAULT 0,
                        resolution_code TEXT,
                        quality_responsibility TEXT,
                        response_met INTEGER,
                        resolution_met INTEGER,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX tickets_fingerprint ON tickets (fingerprint, opened_at) WHERE fingerprint IS NOT NULL;
                    CREATE INDEX tickets_problem ON tickets (problem_id) WHERE problem_id IS NOT NULL;
                    CREATE INDEX tickets_opened ON tickets (opened_at);

                    CREATE TABLE ticket_history (
                        ticket_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        fact TEXT,
                        detail TEXT,
                        rule_id TEXT,
                        rules_version TEXT,
                        cause_id TEXT,
                        PRIMARY KEY (ticket_id, seq)
                    ) WITHOUT ROWID;

                    CREATE TABLE ola_stints (
                        ticket_id TEXT NOT NULL,
                        idx INTEGER NOT NULL,
                        tier TEXT NOT NULL,
                        budget_seconds REAL NOT NULL,
                        elapsed_seconds REAL NOT NULL,
                        met INTEGER,
                        started_at REAL,
                        PRIMARY KEY (ticket_id, idx)
                    ) WITHOUT ROWID;

                    CREATE TABLE problems (
                        id TEXT PRIMARY KEY NOT NULL,
                        fingerprint TEXT NOT NULL,
                        fingerprint_hash TEXT NOT NULL,
                        state TEXT NOT NULL,
                        title TEXT NOT NULL,
                        product_line TEXT NOT NULL,
                        model TEXT,
                        component TEXT,
                        symptom TEXT,
                        trigger TEXT NOT NULL,
                        rule_id TEXT NOT NULL,
                        rules_version TEXT NOT NULL,
                        opened_at REAL NOT NULL,
                        root_cause TEXT,
                        workaround TEXT,
                        known_error_at REAL,
                        resolved_at REAL,
                        fix_version TEXT,
                        defect_id TEXT
                    );
                    CREATE INDEX problems_open_fingerprint ON problems (fingerprint) WHERE state != 'resolved';

                    CREATE TABLE due_moments (
                        ticket_id TEXT NOT NULL,
                        due_at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        ord INTEGER NOT NULL,
                        cause_id TEXT,
                        traceparent TEXT
                    );
                    CREATE INDEX due_moments_due ON due_moments (due_at, ord);
                    CREATE INDEX due_moments_ticket ON due_moments (ticket_id);

                    CREATE TABLE rejected_actions (
                        source TEXT NOT NULL,
                        id TEXT NOT NULL,
                        reason_code TEXT NOT NULL,
                        message TEXT NOT NULL,
                        PRIMARY KEY (source, id)
                    ) WITHOUT ROWID;
                """,
            postgres: [
                """
                CREATE TABLE tickets (
                    id TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL, tier TEXT, grp TEXT, first_tier TEXT,
                    service_type TEXT, priority TEXT, impact INTEGER, urgency INTEGER, account TEXT NOT NULL,
                    contract_package TEXT, contract_id TEXT, region TEXT, product_line TEXT NOT NULL, model TEXT,
                    version TEXT, component TEXT, alarm_code TEXT, summary TEXT NOT NULL,
                    is_incident INTEGER NOT NULL DEFAULT 0, fingerprint TEXT, problem_id TEXT,
                    opened_at DOUBLE PRECISION NOT NULL, acknowledged_at DOUBLE PRECISION, response_seconds DOUBLE PRECISION,
                    resolution_seconds DOUBLE PRECISION, resolved_at DOUBLE PRECISION, closed_at DOUBLE PRECISION,
                    close_reason TEXT, reopen_count INTEGER NOT NULL DEFAULT 0, escalation_count INTEGER NOT NULL DEFAULT 0,
                    hierarchical_count INTEGER NOT NULL DEFAULT 0, resolution_code TEXT, quality_responsibility TEXT,
                    response_met INTEGER, resolution_met INTEGER, updated_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX tickets_fingerprint ON tickets (fingerprint, opened_at) WHERE fingerprint IS NOT NULL",
                "CREATE INDEX tickets_problem ON tickets (problem_id) WHERE problem_id IS NOT NULL",
                "CREATE INDEX tickets_opened ON tickets (opened_at)",
                """
                CREATE TABLE ticket_history (
                    ticket_id TEXT NOT NULL, seq INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL,
                    fact TEXT, detail TEXT, rule_id TEXT, rules_version TEXT, cause_id TEXT, PRIMARY KEY (ticket_id, seq)
                )
                """,
                """
                CREATE TABLE ola_stints (
                    ticket_id TEXT NOT NULL, idx INTEGER NOT NULL, tier TEXT NOT NULL,
                    budget_seconds DOUBLE PRECISION NOT NULL, elapsed_seconds DOUBLE PRECISION NOT NULL, met INTEGER,
                    started_at DOUBLE PRECISION, PRIMARY KEY (ticket_id, idx)
                )
                """,
                """
                CREATE TABLE problems (
                    id TEXT PRIMARY KEY NOT NULL, fingerprint TEXT NOT NULL, fingerprint_hash TEXT NOT NULL,
                    state TEXT NOT NULL, title TEXT NOT NULL, product_line TEXT NOT NULL, model TEXT, component TEXT,
                    symptom TEXT, trigger TEXT NOT NULL, rule_id TEXT NOT NULL, rules_version TEXT NOT NULL,
                    opened_at DOUBLE PRECISION NOT NULL, root_cause TEXT, workaround TEXT,
                    known_error_at DOUBLE PRECISION, resolved_at DOUBLE PRECISION, fix_version TEXT, defect_id TEXT
                )
                """,
                "CREATE INDEX problems_open_fingerprint ON problems (fingerprint) WHERE state != 'resolved'",
                """
                CREATE TABLE due_moments (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    ticket_id TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, ord INTEGER NOT NULL,
                    cause_id TEXT, traceparent TEXT
                )
                """,
                "CREATE INDEX due_moments_due ON due_moments (due_at, ord)",
                "CREATE INDEX due_moments_ticket ON due_moments (ticket_id)",
                """
                CREATE TABLE rejected_actions (
                    source TEXT NOT NULL, id TEXT NOT NULL, reason_code TEXT NOT NULL, message TEXT NOT NULL,
                    PRIMARY KEY (source, id)
                )
                """,
            ]),
        // `itr-router-v2` replaces the fingerprint index by a partial index of the incidents not
        // linked to a problem (the only ones the problem detector counts).
        StoreMigration(
            name: "itr-router-v2",
            sqlite: """
                    DROP INDEX tickets_fingerprint;
                    CREATE INDEX tickets_unlinked_incidents ON tickets (fingerprint, opened_at)
                        WHERE fingerprint IS NOT NULL AND problem_id IS NULL;
                """,
            postgres: [
                "DROP INDEX tickets_fingerprint",
                """
                CREATE INDEX tickets_unlinked_incidents ON tickets (fingerprint, opened_at)
                    WHERE fingerprint IS NOT NULL AND problem_id IS NULL
                """,
            ]),
        // A stint stopped when its budget ran out is breached, not met (`ClockStatus.isBreached`);
        // the rules version the stored due moments were planned with (`RulesReplanner`); the
        // number of events emitted (`RouterEngine.emit`, `ServiceLevelReport.eventsEmitted`).
        StoreMigration(
            name: "itr-router-v3",
            sqlite: """
                    UPDATE ola_stints SET met = 0
                        WHERE met = 1 AND budget_seconds > 0 AND elapsed_seconds + 0.001 >= budget_seconds;
                    CREATE TABLE router_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE router_counters (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO router_counters (key, value) VALUES ('events_emitted', 0);
                """,
            postgres: [
                """
                UPDATE ola_stints SET met = 0
                    WHERE met = 1 AND budget_seconds > 0 AND elapsed_seconds + 0.001 >= budget_seconds
                """,
                "CREATE TABLE router_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
                "CREATE TABLE router_counters (key TEXT PRIMARY KEY NOT NULL, value BIGINT NOT NULL)",
                "INSERT INTO router_counters (key, value) VALUES ('events_emitted', 0)",
            ]),
        // Classification by the model: the triage flag, what the classification read (so the
        // desk's `reclassify` re-grades on the report), and the desk's corrections, kept as
        // labelled examples for `itrctl classifier train` (GET /v1/classifier/corrections).
        StoreMigration(
            name: "itr-router-v4",
            sqlite: """
                    ALTER TABLE tickets ADD COLUMN needs_triage INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE tickets ADD COLUMN report_facts TEXT;
                    ALTER TABLE tickets ADD COLUMN classified_by TEXT;
                    ALTER TABLE tickets ADD COLUMN model_version TEXT;
                    ALTER TABLE tickets ADD COLUMN model_confidence REAL;
                    CREATE INDEX tickets_needs_triage ON tickets (opened_at) WHERE needs_triage = 1;
                    CREATE TABLE classifier_corrections (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        ticket_id TEXT NOT NULL,
                        at REAL NOT NULL,
                        title TEXT NOT NULL,
                        description TEXT,
                        from_type TEXT,
                        to_type TEXT NOT NULL,
                        decided_by TEXT,
                        model_version TEXT,
                        confidence REAL,
                        actor TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        cause_id TEXT
                    );
                """,
            postgres: [
                "ALTER TABLE tickets ADD COLUMN needs_triage INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE tickets ADD COLUMN report_facts TEXT",
                "ALTER TABLE tickets ADD COLUMN classified_by TEXT",
                "ALTER TABLE tickets ADD COLUMN model_version TEXT",
                "ALTER TABLE tickets ADD COLUMN model_confidence DOUBLE PRECISION",
                "CREATE INDEX tickets_needs_triage ON tickets (opened_at) WHERE needs_triage = 1",
                """
                CREATE TABLE classifier_corrections (
                    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, ticket_id TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL, title TEXT NOT NULL, description TEXT, from_type TEXT,
                    to_type TEXT NOT NULL, decided_by TEXT, model_version TEXT, confidence DOUBLE PRECISION,
                    actor TEXT NOT NULL, reason TEXT NOT NULL, cause_id TEXT
                )
                """,
            ]),
    ]

    /// Registers the SQLite texts (tests that open a GRDB store of their own).
    public static func register(_ migrator: inout DatabaseMigrator) { migrator.register(migrations) }
}
