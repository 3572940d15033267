import AMQPClient
import Foundation
import ITRTestSupport
import Logging
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import ServiceKit

@Suite("ITRServiceHost against the shared broker", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct ITRServiceHostTests {
    /// A service whose store is written against GRDB refuses PostgreSQL with a reason, before it
    /// connects to anything, and without echoing the password.
    @Test func aServiceStoredInSQLiteOnlyRefusesADatabaseURL() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("host-sqlite-\(UUID().uuidString)").path
        let settings = try ServiceSettings(
            product: "sktest-sqlite", environment: ["DATABASE_URL": "postgres://u:secretpw@127.0.0.1:1/db", "DATA_DIR": dataDir],
            arguments: ["sktest-sqlite"])
        let host = ITRServiceHost(product: "sktest-sqlite", settings: settings) { _ in }
        await #expect {
            _ = try await host.prepare(
                logger: Logger(label: "host-test"), metrics: ServiceMetrics(service: "sktest-sqlite", registry: .init()),
                authenticator: try TokenAuthenticator(parsing: TestTokens.opsEntry, origin: "test"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("DATABASE_URL") && text.contains("sktest-sqlite stores in SQLite only") && !text.contains("secretpw")
        }
    }

    @Test func hostServesReadinessAndStopsGracefully() async throws {
        let suffix = UInt32.random(in: 0...UInt32.max)
        let queue = "sktest.host.\(suffix)"
        let port = TestEnvironment.freePorts(2)
        let metricsPort = port + 1
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("host-\(suffix)").path
        let settings = try ServiceSettings(
            product: "sktest-host", environment: ["AMQP_URL": TestEnvironment.amqpURL, "DATA_DIR": dataDir, "METRICS_PORT": "\(metricsPort)"],
            arguments: ["sktest-host", "--http-port", "\(port)"])
        let topology = AMQPTopology(exchanges: [AMQPExchange(name: ITRNames.deadLetterExchange, type: .topic)])
            .merging(ITRTopology.serviceQueue(name: queue, bindings: []))
        let host = ITRServiceHost(product: "sktest-host", settings: settings, topology: topology) { migrator in
            migrator.registerMigration("host-test-v1") { db in try db.execute(sql: "CREATE TABLE note (text TEXT)") }
        }
        let runtime = try await host.prepare(
            logger: Logger(label: "host-test"), metrics: ServiceMetrics(service: "sktest-host", registry: .init()),
            authenticator: try TokenAuthenticator(parsing: TestTokens.opsEntry, origin: "test"))
        let components = ServiceComponents(
            consumers: [.init(configuration: .init(queue: queue), handler: ClosureEventHandler { batch in batch.map { _ in .processed } })],
            routes: { router in router.get("/hello") { _, _ in "你好" } })
        let group = host.makeServiceGroup(runtime: runtime, components: components)

        func get(_ path: String, port: Int = port, token: Bool = true) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            if token { request.setValue(TestTokens.opsAuthorization, forHTTPHeaderField: "Authorization") }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let ready = await eventually(timeout: .seconds(90)) { (try? await get("/readyz"))?.0 == 200 }
            #expect(ready)
            let hello = try await get("/hello")
            #expect(hello.0 == 200 && hello.1 == "你好")
            let metrics = try await get("/metrics")
            #expect(metrics.1.contains("itr_amqp_connected"))
            #expect(try await get("/healthz", token: false).0 == 200)
            // /metrics: a token on the main listener, none on the loopback metrics listener,
            // which serves nothing else.
            #expect(try await get("/metrics", token: false).0 == 401)
            let open = try await get("/metrics", port: metricsPort, token: false)
            #expect(open.0 == 200 && open.1.contains("itr_amqp_connected"))
            #expect(try await get("/readyz", port: metricsPort, token: false).0 == 200)
            #expect(try await get("/hello", port: metricsPort, token: false).0 == 404)
            #expect(try await get("/v1/outbox/parked", port: metricsPort).0 == 404)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!runtime.connection.isConnected)
        #expect(FileManager.default.fileExists(atPath: dataDir + "/sktest-host.sqlite"))
        let cleanup = try await AMQPConnection.connect(AMQPConfiguration(url: TestEnvironment.amqpURL), logger: Logger(label: "cleanup"))
        for name in [queue, queue + ".dlq"] { _ = try? await cleanup.deleteQueue(name) }
        await cleanup.close()
    }
}
