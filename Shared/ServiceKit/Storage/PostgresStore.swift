import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// Where a service stores in PostgreSQL: `DATABASE_URL`
/// (`postgres://user:pass@host:port/db`, `?sslmode=disable|prefer|require`) and the schema of its
/// own, named after the product (made on first start if the role may; quoted, so `itr-router`
/// is a schema name as it is).
public struct PostgresStoreSettings: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var schema: String
    public var requireTLS: Bool
    /// Connections of the store (each transaction holds one for its duration).
    public var connections: Int
    /// This instance's name (`ITR_INSTANCE`): the owner of the outbox rows it writes.
    public var instance: String?

    public init(url: String, schema: String, instance: String? = nil, connections: Int = 4) throws(SQLStoreError) {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw .invalidURL("expected postgres://user:pass@host:port/db") }
        guard let host = c.host, !host.isEmpty else { throw .invalidURL("no host in \(Self.redacted(url))") }
        guard let user = c.user, !user.isEmpty else { throw .invalidURL("no user in \(Self.redacted(url))") }
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        guard !path.isEmpty, !path.contains("/") else { throw .invalidURL("no database name in \(Self.redacted(url))") }
        if let port = c.port, !(1...65535).contains(port) { throw .invalidURL("port \(port) out of range") }
        guard !schema.isEmpty else { throw .invalidURL("no schema name") }
        self.host = host
        self.port = c.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = c.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = path.removingPercentEncoding ?? path
        self.schema = schema
        var tls = false
        for item in c.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "prefer"), ("sslmode", "allow"): tls = false
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"): tls = true
            case ("sslmode", let other): throw .invalidURL("sslmode must be disable, prefer, require, verify-ca or verify-full, got \(other)")
            case (let name, _): throw .invalidURL("unknown parameter \(name) (only sslmode)")
            }
        }
        self.requireTLS = tls
        self.connections = max(1, connections)
        self.instance = instance
    }

    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "<unparseable>" }
        if c.password != nil { c.password = "***" }
        return c.string ?? "<unparseable>"
    }

    /// The schema as an SQL identifier.
    public var quotedSchema: String { "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// A service's store in PostgreSQL: a few connections, each with `search_path` set to the
/// service's schema, and transactions whose body runs synchronously on a thread of the store's
/// (``SQLTransaction``, as with GRDB), committed as a whole. A transaction that PostgreSQL
/// aborts for a serialization failure or a deadlock (another instance touched the same rows)
/// is run again from the start, up to ``maximumAttempts`` times.
public final class PostgresStore: Sendable {
    public let settings: PostgresStoreSettings
    public static let maximumAttempts = 5
    private let pool: ConnectionPool
    private let logger: Logger
    /// Where transaction bodies run, each blocking its thread on the server's answers: threads
    /// of the store's own, one per connection. Not a Dispatch queue: on Linux a concurrent queue
    /// shares its threads with Swift's cooperative pool (as many as cores), so transactions
    /// waiting on the server (or on a lock another instance holds) starved every task of the
    /// process (seen in the test suite: nothing finished for 40 s).
    private let threads: NIOThreadPool

    /// Connects, makes the schema when it is missing and runs the migrations not yet applied
    /// (under an advisory lock: instances starting together migrate once).
    public init(settings: PostgresStoreSettings, migrations: [StoreMigration], logger: Logger) async throws {
        self.settings = settings
        self.logger = logger
        self.pool = ConnectionPool(settings: settings, logger: logger)
        self.threads = NIOThreadPool(numberOfThreads: settings.connections)
        threads.start()
        do {
            try await migrate(migrations)
        } catch {
            await pool.close()  // a connection must be closed before it goes
            try? await threads.shutdownGracefully()
            throw error
        }
    }

    /// Runs `body` in a transaction and commits it; rolls back when it throws.
    public func write<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try await transaction(readOnly: false, body)
    }

    /// Runs `body` in a read-only transaction.
    public func read<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try await transaction(readOnly: true, body)
    }

    public func close() async {
        await pool.close()
        try? await threads.shutdownGracefully()
    }

    private func transaction<T: Sendable>(readOnly: Bool, _ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        var attempt = 1
        while true {
            let connection = try await pool.take()
            do {
                let result = try await run(on: connection, readOnly: readOnly, body)
                await pool.give(connection)
                return result
            } catch {
                await pool.give(connection)
                if attempt < Self.maximumAttempts, let state = PostgresTransaction.sqlState(of: error), state == "40001" || state == "40P01" {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << attempt))))
                    continue
                }
                throw error
            }
        }
    }

    private func run<T: Sendable>(
        on connection: PostgresConnection, readOnly: Bool, _ body: @escaping @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        let logger = self.logger
        let instance = settings.instance
        return try await threads.runIfActive {
            let tx = PostgresTransaction(connection: connection, instance: instance, logger: logger)
            do {
                try tx.execute(readOnly ? "BEGIN READ ONLY" : "BEGIN", [])
                let result = try body(tx)
                try tx.execute("COMMIT", [])
                return result
            } catch {
                _ = try? tx.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Makes the schema when it is missing, then applies the migrations not yet applied, in
    /// order, all in one transaction under an advisory lock: instances starting together make
    /// the schema and migrate once (the others wait, then find nothing to do).
    private func migrate(_ migrations: [StoreMigration]) async throws {
        let schema = settings.schema
        let quoted = settings.quotedSchema
        try await write { tx in
            try tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("itr-migrations:" + schema)])
            if try tx.fetchOne("SELECT 1 FROM pg_namespace WHERE nspname = ?", [.text(schema)]) == nil {
                try tx.execute("CREATE SCHEMA \(quoted)", [])
            }
            try tx.execute(
                "CREATE TABLE IF NOT EXISTS itr_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)", [])
            let applied = Set(try tx.fetch("SELECT name FROM itr_migrations", []).map { try $0.string(0) })
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.postgres { try tx.execute(statement, []) }
                try tx.execute("INSERT INTO itr_migrations (name, applied_at) VALUES (?, ?)", [.text(migration.name), Date().sqlValue])
            }
        }
    }
}

/// The statements of one PostgreSQL transaction (see ``PostgresStore``): `?` placeholders
/// become `$1, $2, ...`; each statement waits for its answer on the transaction's thread.
public final class PostgresTransaction: SQLTransaction, @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    public let instance: String?

    init(connection: PostgresConnection, instance: String?, logger: Logger) {
        self.connection = connection
        self.instance = instance
        self.logger = logger
    }

    public var dialect: SQLDialect { .postgres }

    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    public func fetch(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try run(sql, arguments).rows.map { row in SQLRow(try row.map(Self.value)) }
    }

    public func insert(_ sql: String, _ arguments: [SQLValue], returning column: String) throws -> Int64 {
        guard let row = try fetch(sql + " RETURNING " + column, arguments).first else {
            throw SQLStoreError.corruptRow("the insert returned no \(column)")
        }
        return try row.int64(0)
    }

    private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case .integer(let v): binds.append(v)
            case .real(let v): binds.append(v)
            case .text(let v): binds.append(v)
            case .blob(let v): binds.append(ByteBuffer(bytes: v))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds)
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        return try future.wait()
    }

    /// `?` outside quotes and comments → `$n`.
    public static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int8: return .integer(try cell.decode(Int64.self))
        case .float4: return .real(Double(try cell.decode(Float.self)))
        case .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readData(length: buffer.readableBytes) ?? Data())
        case .numeric: return .real(NSDecimalNumber(decimal: try cell.decode(Decimal.self)).doubleValue)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// The SQLSTATE of a PostgreSQL error (`40001` serialization failure, `23505` unique violation, ...).
    public static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// The store's connections: taken by a transaction, given back after; a broken one is closed and
/// replaced on the next take. Opened lazily, at most `settings.connections`.
actor ConnectionPool {
    let settings: PostgresStoreSettings
    let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var nextID = 0
    private var closed = false

    init(settings: PostgresStoreSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    func take() async throws -> PostgresConnection {
        while true {
            if closed { throw SQLStoreError.closed }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                open -= 1
            }
            if open < settings.connections {
                open += 1
                do {
                    return try await connect()
                } catch {
                    open -= 1
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    func give(_ connection: PostgresConnection) async {
        if connection.isClosed {
            open -= 1
        } else if closed {
            open -= 1
            try? await connection.close()
        } else {
            idle.append(connection)
        }
        wakeOne()
    }

    /// Closes the idle connections now and each one in use when it is given back (a
    /// connection must be closed before it is released).
    func close() async {
        closed = true
        let connections = idle
        idle.removeAll()
        open -= connections.count
        for connection in connections { try? await connection.close() }
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    private func connect() async throws -> PostgresConnection {
        nextID += 1
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: settings.password,
            database: settings.database, tls: settings.requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(settings.quotedSchema)"), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }
}
