import AMQPClient
import ArgumentParser
import Foundation

struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "What happened: reports, tickets, SLA/OLA, escalations, problems, opportunities, defects.",
        discussion: """
            Computed from the services' HTTP endpoints (itr-router /v1/service-levels,
            ltc-extractor /v1/opportunities, ipd-feedback /v1/defects), their /metrics
            and the broker's queues. With --wait, first waits until every service queue
            is empty (the system has caught up), at most that many seconds.
            """)

    @Option(help: "Wait up to this many seconds for the services' queues to drain first.") var wait = 0
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let amqp = try? await connection.connect()
        if wait > 0, let amqp {
            let drained = try await QueueDrain.wait(on: amqp, timeout: .seconds(wait)) { message in
                if !output.json { print("  \(message)") }
            }
            if !drained, !output.json { print("  queues still busy after \(wait)s; summarising anyway") }
        }
        let report = await SummaryReport.collect(endpoints: connection.endpoints, connection: amqp)
        await amqp?.close()
        if output.json { Console.printJSON(report) } else { print(report.text) }
    }
}

/// Waiting until the services have caught up.
public enum QueueDrain {
    /// True once every service queue has been empty on three checks in a row (0.5 s apart).
    public static func wait(
        on connection: AMQPConnection, timeout: Duration, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        let names = QueueInventory.queueNames.filter { QueueInventory.kind(of: $0) == .service }
        var quiet = 0
        var lastReport = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let reports = await QueueInventory.inspect(names, on: connection)
            let waiting = reports.reduce(0) { $0 + ($1.messages ?? 0) }
            quiet = waiting == 0 ? quiet + 1 : 0
            if quiet >= 3 { return true }
            if ContinuousClock.now - lastReport > .seconds(5) {
                lastReport = .now
                progress("waiting for the services: \(waiting) messages in their queues")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}
