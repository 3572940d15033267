/// The extractor's tables in both dialects (see ``LTCStore/migrations``).
///
/// - `ltc_ticket`: what is remembered of each ticket (``TicketFacts``);
/// - `ltc_observation`: occurrences counting towards recurrence signals, by kind and key;
/// - `ltc_opportunity`: one row per opportunity (scalars, counts, the deferred-update mark);
/// - `ltc_opportunity_ticket`, `_reason`, `_unit`: its links as rows, in the order they came.
enum LTCSchema {
    /// SQLite, version 1 (as recorded by existing databases).
    static let version1 = """
        CREATE TABLE ltc_ticket (
            ticket_id TEXT PRIMARY KEY NOT NULL,
            account TEXT,
            product TEXT,
            opened_at DATETIME,
            alarm_code TEXT,
            service_type TEXT,
            priority TEXT,
            contract_package TEXT
        );
        CREATE TABLE ltc_observation (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            ref TEXT NOT NULL,
            unit TEXT NOT NULL,
            at DATETIME NOT NULL,
            PRIMARY KEY (kind, key, ticket_id, ref)
        ) WITHOUT ROWID;
        CREATE INDEX ltc_observation_window ON ltc_observation (kind, key, at);
        CREATE TABLE ltc_opportunity (
            id TEXT PRIMARY KEY NOT NULL,
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            product_key TEXT NOT NULL,
            product TEXT,
            units TEXT NOT NULL,
            confidence REAL NOT NULL,
            reasons TEXT NOT NULL,
            ticket_ids TEXT NOT NULL,
            signals TEXT NOT NULL,
            suggested_owner TEXT,
            status TEXT NOT NULL,
            identified_at DATETIME NOT NULL,
            updated_at DATETIME NOT NULL,
            revision INTEGER NOT NULL,
            status_note TEXT,
            won_value TEXT
        );
        CREATE INDEX ltc_opportunity_key ON ltc_opportunity (account, kind, product_key, identified_at);
        CREATE INDEX ltc_opportunity_time ON ltc_opportunity (identified_at, id);
        """

    /// SQLite, version 2: links as rows (tickets, reasons, units) instead of JSON arrays re-encoded
    /// on every merge, counts on the opportunity row, and the deferred-update mark (debounced
    /// `updated` events). Moves the JSON lists of an existing database into the rows.
    static let version2 = """
        CREATE TABLE ltc_opportunity_ticket (
            opportunity_id TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (opportunity_id, ticket_id)
        ) WITHOUT ROWID;
        CREATE INDEX ltc_opportunity_ticket_seq ON ltc_opportunity_ticket (opportunity_id, seq);
        CREATE TABLE ltc_opportunity_reason (
            opportunity_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (opportunity_id, reason)
        ) WITHOUT ROWID;
        CREATE INDEX ltc_opportunity_reason_seq ON ltc_opportunity_reason (opportunity_id, seq);
        CREATE TABLE ltc_opportunity_unit (
            opportunity_id TEXT NOT NULL,
            key TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            offering TEXT,
            description TEXT,
            line_quantity INTEGER,
            amount TEXT,
            currency TEXT,
            UNIQUE (opportunity_id, key)
        );
        ALTER TABLE ltc_opportunity ADD COLUMN ticket_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE ltc_opportunity ADD COLUMN reason_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE ltc_opportunity ADD COLUMN pending_since DATETIME;
        ALTER TABLE ltc_opportunity ADD COLUMN pending_cause_id TEXT;
        ALTER TABLE ltc_opportunity ADD COLUMN pending_correlation_id TEXT;
        ALTER TABLE ltc_opportunity ADD COLUMN pending_traceparent TEXT;
        ALTER TABLE ltc_opportunity ADD COLUMN pending_tracestate TEXT;
        INSERT INTO ltc_opportunity_ticket (opportunity_id, ticket_id, seq)
            SELECT o.id, j.value, j.key + 1 FROM ltc_opportunity o, json_each(o.ticket_ids) j WHERE true
            ON CONFLICT DO NOTHING;
        INSERT INTO ltc_opportunity_reason (opportunity_id, reason, seq)
            SELECT o.id, j.value, j.key + 1 FROM ltc_opportunity o, json_each(o.reasons) j WHERE true
            ON CONFLICT DO NOTHING;
        INSERT INTO ltc_opportunity_unit (opportunity_id, key, quantity, offering, description, line_quantity, amount, currency)
            SELECT o.id, json_extract(j.value, '$.key'), json_extract(j.value, '$.quantity'),
                json_extract(j.value, '$.priceLine.offering'), json_extract(j.value, '$.priceLine.description'),
                json_extract(j.value, '$.priceLine.quantity'), json_extract(j.value, '$.priceLine.unitPrice.amount'),
                json_extract(j.value, '$.priceLine.unitPrice.currency')
            FROM ltc_opportunity o, json_each(o.units) j WHERE true ORDER BY o.id, j.key
            ON CONFLICT (opportunity_id, key) DO UPDATE SET quantity = excluded.quantity, offering = excluded.offering,
                description = excluded.description, line_quantity = excluded.line_quantity,
                amount = excluded.amount, currency = excluded.currency;
        UPDATE ltc_opportunity SET
            ticket_count = (SELECT COUNT(*) FROM ltc_opportunity_ticket t WHERE t.opportunity_id = ltc_opportunity.id),
            reason_count = (SELECT COUNT(*) FROM ltc_opportunity_reason r WHERE r.opportunity_id = ltc_opportunity.id);
        ALTER TABLE ltc_opportunity DROP COLUMN ticket_ids;
        ALTER TABLE ltc_opportunity DROP COLUMN reasons;
        ALTER TABLE ltc_opportunity DROP COLUMN units;
        CREATE INDEX ltc_opportunity_pending ON ltc_opportunity (pending_since) WHERE pending_since IS NOT NULL;
        """

    /// PostgreSQL: the tables as SQLite has them after version 2 (moments as Unix seconds).
    /// `ltc_opportunity_unit.rowid` stands for SQLite's implicit rowid, so that one query folds
    /// price lines in first-seen order on both engines.
    static let postgres = [
        """
        CREATE TABLE ltc_ticket (
            ticket_id TEXT PRIMARY KEY NOT NULL, account TEXT, product TEXT, opened_at DOUBLE PRECISION, alarm_code TEXT,
            service_type TEXT, priority TEXT, contract_package TEXT
        )
        """,
        """
        CREATE TABLE ltc_observation (
            kind TEXT NOT NULL, key TEXT NOT NULL, ticket_id TEXT NOT NULL, ref TEXT NOT NULL, unit TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL, PRIMARY KEY (kind, key, ticket_id, ref)
        )
        """,
        "CREATE INDEX ltc_observation_window ON ltc_observation (kind, key, at)",
        """
        CREATE TABLE ltc_opportunity (
            id TEXT PRIMARY KEY NOT NULL, account TEXT NOT NULL, kind TEXT NOT NULL, product_key TEXT NOT NULL, product TEXT,
            confidence DOUBLE PRECISION NOT NULL, signals TEXT NOT NULL, suggested_owner TEXT, status TEXT NOT NULL,
            identified_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, revision BIGINT NOT NULL,
            status_note TEXT, won_value TEXT, ticket_count BIGINT NOT NULL DEFAULT 0, reason_count BIGINT NOT NULL DEFAULT 0,
            pending_since DOUBLE PRECISION, pending_cause_id TEXT, pending_correlation_id TEXT, pending_traceparent TEXT,
            pending_tracestate TEXT
        )
        """,
        "CREATE INDEX ltc_opportunity_key ON ltc_opportunity (account, kind, product_key, identified_at)",
        "CREATE INDEX ltc_opportunity_time ON ltc_opportunity (identified_at, id)",
        "CREATE INDEX ltc_opportunity_pending ON ltc_opportunity (pending_since) WHERE pending_since IS NOT NULL",
        """
        CREATE TABLE ltc_opportunity_ticket (
            opportunity_id TEXT NOT NULL, ticket_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (opportunity_id, ticket_id)
        )
        """,
        "CREATE INDEX ltc_opportunity_ticket_seq ON ltc_opportunity_ticket (opportunity_id, seq)",
        """
        CREATE TABLE ltc_opportunity_reason (
            opportunity_id TEXT NOT NULL, reason TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (opportunity_id, reason)
        )
        """,
        "CREATE INDEX ltc_opportunity_reason_seq ON ltc_opportunity_reason (opportunity_id, seq)",
        """
        CREATE TABLE ltc_opportunity_unit (
            rowid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, opportunity_id TEXT NOT NULL, key TEXT NOT NULL,
            quantity BIGINT NOT NULL, offering TEXT, description TEXT, line_quantity BIGINT, amount TEXT, currency TEXT,
            UNIQUE (opportunity_id, key)
        )
        """,
    ]
}
