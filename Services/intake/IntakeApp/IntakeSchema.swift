import ServiceKit

/// Intake's tables, after ServiceKit's `inbox` and `outbox`, on both engines (moments: SQLite as
/// GRDB's date text, PostgreSQL as Unix seconds; see ``SQLTransaction/moment(_:)``).
///
/// - `intake_report`: every accepted report by CloudEvent `source` + `id` (the idempotency key)
///   and the ticket it opened or was folded into, so a repeat answers with the same ticket.
/// - `ticket_sequence`: the per-day counter behind ticket ids (`T-20261123-000123`).
/// - `alarm_storm`: per site / device / alarm code, the ticket open for it, with count, first
///   and last seen, and whether the alarm was cleared.
/// - `known_error`: the known-error index from `itr.problem.known-error`, by fingerprint.
enum IntakeSchema {
    static let migrations: [StoreMigration] = [
        StoreMigration(
            name: "intake-v1",
            sqlite: """
                CREATE TABLE intake_report (
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    ticket_id TEXT,
                    outcome TEXT NOT NULL,
                    received_at DATETIME NOT NULL,
                    PRIMARY KEY (source, id)
                ) WITHOUT ROWID;
                CREATE TABLE ticket_sequence (
                    day TEXT PRIMARY KEY NOT NULL,
                    last INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE alarm_storm (
                    site TEXT NOT NULL,
                    device TEXT NOT NULL,
                    code TEXT NOT NULL,
                    ticket_id TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    first_seen DOUBLE NOT NULL,
                    last_seen DOUBLE NOT NULL,
                    cleared INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (site, device, code)
                ) WITHOUT ROWID;
                CREATE TABLE known_error (
                    fingerprint TEXT PRIMARY KEY NOT NULL,
                    problem_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    workaround TEXT NOT NULL,
                    updated_at DATETIME NOT NULL
                ) WITHOUT ROWID;
                """,
            postgres: [
                """
                CREATE TABLE intake_report (
                    source TEXT NOT NULL, id TEXT NOT NULL, ticket_id TEXT, outcome TEXT NOT NULL,
                    received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (source, id)
                )
                """,
                "CREATE INDEX intake_report_received ON intake_report (received_at)",
                "CREATE TABLE ticket_sequence (day TEXT PRIMARY KEY NOT NULL, last BIGINT NOT NULL)",
                """
                CREATE TABLE alarm_storm (
                    site TEXT NOT NULL, device TEXT NOT NULL, code TEXT NOT NULL, ticket_id TEXT NOT NULL,
                    count BIGINT NOT NULL, first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL,
                    cleared INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (site, device, code)
                )
                """,
                """
                CREATE TABLE known_error (
                    fingerprint TEXT PRIMARY KEY NOT NULL, problem_id TEXT NOT NULL, title TEXT NOT NULL,
                    workaround TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL
                )
                """,
            ]),
    ]
}
