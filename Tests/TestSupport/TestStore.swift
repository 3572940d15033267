import Foundation
import GRDB
import Logging
import ServiceKit

/// A store of either engine for the tests: SQLite in a temporary file, or PostgreSQL in a schema
/// of its own on the test command's database (dropped afterwards).
public struct TestStore: Sendable {
    public let store: SQLStore

    public static var postgresURL: String? { ProcessInfo.processInfo.environment["ITR_TEST_DATABASE_URL"] }
    public static var postgresRequired: Bool { ProcessInfo.processInfo.environment["ITR_TEST_POSTGRES"] == "1" }
    /// PostgreSQL tests run when the test command started PostgreSQL, and must then pass.
    public static var postgresAvailable: Bool { postgresRequired || postgresURL != nil }

    /// The engines the store tests run on: SQLite, and PostgreSQL where the test command started it.
    public static var engines: [SQLDialect] { postgresAvailable ? [.sqlite, .postgres] : [.sqlite] }

    /// A fresh store with the shared tables and `migrations` (the service's own).
    public static func open(_ engine: SQLDialect, migrations: [StoreMigration] = []) async throws -> TestStore {
        switch engine {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("itr-sqlstore-\(UUID().uuidString)/t.sqlite").path
            return TestStore(store: .sqlite(try ServiceStore(path: path) { migrator in migrator.register(migrations) }))
        case .postgres:
            return try await openPostgres(schema: TestEnvironment.uniqueName("test-store"), migrations: migrations)
        }
    }

    public static func openPostgres(schema: String, instance: String? = nil, migrations: [StoreMigration] = []) async throws -> TestStore {
        guard let url = postgresURL else {
            throw CommandFailed(command: ["postgres"], status: -1, output: "ITR_TEST_DATABASE_URL is not set (deploy/scripts/test.sh starts PostgreSQL)")
        }
        var logger = Logger(label: "sql-store-test")
        logger.logLevel = .warning
        let store = try await PostgresStore(
            settings: try PostgresStoreSettings(url: url, schema: schema, instance: instance), migrations: ServiceStore.sharedMigrations + migrations,
            logger: logger)
        return TestStore(store: .postgres(store))
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await store.write(body)
    }

    public func close() async {
        if case .postgres(let postgres) = store { await postgres.close() }
    }

    /// A database of its own on the test command's PostgreSQL (`postgres.sh create-database`, on
    /// the cluster `ITR_TEST_POSTGRES_NAME`, default itr-test), for services started by a test:
    /// their schemas cannot meet another test's. Returns its name and the URL of `service`'s role
    /// on it (`ITR_DATABASE_URL_<SERVICE>` with the database replaced).
    public static func makeDatabase(for service: String) async throws -> (name: String, url: String) {
        let database = try await makeDatabase(forServices: [service])
        return (database.name, database.urls[service] ?? "")
    }

    /// One database of its own for several services (each its role and schema, as on a
    /// deployment): its name and each service's URL on it.
    public static func makeDatabase(forServices services: [String]) async throws -> (name: String, urls: [String: String]) {
        var bases: [String: URLComponents] = [:]
        for service in services {
            let variable = "ITR_DATABASE_URL_" + service.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let base = ProcessInfo.processInfo.environment[variable], let url = URLComponents(string: base) else {
                throw CommandFailed(command: ["postgres"], status: -1, output: "\(variable) is not set (deploy/scripts/test.sh starts PostgreSQL)")
            }
            bases[service] = url
        }
        let name = "itr_t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await postgresScript(["create-database", name])
        var urls: [String: String] = [:]
        for (service, var url) in bases {
            url.path = "/" + name
            urls[service] = url.string
        }
        return (name, urls)
    }

    public static func dropDatabase(_ name: String) async {
        _ = try? await postgresScript(["drop-database", name])
    }

    /// `postgres.sh ARGS` on the test cluster.
    private static func postgresScript(_ args: [String]) async throws {
        let cluster = ProcessInfo.processInfo.environment["ITR_TEST_POSTGRES_NAME"] ?? "itr-test"
        try await runPostgresScript(args + ["--name", cluster])
    }

    /// `bash deploy/scripts/postgres.sh ARGS`; its output, or an error with it when it failed.
    @discardableResult
    public static func runPostgresScript(_ args: [String]) async throws -> String {
        let command = ["bash", TestEnvironment.packageRoot.appendingPathComponent("deploy/scripts/postgres.sh").path] + args
        let (status, output) = try await runCommand(command)
        guard status == 0 else { throw CommandFailed(command: command, status: status, output: output) }
        return output
    }

    public func drop() async {
        switch store {
        case .sqlite(let sqlite):
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: sqlite.path).deletingLastPathComponent().path)
        case .postgres(let postgres):
            let schema = postgres.settings.quotedSchema
            _ = try? await postgres.write { tx in try tx.execute("DROP SCHEMA \(schema) CASCADE", []) }
            await postgres.close()
        }
    }
}
