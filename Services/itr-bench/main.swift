import Foundation
import Logging

// itr-bench: the project's performance benchmarks (not tests; figures are printed, never asserted).
//
//   itr-bench stage        [--count N] [--url AMQP_URL]   one pipeline stage with this client (msg/s)
//   itr-bench pipeline     [--count N] [--seconds S]      the four services: saturation, latency at 50 %, steady RSS
//                          [--services intake,itr-router]  (a subset, only to find out where time goes)
//                          [--latency-rate R]             latency at R reports/s instead of 50 % of saturation
//                          [--instances N]                N = 1 or 2 processes per service (2 needs --postgres:
//                                                         they share its database, as run.sh's ha profile does);
//                                                         RSS steady and peak (VmHWM) summed over a service's instances
//   itr-bench backlog      [--count N]                    RSS while a backlog of N reports drains
//   itr-bench router-scale [--stored N,M] [--count N] [--clocks N]  router cost vs stored tickets; SLA scheduler
//   itr-bench http         [--seconds S] [--connections C] [--batch B]  intake's POST /v1/reports
//   itr-bench store        [--seconds S] [--concurrency C] [--database-url URL]  the storage each event costs (inbox
//                          claim + outbox row, one transaction): SQLite, and PostgreSQL with one and two instances
//   itr-bench classifier   [--seconds S]                  the service-type classifier, no broker: accuracy of the
//                          shipped model (eval split, outside set, families held out), the previous keyword
//                          rules → rules + model, model load, memory and µs per report (S s of timing, 2)
//
// Common options: --bin DIR (built services; default: this executable's directory),
// --config DIR (deploy/config), --broker-script PATH (deploy/scripts/broker.sh),
// --broker-name NODE (the broker.sh node on --url; default $ITR_BROKER_NAME or itr),
// --port N (first HTTP port of the fleet, default 18080), --log-level LEVEL (services; info),
// --json PATH (write the result), --keep (keep the services' data and logs),
// --postgres NAME (pipeline, backlog: the services store in PostgreSQL, a
// database of each stage's own on the postgres.sh cluster NAME, instead of SQLite).
//
// deploy/scripts/bench.sh builds everything in release mode, runs these beside the C and Python
// baselines of ../shared/bench and prints one table.

let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "help"

func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("itr-bench \(command) failed: \(message)\n".utf8))
    exit(1)
}

var logger = Logger(label: "itr-bench")
logger.logLevel = arguments.contains("--verbose") ? .notice : .warning
let environmentVariables = ProcessInfo.processInfo.environment
let url = option("--url") ?? environmentVariables["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"
let root = FileManager.default.currentDirectoryPath
let executableDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

var environment = BenchEnvironment(
    binDirectory: option("--bin") ?? executableDirectory,
    configDirectory: option("--config") ?? "\(root)/deploy/config",
    brokerScript: option("--broker-script") ?? "\(root)/deploy/scripts/broker.sh",
    brokerNode: option("--broker-name") ?? environmentVariables["ITR_BROKER_NAME"] ?? "itr",
    baseURL: url, basePort: Int(option("--port") ?? "") ?? 18080, logLevel: option("--log-level") ?? "info",
    keepWork: arguments.contains("--keep"), logger: logger, postgresCluster: option("--postgres"))

let usage = """
    usage: itr-bench stage|pipeline|backlog|router-scale|http|store|classifier [options]
      stage         consume → decode CloudEvent → re-encode → publish with confirms → ack, on stage.in/stage.out
      pipeline      the four services: saturation reports/s, latency report → classified at 50 %, RSS steady and peak
                    [--count N] [--seconds S] [--warmup N] [--latency-rate R] [--services a,b]
                    [--postgres NAME] [--instances 1|2] (2: two processes per service on one PostgreSQL database)
      backlog       RSS of each service while a backlog of --count reports (100000) drains
      router-scale  the router's per-event cost with --stored 10000,1000000 tickets; SLA scheduler with --clocks 100000
      http          intake's POST /v1/reports: requests/s and latency, single reports and batches
      store         the storage each event costs (inbox claim + outbox row per transaction): SQLite, PostgreSQL 1 and 2 instances
      classifier    the service-type classifier (no broker): accuracy, keyword rules → rules + model, load, memory, µs/report
    common: --bin DIR --config DIR --broker-script PATH --broker-name NODE --url AMQP_URL --port N
            --log-level LEVEL --json PATH --keep --verbose (see the header of Services/itr-bench/main.swift)
    """

if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}

if let instances = option("--instances") {
    guard let n = Int(instances), n == 1 || n == 2 else { fail("--instances takes 1 or 2, got \(instances)") }
    guard command == "pipeline" else { fail("--instances is a pipeline option") }
    if n == 2, environment.postgresCluster == nil {
        fail("--instances 2 needs --postgres NAME: two instances share one database, and SQLite cannot be shared")
    }
    environment.instances = n
}

func write<T: Encodable>(_ result: T) {
    guard let path = option("--json") else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(result).write(to: URL(fileURLWithPath: path))
    } catch {
        fail("writing \(path): \(error)")
    }
}

func mib(_ values: [String: Double]) -> String {
    values.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", ")
}

switch command {
case "stage":
    let count = Int(option("--count") ?? "") ?? 50_000
    do {
        let rate = try await StageBenchmark(url: url, count: count, logger: logger).run()
        print("swift stage: \(Int(rate.rounded())) msg/s over \(count) messages (prefetch 256)")
    } catch {
        fail("\(error)")
    }
case "pipeline":
    var benchmark = PipelineBenchmark(environment: environment, count: Int(option("--count") ?? "") ?? 20_000)
    if let s = option("--seconds").flatMap(Double.init) { benchmark.latencySeconds = s }
    if let w = option("--warmup").flatMap(Int.init) { benchmark.warmup = w }
    if let r = option("--latency-rate").flatMap(Double.init) { benchmark.latencyRate = r }
    if let s = option("--services") { benchmark.services = s.split(separator: ",").map(String.init) }
    do {
        let r = try await benchmark.run()
        print("pipeline store: \(environment.storeDescription), \(r.instances) instance\(r.instances == 1 ? "" : "s") per service")
        print("pipeline: \(Int(r.reportsPerSecond.rounded())) reports/s over \(r.reports) reports (first publish → last itr.ticket.assigned)")
        print("pipeline: \(Int(r.pipelineEventsPerSecond.rounded())) events/s: \(r.pipelineEvents) events published by the services on itr.events (first publish → last event observed)")
        print("pipeline latency report → classified: \(r.latency.line)")
        print("pipeline steady RSS MiB: \(mib(r.memorySteadyMiB))")
        print("pipeline peak RSS MiB (VmHWM, summed over instances): \(mib(r.memoryPeakMiB))")
        print("pipeline outcomes: \(r.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        write(r)
    } catch {
        fail("\(error)")
    }
case "backlog":
    let benchmark = BacklogBenchmark(environment: environment, count: Int(option("--count") ?? "") ?? 100_000)
    do {
        let r = try await benchmark.run()
        print("backlog: \(r.reports) reports drained in \(String(format: "%.1f", r.drainSeconds)) s (\(Int(r.drainEventsPerSecond)) reports/s)")
        print("backlog RSS MiB before: \(mib(r.memoryBeforeMiB))")
        print("backlog RSS MiB peak:   \(mib(r.memoryPeakMiB))")
        print("backlog RSS MiB after:  \(mib(r.memoryAfterMiB))")
        write(r)
    } catch {
        fail("\(error)")
    }
case "router-scale":
    if environment.postgresCluster != nil { fail("router-scale seeds the router's SQLite file: it does not take --postgres") }
    var benchmark = RouterScaleBenchmark(environment: environment)
    if let stored = option("--stored") { benchmark.storedSizes = stored.split(separator: ",").compactMap { Int($0) } }
    if let n = option("--count").flatMap(Int.init) { benchmark.count = n }
    if let n = option("--clocks").flatMap(Int.init) { benchmark.openClocks = n }
    if let n = option("--templates").flatMap(Int.init) { benchmark.templates = n }
    do {
        let r = try await benchmark.run()
        for s in r.sizes {
            print("router with \(s.storedTickets) stored tickets: \(String(format: "%.1f", s.wallMicrosPerEvent)) µs/event wall, \(String(format: "%.1f", s.cpuMicrosPerEvent)) µs/event CPU")
        }
        if let c = r.scheduler {
            print("SLA scheduler with \(c.openClocks) open clocks: idle \(String(format: "%.2f", c.idleCPUPercent)) % CPU; \(c.fired) due moments in \(String(format: "%.2f", c.fireSeconds)) s")
        }
        write(r)
    } catch {
        fail("\(error)")
    }
case "http":
    var benchmark = HTTPIntakeBenchmark(environment: environment)
    if let s = option("--seconds").flatMap(Double.init) { benchmark.seconds = s }
    if let c = option("--connections").flatMap(Int.init) { benchmark.connections = c }
    if let b = option("--batch").flatMap(Int.init) { benchmark.batchSize = b }
    do {
        let r = try await benchmark.run()
        print("http single: \(Int(r.single.requestsPerSecond)) requests/s; \(r.single.latency.line); statuses \(r.single.statuses)")
        print("http batch:  \(Int(r.batch.requestsPerSecond)) requests/s = \(Int(r.batch.reportsPerSecond)) reports/s; \(r.batch.latency.line); statuses \(r.batch.statuses)")
        write(r)
    } catch {
        fail("\(error)")
    }
case "store":
    var benchmark = StoreBenchmark(logger: logger)
    if let s = option("--seconds").flatMap(Double.init) { benchmark.seconds = s }
    if let c = option("--concurrency").flatMap(Int.init) { benchmark.concurrency = max(1, c) }
    benchmark.postgresURL = option("--database-url") ?? environmentVariables["ITR_BENCH_DATABASE_URL"] ?? environmentVariables["DATABASE_URL"]
    do {
        let runs = try await benchmark.run()
        for r in runs {
            print("store \(r.engine) (\(r.instances) instance\(r.instances == 1 ? "" : "s"), \(benchmark.concurrency) tasks): \(Int(r.transactionsPerSecond.rounded())) transactions/s (inbox claim + outbox row); \(r.latency.line)")
        }
        if benchmark.postgresURL == nil { print("store postgresql: not run (give --database-url or $ITR_BENCH_DATABASE_URL)") }
        write(runs)
    } catch {
        fail("\(error)")
    }
case "classifier":
    var benchmark = ClassifierBenchmark(configDirectory: environment.configDirectory, root: root)
    if let s = option("--seconds").flatMap(Double.init) { benchmark.seconds = s }
    do {
        let measured = try benchmark.run()
        print(measured.report)
        write(measured.result)
    } catch {
        fail("\(error)")
    }
default:
    print(usage)
}
