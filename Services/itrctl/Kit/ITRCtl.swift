import ArgumentParser

/// `itrctl`: the ITR operations tool.
public struct ITRCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "itrctl",
        abstract: "Operate an ITR installation: health, queues, dead letters, tickets, configuration, sample data.",
        discussion: """
            Every command finds the broker in AMQP_URL (or --amqp-url) and the services
            on 127.0.0.1, ports 8080-8083 (or --host, --intake-url, --router-url, ...).
            Add --json to any command for output that scripts can read.

            First steps:
              itrctl status                          is everything up? queue depths?
              itrctl dlq list                        dead letters waiting, per queue
              itrctl dlq show itr-router.inbox.dlq   what is in one, and why
              itrctl ticket show T-20261123-000042   a ticket's state, clocks and history
              itrctl config validate deploy/config   check rule files before shipping them
              itrctl sample --replay --summary       replay a sample day, then summarise
              itrctl summary                         what happened: tickets, SLA, defects
              itrctl classifier eval FILE.jsonl      how well the service-type model does
            """,
        subcommands: [
            StatusCommand.self, DLQCommand.self, TicketCommand.self, ConfigCommand.self, SampleCommand.self,
            SummaryCommand.self, TopologyCommand.self, ClassifierCommand.self,
        ])

    public init() {}
}

extension ITRCtl {
    /// Parses `CommandLine.arguments` and runs the chosen command (what `@main` on an
    /// AsyncParsableCommand does; called from the thin executable).
    public static func entry(_ arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
