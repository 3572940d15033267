import Foundation
import GRDB

/// A service's SQLite database (`DATA_DIR/<product>.sqlite`): a GRDB `DatabasePool` in WAL
/// mode with `synchronous = NORMAL` and a busy timeout, migrated at open.
///
/// The shared `inbox` and `outbox` tables are created by the first migration
/// (`servicekit-v1`); each service registers its own migrations after it.
public final class ServiceStore: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// The migrator with the shared tables already registered; add the service's migrations to it.
    public static func makeMigrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("servicekit-v1") { db in
            try db.execute(
                sql: """
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
                    """)
        }
        return migrator
    }

    /// Opens (creating the directory and file as needed) and migrates the database.
    ///
    /// - Parameter migrations: registers the service's own migrations, run after the shared ones.
    public init(
        path: String, busyTimeout: TimeInterval = 5, migrations: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
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
        try self.init(path: settings.databasePath, migrations: migrations)
    }
}
