import AMQPClient
import Foundation
import Logging

/// Where the built services, the configuration and the broker are, and how to get a fresh
/// place to run them: a new vhost, a fleet with its own data directories, a connection and an
/// observer. Shared by the pipeline, backlog, router-scale and HTTP benchmarks.
struct BenchEnvironment: Sendable {
    var binDirectory: String
    var configDirectory: String
    var brokerScript: String
    var brokerNode: String
    var baseURL: String
    var basePort: Int
    var logLevel: String
    var keepWork: Bool
    var logger: Logger
    /// `--postgres NAME`: the fleet stores in PostgreSQL (a database of each stage's own on the
    /// postgres.sh cluster NAME) instead of SQLite in its DATA_DIRs.
    var postgresCluster: String? = nil
    /// `--instances N`: processes per service (2 only with `postgresCluster`: they share its database).
    var instances = 1

    /// One benchmark phase's world.
    struct Stage {
        var vhost: BenchVhost
        var fleet: ServiceFleet
        /// Publishes reports (and inspects queues).
        var connection: AMQPConnection
        /// Consumes the observer's queue and publishes the service desk's actions: a
        /// connection (thread) of its own, so watching does not slow publishing.
        var observerConnection: AMQPConnection
        /// The service desk's (`itr-desk`): the resolve actions, with `user_id`.
        var deskConnection: AMQPConnection
        var observer: PipelineObserver
        var mix: ReportMix
        var workDirectory: String
        var database: BenchDatabase?
    }

    /// postgres.sh, beside broker.sh.
    var postgresScript: String {
        URL(fileURLWithPath: brokerScript).deletingLastPathComponent().appendingPathComponent("postgres.sh").path
    }

    /// What the stages store in: `SQLite` or `PostgreSQL (cluster NAME)`.
    var storeDescription: String { postgresCluster.map { "PostgreSQL (postgres.sh cluster \($0))" } ?? "SQLite" }

    func makeStage(_ name: String) async throws -> Stage {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("itr-bench-\(name)-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let vhost = try await BenchVhost.create(prefix: "itr-bench-\(name)", baseURL: baseURL, brokerScript: brokerScript, nodeName: brokerNode)
        let fleet = ServiceFleet(
            binDirectory: binDirectory, configDirectory: configDirectory, workDirectory: work, amqpURL: vhost.url, basePort: basePort,
            instances: instances)
        fleet.logLevel = logLevel
        var database: BenchDatabase?
        if let postgresCluster {
            let made = try await BenchDatabase.create(cluster: postgresCluster, script: postgresScript, products: ServiceFleet.products)
            fleet.databaseURLs = made.urls
            database = made
        }
        var config = try AMQPConfiguration(url: vhost.url)
        config.connectionName = "itr-bench-\(name)"
        let connection = try await AMQPConnection.connect(config, logger: logger)
        config.connectionName = "itr-bench-\(name)-observer"
        let observerConnection = try await AMQPConnection.connect(config, logger: logger)
        var deskConfig = try AMQPConfiguration(url: vhost.deskURL)
        deskConfig.connectionName = "itr-bench-\(name)-desk"
        let deskConnection = try await AMQPConnection.connect(deskConfig, logger: logger)
        let mix = ReportMix(run: "r\(UInt32.random(in: 0...UInt32.max))")
        let observer = PipelineObserver(mix: mix)
        return Stage(
            vhost: vhost, fleet: fleet, connection: connection, observerConnection: observerConnection, deskConnection: deskConnection, observer: observer, mix: mix, workDirectory: work,
            database: database)
    }

    func tearDown(_ stage: Stage) async {
        await stage.fleet.stop()
        await stage.connection.close()
        await stage.observerConnection.close()
        await stage.deskConnection.close()
        await stage.vhost.delete()
        await stage.database?.drop()
        if !keepWork { try? FileManager.default.removeItem(atPath: stage.workDirectory) }
    }

    /// Messages of every service queue (0 when a queue does not exist).
    static func backlog(_ connection: AMQPConnection) async -> [String: Int] {
        var result: [String: Int] = [:]
        for queue in ["intake.reports", "itr-router.inbox", "ltc-extractor.inbox", "ipd-feedback.inbox"] {
            result[queue] = (try? await connection.inspectQueue(queue)).map { Int($0.messageCount) } ?? 0
        }
        return result
    }

    /// Waits until every service queue is empty (twice in a row, 200 ms apart).
    static func waitDrained(_ connection: AMQPConnection, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var emptyOnce = false
        while ContinuousClock.now < deadline {
            let empty = await backlog(connection).values.allSatisfy { $0 == 0 }
            if empty, emptyOnce { return true }
            emptyOnce = empty
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}
