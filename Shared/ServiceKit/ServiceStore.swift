import Foundation
import GRDB

/// A service's SQLite database (`DATA_DIR/<product>.sqlite`): a GRDB `DatabasePool` in WAL
/// mode with `synchronous = NORMAL` and a busy timeout, migrated at open.
///
/// Durability: in WAL mode `synchronous = NORMAL` syncs the WAL at checkpoints, not at every
/// commit. A committed transaction survives a crash of the process (the WAL is in the OS page
/// cache); only a power loss or kernel crash can roll back the last commits, never corrupt the
/// database. The services tolerate that: the broker message whose effects were lost was acked
/// after the commit, but the events the lost transaction would have published were in the same
/// transaction's outbox rows, so nothing downstream saw them either. `FULL` would add an fsync
/// to every consumer batch (the latency path) for that case only.
///
/// Memory: every connection has its own page cache, so the pool is kept small:
/// ``defaultMaximumReaders`` reader connections (the relay and the HTTP handlers read; the
/// consumers write), the writer with SQLite's default cache of about 2 MiB
/// (``defaultWriterCacheKiB``) and each reader with ``defaultReaderCacheKiB``.
///
/// The shared `inbox` and `outbox` tables are created by the first migration
/// (`servicekit-v1`, and `servicekit-v2` for the outbox's parking columns); each service registers its own migrations after them.
public final class ServiceStore: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// Reader connections of the pool (GRDB's default is 5).
    public static let defaultMaximumReaders = 2
    /// `PRAGMA cache_size` of the writer connection, in KiB (SQLite's default, 2,000 KiB).
    public static let defaultWriterCacheKiB = 2000
    /// `PRAGMA cache_size` of each reader connection, in KiB.
    public static let defaultReaderCacheKiB = 512

    /// The shared tables, for both engines: `inbox` and `outbox` (`servicekit-v1`), the outbox's
    /// parking columns (`servicekit-v2`), its owners (`servicekit-v3`).
    public static let sharedMigrations: [StoreMigration] = [
        StoreMigration(
            name: "servicekit-v1",
            sqlite: """
                CREATE TABLE inbox (
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    processed_at DATETIME NOT NULL,
                    PRIMARY KEY (source, id)
                ) WITHOUT ROWID;
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    exchange TEXT NOT NULL,
                    routing_key TEXT NOT NULL,
                    message BLOB NOT NULL,
                    created_at DATETIME NOT NULL
                );
                """,
            postgres: [
                """
                CREATE TABLE inbox (
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    processed_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (source, id)
                )
                """,
                """
                CREATE TABLE outbox (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    exchange TEXT NOT NULL,
                    routing_key TEXT NOT NULL,
                    message BYTEA NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
            ]),
        // Parking (rows that cannot be published stay, with why, and hold up nothing).
        StoreMigration(
            name: "servicekit-v2",
            sqlite: """
                ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE outbox ADD COLUMN parked_at REAL;
                ALTER TABLE outbox ADD COLUMN parked_reason TEXT;
                CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL;
                """,
            postgres: [
                "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE outbox ADD COLUMN parked_at DOUBLE PRECISION",
                "ALTER TABLE outbox ADD COLUMN parked_reason TEXT",
                "CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL",
            ]),
        // Several instances on one database: each outbox row belongs to the instance that wrote
        // it, relayed by it while it is alive (`outbox_relays`: each relay's last sign of life)
        // and adopted by another when it is not.
        StoreMigration(
            name: "servicekit-v3",
            sqlite: """
                ALTER TABLE outbox ADD COLUMN owner TEXT;
                CREATE TABLE outbox_relays (instance TEXT PRIMARY KEY NOT NULL, seen_at REAL NOT NULL) WITHOUT ROWID;
                """,
            postgres: [
                "ALTER TABLE outbox ADD COLUMN owner TEXT",
                "CREATE INDEX outbox_owner ON outbox (owner, seq) WHERE parked_at IS NULL",
                "CREATE TABLE outbox_relays (instance TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL)",
            ]),
    ]

    /// The migrator with the shared tables already registered; add the service's migrations to it.
    public static func makeMigrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.register(sharedMigrations)
        return migrator
    }

    /// Opens (creating the directory and file as needed) and migrates the database.
    ///
    /// - Parameter migrations: registers the service's own migrations, run after the shared ones.
    public init(
        path: String, busyTimeout: TimeInterval = 5, maximumReaders: Int = ServiceStore.defaultMaximumReaders,
        writerCacheKiB: Int = ServiceStore.defaultWriterCacheKiB, readerCacheKiB: Int = ServiceStore.defaultReaderCacheKiB,
        migrations: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.maximumReaderCount = max(1, maximumReaders)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A negative cache_size is in KiB.
            let cacheKiB = db.configuration.readonly ? readerCacheKiB : writerCacheKiB
            try db.execute(sql: "PRAGMA cache_size = -\(max(64, cacheKiB))")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = Self.makeMigrator()
        migrations(&migrator)
        try migrator.migrate(pool)
        self.pool = pool
        self.path = path
    }

    /// Opens `settings.databasePath`.
    public convenience init(settings: ServiceSettings, migrations: (inout DatabaseMigrator) -> Void = { _ in }) throws {
        try self.init(path: settings.databasePath, writerCacheKiB: settings.sqliteCacheKiB, migrations: migrations)
    }
}
