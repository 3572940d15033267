import Foundation
import ITRTestSupport
import Testing

/// `deploy/scripts/postgres.sh`: a PostgreSQL cluster of its own on 127.0.0.1 (Debian's package,
/// no systemd), its URLs, one role per service that cannot read another service's schema, and
/// data that survive a `kill -9`. Runs where the test command runs (`ITR_TEST_POSTGRES=1`, which
/// installs PostgreSQL); fails, not skips, when PostgreSQL is required and missing.
@Suite("postgres.sh", .serialized, .enabled(if: PostgresScript.enabled))
struct PostgresScriptTests {
    @Test(.timeLimit(.minutes(5)))
    func aClusterOfItsOwnWithARolePerServiceThatSurvivesKillMinusNine() async throws {
        let name = "itr-test-pgs"
        let port = TestEnvironment.freePorts(1)
        _ = try? await PostgresScript.run(["stop", "--name", name, "--purge"])
        try await PostgresScript.run(["start", "--name", name, "--port", "\(port)"])
        let status = try await PostgresScript.run(["status", "--name", name])
        #expect(status.contains("running") && status.contains("127.0.0.1:\(port)"), "\(status)")

        let env = TestEnvironment.exports(try await PostgresScript.run(["env", "--name", name]))
        let database = try #require(env["DATABASE_URL"])
        #expect(database.hasPrefix("postgres://itr:") && database.hasSuffix("@127.0.0.1:\(port)/itr"), "\(database)")
        let router = try #require(env["ITR_DATABASE_URL_ITR_ROUTER"])
        let intake = try #require(env["ITR_DATABASE_URL_INTAKE"])
        #expect(env["ITR_DATABASE_URL_LTC_EXTRACTOR"] != nil && env["ITR_DATABASE_URL_IPD_FEEDBACK"] != nil)
        #expect(try await PostgresScript.run(["url", "--name", name, "--user", "itr-router"]).trimmingCharacters(in: .whitespacesAndNewlines) == router)

        // A service makes the schema named after its product and owns it; no other service reads it.
        try await PostgresScript.psql(router, #"CREATE SCHEMA IF NOT EXISTS "itr-router"; CREATE TABLE "itr-router".t (v text); INSERT INTO "itr-router".t VALUES ('工单 T-1')"#)
        await #expect(throws: CommandFailed.self) { try await PostgresScript.psql(intake, #"SELECT * FROM "itr-router".t"#) }
        await #expect(throws: CommandFailed.self) { try await PostgresScript.psql(intake, "CREATE TABLE public.x (v int)") }
        #expect(try await PostgresScript.psql(router, #"SELECT v FROM "itr-router".t"#) == "工单 T-1")

        // Databases of their own for tests.
        try await PostgresScript.run(["create-database", "itr_pgs_extra", "--name", name])
        let extra = String(database.dropLast("itr".count)) + "itr_pgs_extra"
        #expect(try await PostgresScript.psql(extra, "SELECT current_database()") == "itr_pgs_extra")
        try await PostgresScript.run(["drop-database", "itr_pgs_extra", "--name", name])
        await #expect(throws: CommandFailed.self) { try await PostgresScript.psql(extra, "SELECT 1") }

        // kill -9, then start: committed rows are there (WAL recovery).
        try await PostgresScript.run(["kill", "--name", name])
        await #expect(throws: CommandFailed.self) { try await PostgresScript.run(["status", "--name", name]) }
        try await PostgresScript.run(["start", "--name", name])
        #expect(try await PostgresScript.psql(router, #"SELECT v FROM "itr-router".t"#) == "工单 T-1")
        try await PostgresScript.run(["stop", "--name", name, "--purge"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/itr-postgres-\(name)"))
    }

    @Test func mistakesAreNamed() async throws {
        for (args, reason) in [
            (["start", "--port", "99999", "--name", "itr-test-pgs-bad"], "invalid --port"),
            (["create-database", "Bad-Name"], "invalid database name"),
            (["url", "--name", "itr-test-pgs-never"], "never been started"),
        ] {
            await #expect {
                try await PostgresScript.run(args)
            } throws: { error in
                "\(error)".contains(reason)
            }
        }
    }
}

enum PostgresScript {
    static var required: Bool { ProcessInfo.processInfo.environment["ITR_TEST_POSTGRES"] == "1" }
    static var installed: Bool {
        (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.isEmpty == false
    }
    static var enabled: Bool { required || installed }

    @discardableResult
    static func run(_ args: [String]) async throws -> String {
        try await TestStore.runPostgresScript(args)
    }

    /// Runs `sql` with psql as the URL's role; the first row's value.
    @discardableResult
    static func psql(_ url: String, _ sql: String) async throws -> String {
        let command = ["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let (status, output) = try await runCommand(command)
        guard status == 0 else { throw CommandFailed(command: ["psql", "<url>", sql], status: status, output: output) }
        return output.split(separator: "\n").first.map(String.init) ?? ""
    }
}
