import AMQPClient
import Foundation
import Histogram

/// The whole pipeline, four services as separate processes on a fresh vhost:
///
/// 1. saturation: `count` reports published to `itr.ingress` as fast as confirms allow;
///    reports/s from the first publish to the last `itr.ticket.assigned`, and pipeline events/s:
///    the events the services published on `itr.events` (every type the observer binds:
///    opened, classified, assigned, opportunity, problem, defect, resolved...) from the first
///    publish to the last of them observed;
/// 2. latency: report published → `itr.ticket.classified` at `loadShare` (50 %) of that rate
///    for `latencySeconds`, paced by schedule, measured from each report's scheduled send time
///    (no coordinated omission), HdrHistogram p50 / p99 / p99.9;
/// 3. resident memory of each service at steady state (after the latency run, queues drained)
///    and its peak (VmHWM), each summed over the service's instances (`--instances 2`).
struct PipelineBenchmark {
    var environment: BenchEnvironment
    var count: Int
    var warmup = 500
    var loadShare = 0.5
    var latencySeconds = 20.0
    /// A fixed rate (reports/s) for the latency run instead of `loadShare` of the measured
    /// saturation, to compare two builds at the same load on a machine whose saturation drifts.
    var latencyRate: Double?
    /// The services started (all four by default; fewer only to find out where time goes).
    var services = ServiceFleet.products

    struct Result: Codable, Sendable {
        var benchmark = "pipeline"
        var reports: Int
        /// Reports per second, first publish → last `itr.ticket.assigned`.
        var reportsPerSecond: Double
        /// Events the services published on `itr.events` during the saturation run (observed).
        var pipelineEvents: Int
        /// `pipelineEvents` per second, first publish → last event observed.
        var pipelineEventsPerSecond: Double
        var secondsToLastEvent: Double
        var publishPerSecond: Double
        var secondsToLastAssigned: Double
        var secondsToDrained: Double?
        var outcomes: [String: Int]
        var latency: LatencySummary
        var memorySteadyMiB: [String: Double]
        var memoryPeakMiB: [String: Double]
        var cpuSecondsPerThousandReports: [String: Double]
        var logLevel: String
        var services: [String]
        /// Processes per service (memory and CPU are summed over them).
        var instances: Int
        /// `SQLite` or `PostgreSQL (...)`.
        var store: String
    }

    static let warmupBase = 10_000_000
    static let pacedBase = 20_000_000

    /// Publishes at `rate` for `latencySeconds` and returns report → classified latencies.
    func measureLatency(_ stage: BenchEnvironment.Stage, publisher: ReportPublisher, rate: Double) async throws -> LatencySummary {
        let observer = stage.observer
        let count = max(100, Int(rate * latencySeconds))
        let messages = (0..<count).map { stage.mix.message(Self.pacedBase + $0) }
        observer.reset()
        let schedule = PipelineObserver.Schedule(
            startNanos: PipelineObserver.now() + 20_000_000, intervalNanos: UInt64(1e9 / rate), firstIndex: Self.pacedBase)
        observer.measureLatency(schedule)
        let published = await publisher.publish(messages, schedule: schedule)
        if published.failures > 0 { throw BenchError("\(published.failures) paced reports were not confirmed") }
        let complete = await observer.wait(for: "itr.ticket.classified", count: count, timeout: .seconds(600))
        let snapshot = observer.snapshot
        guard complete else {
            throw BenchError("latency: \(snapshot.count("itr.ticket.classified")) of \(count) tickets classified")
        }
        _ = await observer.wait(for: "itr.ticket.assigned", count: count, timeout: .seconds(120))
        return LatencySummary(snapshot.latency, rate: rate, count: count, publisherMaxLagMicros: published.maxLagMicros)
    }

    func run() async throws -> Result {
        let stage = try await environment.makeStage("pipeline")
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
        try await fleet.start(services)
        let consumer = try await stage.observer.start(on: stage.observerConnection, desk: stage.deskConnection)
        defer { consumer.cancel() }
        let publisher = ReportPublisher(connection: stage.connection)
        let mix = stage.mix
        let observer = stage.observer

        // Warm-up (not measured): caches, SQLite pages, connections.
        let warmMessages = (0..<warmup).map { mix.message(Self.warmupBase + $0) }
        _ = await publisher.publish(warmMessages, schedule: nil)
        _ = await observer.wait(for: "itr.ticket.assigned", count: warmup, timeout: .seconds(300))
        _ = await BenchEnvironment.waitDrained(stage.connection, timeout: .seconds(120))
        observer.reset()

        // 1. Saturation.
        let messages = (0..<count).map { mix.message($0) }
        let cpuBefore = Dictionary(uniqueKeysWithValues: ServiceFleet.products.map { ($0, fleet.cpuSeconds($0)) })
        let published = await publisher.publish(messages, schedule: nil)
        if published.failures > 0 { throw BenchError("\(published.failures) reports were not confirmed") }
        let complete = await observer.wait(for: "itr.ticket.assigned", count: count, timeout: .seconds(1800))
        let snapshot = observer.snapshot
        guard complete, let last = snapshot.lastAssignedNanos else {
            throw BenchError(
                "saturation: \(snapshot.count("itr.ticket.assigned")) of \(count) tickets assigned; outcomes \(snapshot.counts); backlog \(await BenchEnvironment.backlog(stage.connection))")
        }
        let toAssigned = BenchEnvironment.seconds(last - published.firstNanos)
        let drained = await BenchEnvironment.waitDrained(stage.connection, timeout: .seconds(600))
        let toDrained = drained ? BenchEnvironment.seconds(PipelineObserver.now() - published.firstNanos) : nil
        var cpu: [String: Double] = [:]
        for product in services {
            cpu[product] = (fleet.cpuSeconds(product) - (cpuBefore[product] ?? 0)) * 1000 / Double(count)
        }
        let rate = Double(count) / toAssigned
        try await Task.sleep(for: .seconds(1))
        let after = observer.snapshot
        let outcomes = after.counts
        let toLastEvent = BenchEnvironment.seconds((after.lastEventNanos ?? last) - published.firstNanos)
        environment.logger.notice("saturation: \(Int(rate)) reports/s")

        // 2. Latency at loadShare of saturation, paced by schedule.
        let latency = try await measureLatency(stage, publisher: publisher, rate: latencyRate ?? rate * loadShare)

        // 3. Memory at steady state.
        _ = await BenchEnvironment.waitDrained(stage.connection, timeout: .seconds(300))
        try await Task.sleep(for: .seconds(2))
        let memory = fleet.memory()
        return Result(
            reports: count, reportsPerSecond: rate, pipelineEvents: after.events,
            pipelineEventsPerSecond: Double(after.events) / toLastEvent, secondsToLastEvent: toLastEvent,
            publishPerSecond: Double(count) / BenchEnvironment.seconds(published.lastNanos - published.firstNanos),
            secondsToLastAssigned: toAssigned, secondsToDrained: toDrained, outcomes: outcomes, latency: latency,
            memorySteadyMiB: memory.mapValues { $0.rss }, memoryPeakMiB: memory.mapValues { $0.peak },
            cpuSecondsPerThousandReports: cpu, logLevel: environment.logLevel, services: services,
            instances: fleet.instances, store: environment.storeDescription)
    }
}
