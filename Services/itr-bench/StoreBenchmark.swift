import AMQPClient
import Foundation
import Histogram
import Logging
import ServiceKit
import Synchronization

/// The storage every consumed event costs, on each engine: one transaction that claims the
/// event in the inbox and enqueues one outbox row (the shared part of every service's batch),
/// from `concurrency` tasks for `seconds`. SQLite (a temporary file, WAL) always; PostgreSQL
/// when a URL is given (each run in a schema of its own, dropped after), with one instance and
/// with two instances (two stores, two connection pools) sharing the schema.
struct StoreBenchmark {
    var seconds: Double = 5
    var concurrency = 8
    var postgresURL: String?
    let logger: Logger

    struct Run: Codable, Sendable {
        var engine: String
        var instances: Int
        var transactionsPerSecond: Double
        var latency: LatencySummary
    }

    func run() async throws -> [Run] {
        var runs: [Run] = []
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("itr-bench-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try ServiceStore(path: directory.appendingPathComponent("bench.sqlite").path)
        runs.append(try await measure(engine: "sqlite", stores: [.sqlite(sqlite)]))
        if let postgresURL {
            for instances in [1, 2] {
                let schema = "bench-store-\(UInt32.random(in: 0...UInt32.max))"
                var stores: [PostgresStore] = []
                for index in 0..<instances {
                    let settings = try PostgresStoreSettings(
                        url: postgresURL, schema: schema, instance: "bench-\(index)", connections: max(1, concurrency / instances))
                    stores.append(try await PostgresStore(settings: settings, migrations: ServiceStore.sharedMigrations, logger: logger))
                }
                runs.append(try await measure(engine: "postgresql", stores: stores.map { .postgres($0) }))
                let quoted = stores[0].settings.quotedSchema
                _ = try? await stores[0].write { tx in try tx.execute("DROP SCHEMA \(quoted) CASCADE", []) }
                for store in stores { await store.close() }
            }
        }
        return runs
    }

    private func measure(engine: String, stores: [SQLStore]) async throws -> Run {
        let body = Data(String(repeating: "设备告警 alarm ", count: 50).utf8)
        let message = AMQPMessage(body: body, properties: AMQPProperties(contentType: "application/json", deliveryMode: 2))
        let latencies = Latencies()
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                let store = stores[worker % stores.count]
                group.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline {
                        let id = "\(worker)-\(done)"
                        let t0 = ContinuousClock.now
                        _ = try await store.write { db in
                            guard try Inbox.claim(db, source: "/bench/store", id: id) else { return false }
                            try Outbox.enqueue(db, message: message, exchange: "itr.events", routingKey: "bench.\(id)")
                            return true
                        }
                        let micros = (ContinuousClock.now - t0).components
                        latencies.record(UInt64(max(1, micros.seconds * 1_000_000 + micros.attoseconds / 1_000_000_000_000)))
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        let rate = Double(total) / elapsed.inSeconds
        return Run(
            engine: engine, instances: stores.count, transactionsPerSecond: rate,
            latency: latencies.summary(rate: rate, count: total))
    }

    /// Transaction latencies in µs, from every task.
    final class Latencies: Sendable {
        private let histogram = Mutex(
            Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
        func record(_ micros: UInt64) { histogram.withLock { _ = $0.record(micros) } }
        func summary(rate: Double, count: Int) -> LatencySummary { histogram.withLock { LatencySummary($0, rate: rate, count: count) } }
    }
}
