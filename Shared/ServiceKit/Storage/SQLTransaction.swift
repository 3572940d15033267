import Foundation

/// The SQL engines a service can store in: SQLite (embedded, the default) or PostgreSQL.
public enum SQLDialect: String, Sendable, Hashable {
    case sqlite, postgres
}

/// A value bound to or read from SQL, the same on both engines: SQLite's storage classes,
/// which PostgreSQL's BIGINT / INTEGER, DOUBLE PRECISION, TEXT and BYTEA map to.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    public var int64: Int64? {
        switch self {
        case .integer(let v): v
        case .real(let v): Int64(exactly: v)
        case .text(let v): Int64(v)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .real(let v): v
        case .text(let v): Double(v)
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .text(let v): v
        case .integer(let v): String(v)
        case .real(let v): String(v)
        default: nil
        }
    }

    public var data: Data? {
        switch self {
        case .blob(let v): v
        case .text(let v): Data(v.utf8)
        default: nil
        }
    }

    public var isNull: Bool { self == .null }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// What can be bound as an ``SQLValue``.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLValueConvertible { public var sqlValue: SQLValue { self } }
extension String: SQLValueConvertible { public var sqlValue: SQLValue { .text(self) } }
extension Substring: SQLValueConvertible { public var sqlValue: SQLValue { .text(String(self)) } }
extension Int: SQLValueConvertible { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLValueConvertible { public var sqlValue: SQLValue { .integer(self) } }
extension Int32: SQLValueConvertible { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Double: SQLValueConvertible { public var sqlValue: SQLValue { .real(self) } }
extension Bool: SQLValueConvertible { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Data: SQLValueConvertible { public var sqlValue: SQLValue { .blob(self) } }
extension Date: SQLValueConvertible {
    /// Unix seconds, the way the stores keep moments.
    public var sqlValue: SQLValue { .real(timeIntervalSince1970) }
}
extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One row of a result, read by column index.
public struct SQLRow: Sendable, Hashable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public subscript(index: Int) -> SQLValue { index < values.count ? values[index] : .null }

    /// The column as the type asked for; a clear error when it is NULL or of another kind.
    public func int64(_ index: Int) throws -> Int64 {
        guard let v = self[index].int64 else { throw SQLStoreError.unexpectedValue(column: index, expected: "an integer", got: self[index]) }
        return v
    }

    public func int(_ index: Int) throws -> Int { Int(try int64(index)) }

    public func double(_ index: Int) throws -> Double {
        guard let v = self[index].double else { throw SQLStoreError.unexpectedValue(column: index, expected: "a number", got: self[index]) }
        return v
    }

    public func string(_ index: Int) throws -> String {
        guard let v = self[index].string else { throw SQLStoreError.unexpectedValue(column: index, expected: "text", got: self[index]) }
        return v
    }

    public func data(_ index: Int) throws -> Data {
        guard let v = self[index].data else { throw SQLStoreError.unexpectedValue(column: index, expected: "bytes", got: self[index]) }
        return v
    }
}

/// Errors of the storage layer itself (the engines' own errors pass through as they are).
public enum SQLStoreError: Error, CustomStringConvertible, Sendable {
    case unexpectedValue(column: Int, expected: String, got: SQLValue)
    case invalidURL(String)
    case corruptRow(String)
    case closed

    public var description: String {
        switch self {
        case .unexpectedValue(let column, let expected, let got): "column \(column): expected \(expected), got \(got)"
        case .invalidURL(let why): "DATABASE_URL: \(why)"
        case .corruptRow(let why): why
        case .closed: "the store is closed"
        }
    }
}

/// The statements of one transaction, on either engine: what the shared tables (inbox, outbox)
/// and, service by service, the stores are written against. SQL uses `?` placeholders and the
/// subset both engines read alike; where they differ the code asks ``dialect``.
///
/// Synchronous, like the transaction closures of GRDB: the body of a transaction runs on a
/// thread of the store's (never a cooperative thread), and commits or rolls back as a whole.
public protocol SQLTransaction {
    var dialect: SQLDialect { get }
    /// The service instance writing (`ITR_INSTANCE`) when several share the database: the
    /// outbox rows it enqueues are its own to relay (nil: one instance, SQLite).
    var instance: String? { get }
    /// Runs a statement; the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs a query; its rows.
    func fetch(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs an INSERT of one row; the value of its generated integer key `column` (SQLite:
    /// the rowid it aliases, no result row to read; PostgreSQL: `RETURNING column`).
    func insert(_ sql: String, _ arguments: [SQLValue], returning column: String) throws -> Int64
}

/// What a savepoint's body decides (``SQLTransaction/savepoint(_:)``).
public enum SavepointOutcome: Sendable {
    case commit, rollback
}

extension SQLTransaction {
    public var instance: String? { nil }

    /// Serialises, across the instances sharing a PostgreSQL database, the transactions that take
    /// the same lock: an advisory lock on (`name`, `key`) held until this transaction commits or
    /// rolls back. A transaction that waited for it reads what the holder committed (each
    /// statement sees what was committed before it began), so a read-modify-write of what the
    /// lock covers loses no update. SQLite: nothing to do (one writer at a time).
    public func lock(_ name: String, key: String = "") throws {
        guard dialect == .postgres else { return }
        try execute("SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?))", [.text(name), .text(key)])
    }

    /// ``lock(_:key:)`` without waiting: true when this transaction holds it now (it may have held
    /// it already), false when another one does. SQLite: always true.
    public func tryLock(_ name: String, key: String = "") throws -> Bool {
        guard dialect == .postgres else { return true }
        return try fetchOne("SELECT pg_try_advisory_xact_lock(hashtext(?), hashtext(?))", [.text(name), .text(key)])?[0].int64 == 1
    }

    /// Runs `body` in a savepoint of the transaction: its writes stay when it returns
    /// `.commit`, are undone when it returns `.rollback` or throws (then rethrown). One event
    /// of a batch refused leaves nothing while the others' writes commit.
    public func savepoint(_ body: () throws -> SavepointOutcome) throws {
        try execute("SAVEPOINT itr_step", [])
        do {
            if try body() == .rollback { try execute("ROLLBACK TO SAVEPOINT itr_step", []) }
            try execute("RELEASE SAVEPOINT itr_step", [])
        } catch {
            _ = try? execute("ROLLBACK TO SAVEPOINT itr_step", [])
            _ = try? execute("RELEASE SAVEPOINT itr_step", [])
            throw error
        }
    }

    /// A moment as this engine's store columns keep it: SQLite as GRDB writes dates
    /// (`2026-11-23 04:00:00.000`, UTC: the text existing databases hold and compare),
    /// PostgreSQL as Unix seconds (DOUBLE PRECISION).
    public func moment(_ date: Date?) -> SQLValue {
        guard let date else { return .null }
        switch dialect {
        case .sqlite: return .text(SQLDateText.format(date))
        case .postgres: return .real(date.timeIntervalSince1970)
        }
    }

    public func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try fetch(sql, arguments).first
    }
}

extension SQLValue {
    /// The values of `items` in order, for the arguments of a statement with many:
    /// `SQLValue.list(ticket.id, ticket.tier, openedAt)` (a nil optional binds NULL, a `Date`
    /// Unix seconds).
    public static func list(_ items: any SQLValueConvertible...) -> [SQLValue] { items.map(\.sqlValue) }

    /// `?, ?, ...` for `count` values.
    public static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
