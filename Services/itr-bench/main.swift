import Foundation
import Logging

// itr-bench: the project's performance benchmarks (not tests; figures are printed, never asserted).
//
//   itr-bench stage [--count N] [--url AMQP_URL]   one pipeline stage with this client (msg/s)
//
// deploy/scripts/bench.sh runs it in release mode beside the C and Python baselines of
// ../shared/bench and prints the ratios.

let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "help"

func option(_ name: String) -> String? {
    let args = Array(CommandLine.arguments.dropFirst())
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

var logger = Logger(label: "itr-bench")
logger.logLevel = .warning
let url = option("--url") ?? ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"

switch command {
case "stage":
    let count = Int(option("--count") ?? "") ?? 50_000
    do {
        let rate = try await StageBenchmark(url: url, count: count, logger: logger).run()
        print("swift stage: \(Int(rate.rounded())) msg/s over \(count) messages (prefetch 256)")
    } catch {
        FileHandle.standardError.write(Data("itr-bench stage failed: \(error)\n".utf8))
        exit(1)
    }
default:
    print("""
    usage: itr-bench stage [--count N] [--url AMQP_URL]
      stage   consume → decode CloudEvent → re-encode → publish with confirms → ack, on stage.in/stage.out
    """)
}
