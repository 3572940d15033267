import Foundation
import Histogram
import ITREvents
import Synchronization

/// intake's `POST /v1/reports` under load from 127.0.0.1: `connections` keep-alive connections,
/// each a thread sending one request after the other (closed loop: the figure is the
/// saturation throughput, and the latency is per request at that load), for single reports
/// (binary mode) and for batches (`application/cloudevents-batch+json`). Requests are built
/// before the clock starts; each report has an id of its own, so every one opens a ticket.
/// Only intake runs (its outbox relay publishes `itr.ticket.opened` to the broker as it would).
struct HTTPIntakeBenchmark {
    var environment: BenchEnvironment
    var connections = 4
    var seconds = 10.0
    var batchSize = 50
    var maxSingles = 60_000
    var maxBatches = 3_000

    struct Run: Codable, Sendable {
        var mode: String
        var requests: Int
        var reports: Int
        var requestsPerSecond: Double
        var reportsPerSecond: Double
        var statuses: [String: Int]
        var errors: Int
        var latency: LatencySummary
    }

    struct Result: Codable, Sendable {
        var benchmark = "http"
        var connections: Int
        var single: Run
        var batch: Run
        var intakeMemoryMiB: Double?
    }

    func run() async throws -> Result {
        let stage = try await environment.makeStage("http")
        do {
            try await stage.fleet.start(["intake"])
            let port = stage.fleet.port("intake")
            let mix = stage.mix
            // Warm-up.
            _ = try await load(port: port, requests: (0..<500).map { request(mix.event(1_000_000 + $0).event) }, reports: 1, mode: "warm-up", seconds: 5)
            let singles = (0..<maxSingles).map { request(mix.event($0).event) }
            let single = try await load(port: port, requests: singles, reports: 1, mode: "single", seconds: seconds)
            let batches = (0..<maxBatches).map { b in
                batchRequest((0..<batchSize).map { mix.event(5_000_000 + b * batchSize + $0).event })
            }
            let batch = try await load(port: port, requests: batches, reports: batchSize, mode: "batch of \(batchSize)", seconds: seconds)
            let memory = stage.fleet.memory()["intake"]?.rss
            await environment.tearDown(stage)
            return Result(connections: connections, single: single, batch: batch, intakeMemoryMiB: memory)
        } catch {
            await environment.tearDown(stage)
            throw error
        }
    }

    func request(_ event: CloudEvent) -> [UInt8] {
        let (headers, body) = HTTPCloudEventCodec.encodeBinary(event)
        return Self.http(headers: headers, body: body)
    }

    func batchRequest(_ events: [CloudEvent]) -> [UInt8] {
        let (headers, body) = HTTPCloudEventCodec.encodeBatch(events)
        return Self.http(headers: headers, body: body)
    }

    static func http(headers: [String: String], body: Data) -> [UInt8] {
        var head = "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(ServiceFleet.apiToken)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + Array(body)
    }

    /// Sends `requests` over `connections` connections until they run out or `seconds` pass.
    func load(port: Int, requests: [[UInt8]], reports: Int, mode: String, seconds: Double) async throws -> Run {
        let next = RequestCursor()
        let deadline = PipelineObserver.now() + UInt64(seconds * 1e9)
        let shared = requests
        let results = await withTaskGroup(of: Worker.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Worker, Never>) in
                        let thread = Thread {
                            var worker = Worker()
                            var connection: HTTPConnection?
                            while PipelineObserver.now() < deadline {
                                let i = next.take()
                                if i >= shared.count { break }
                                let started = PipelineObserver.now()
                                do {
                                    if connection == nil { connection = try HTTPConnection(port: port) }
                                    let (status, _) = try connection!.send(shared[i])
                                    worker.statuses["\(status)", default: 0] += 1
                                    if (200..<300).contains(status) { worker.ok += 1 }
                                } catch {
                                    worker.errors += 1
                                    connection = nil
                                }
                                let ended = PipelineObserver.now()
                                _ = worker.histogram.record(max(1, (ended - started) / 1000))
                                worker.first = min(worker.first, started)
                                worker.last = max(worker.last, ended)
                            }
                            continuation.resume(returning: worker)
                        }
                        thread.start()
                    }
                }
            }
            var all: [Worker] = []
            for await worker in group { all.append(worker) }
            return all
        }
        var histogram = Worker().histogram
        var statuses: [String: Int] = [:]
        var errors = 0
        var first = UInt64.max
        var last: UInt64 = 0
        for worker in results {
            histogram.add(worker.histogram)
            statuses.merge(worker.statuses, uniquingKeysWith: +)
            errors += worker.errors
            first = min(first, worker.first)
            last = max(last, worker.last)
        }
        let count = Int(histogram.totalCount)
        let elapsed = max(1e-9, BenchEnvironment.seconds(last &- first))
        let rate = Double(count) / elapsed
        let run = Run(
            mode: mode, requests: count, reports: count * reports, requestsPerSecond: rate,
            reportsPerSecond: rate * Double(reports), statuses: statuses, errors: errors,
            latency: LatencySummary(histogram, rate: rate, count: count))
        environment.logger.notice("http \(mode): \(Int(rate)) requests/s, \(run.latency.line), statuses \(statuses)")
        return run
    }

    /// The index of the next request to send, shared by the connections' threads.
    final class RequestCursor: Sendable {
        private let value = Atomic<Int>(0)
        func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    }

    struct Worker: Sendable {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var statuses: [String: Int] = [:]
        var ok = 0
        var errors = 0
        var first = UInt64.max
        var last: UInt64 = 0
    }
}
