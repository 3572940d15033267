import AMQPClient
import Foundation

/// Resident memory while a backlog drains: the four services start (declaring the topology),
/// intake stops, `count` reports (100,000) pile up in `intake.reports`, intake starts again and
/// the whole backlog flows through. VmRSS of each service is sampled every 250 ms: before,
/// peak while draining, and after the queues are empty. Prefetch should bound the peak.
struct BacklogBenchmark {
    var environment: BenchEnvironment
    var count: Int

    struct Result: Codable, Sendable {
        var benchmark = "backlog"
        var reports: Int
        var drainSeconds: Double
        var drainEventsPerSecond: Double
        var memoryBeforeMiB: [String: Double]
        var memoryPeakMiB: [String: Double]
        var memoryHighWaterMiB: [String: Double]
        var memoryAfterMiB: [String: Double]
        var outcomes: [String: Int]
        /// Whether every service queue emptied within 10 minutes of the last assignment, and
        /// what was left in each otherwise (the "after" figures are then taken mid-backlog).
        var queuesDrained: Bool
        var left: [String: Int]
    }

    func run() async throws -> Result {
        let stage = try await environment.makeStage("backlog")
        do {
            let result = try await run(stage)
            await environment.tearDown(stage)
            return result
        } catch {
            await environment.tearDown(stage)
            throw error
        }
    }

    private func run(_ stage: BenchEnvironment.Stage) async throws -> Result {
        let fleet = stage.fleet
        try await fleet.start()
        let consumer = try await stage.observer.start(on: stage.observerConnection, desk: stage.deskConnection)
        defer { consumer.cancel() }
        await fleet.stop(["intake"])
        let publisher = ReportPublisher(connection: stage.connection)
        var next = 0
        while next < count {
            let end = min(count, next + 10_000)
            let chunk = (next..<end).map { stage.mix.message($0) }
            let published = await publisher.publish(chunk, schedule: nil)
            if published.failures > 0 { throw BenchError("\(published.failures) backlog reports were not confirmed") }
            next = end
        }
        environment.logger.notice("backlog of \(count) reports published")
        try await fleet.start(["intake"])
        let before = fleet.memory().mapValues { $0.rss }
        let started = PipelineObserver.now()
        var peak = before
        let sampler = Task {
            var peak: [String: Double] = [:]
            while !Task.isCancelled {
                for (product, m) in fleet.memory() { peak[product] = max(peak[product] ?? 0, m.rss) }
                try? await Task.sleep(for: .milliseconds(250))
            }
            return peak
        }
        let complete = await stage.observer.wait(for: "itr.ticket.assigned", count: count, timeout: .seconds(3600), stall: .seconds(120))
        let snapshot = stage.observer.snapshot
        let lastAssigned = snapshot.lastAssignedNanos ?? PipelineObserver.now()
        let drained = await BenchEnvironment.waitDrained(stage.connection, timeout: .seconds(600))
        let left = await BenchEnvironment.backlog(stage.connection)
        sampler.cancel()
        for (product, value) in await sampler.value { peak[product] = max(peak[product] ?? 0, value) }
        guard complete else {
            throw BenchError("backlog: \(snapshot.count("itr.ticket.assigned")) of \(count) tickets assigned; outcomes \(snapshot.counts)")
        }
        try await Task.sleep(for: .seconds(3))
        let after = fleet.memory()
        let seconds = BenchEnvironment.seconds(lastAssigned - started)
        return Result(
            reports: count, drainSeconds: seconds, drainEventsPerSecond: Double(count) / seconds, memoryBeforeMiB: before,
            memoryPeakMiB: peak, memoryHighWaterMiB: after.mapValues { $0.peak }, memoryAfterMiB: after.mapValues { $0.rss },
            outcomes: stage.observer.snapshot.counts, queuesDrained: drained, left: left)
    }
}
