import Foundation
import GRDB

/// A service's store on either engine, chosen by `DATABASE_URL` (absent: SQLite in
/// `DATA_DIR`): one way to run a transaction whose body is written against ``SQLTransaction``.
public enum SQLStore: Sendable {
    case sqlite(ServiceStore)
    case postgres(PostgresStore)

    public var dialect: SQLDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// Runs `body` in a write transaction and commits it (rolls back when it throws).
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        switch self {
        case .sqlite(let store): try await store.pool.write { db in try body(db) }
        case .postgres(let store): try await store.write { tx in try body(tx) }
        }
    }

    /// Closes PostgreSQL's connections (a SQLite store closes when released). After the service
    /// group has stopped: nothing may use the store afterwards.
    public func close() async {
        if case .postgres(let store) = self { await store.close() }
    }

    /// Runs `body` in a read-only transaction.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        switch self {
        case .sqlite(let store): try await store.pool.read { db in try body(db) }
        case .postgres(let store): try await store.read { tx in try body(tx) }
        }
    }
}
