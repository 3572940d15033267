import ArgumentParser
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the services' health and readiness, and every queue's depth, consumers and dead letters.",
        discussion: """
            Asks each service GET /healthz and /readyz, and inspects every queue of the ITR topology on
            the broker (messages ready, consumers). Exits with status 1 when a service is not ready or
            the broker is unreachable, so scripts can wait on it.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let options = connection
        let report = await StatusReport.collect(
            endpoints: options.endpoints, amqp: { try await options.connect() }, brokerURL: redacted(options.resolvedAMQPURL))
        if output.json { Console.printJSON(report) } else { print(report.text) }
        if !report.ok { throw ExitCode(1) }
    }
}

/// The URL without its password.
func redacted(_ url: String) -> String {
    guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
    let credentials = url[scheme.upperBound..<at]
    guard let colon = credentials.firstIndex(of: ":") else { return url }
    return String(url[..<colon]) + ":***" + String(url[at...])
}
