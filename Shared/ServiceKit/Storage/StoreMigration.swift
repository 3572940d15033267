import GRDB

/// One step of a store's schema, written for both engines: the same name (GRDB records it in
/// SQLite's `grdb_migrations`, ``PostgresStore`` in the schema's `itr_migrations`), the SQLite
/// text and the PostgreSQL statements that make the same tables.
public struct StoreMigration: Sendable {
    public var name: String
    public var sqlite: String
    public var postgres: [String]

    public init(name: String, sqlite: String, postgres: [String]) {
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }
}

extension DatabaseMigrator {
    /// Registers `migrations` (their SQLite text) in order.
    public mutating func register(_ migrations: [StoreMigration]) {
        for migration in migrations {
            let sql = migration.sqlite
            registerMigration(migration.name) { db in try db.execute(sql: sql) }
        }
    }
}
