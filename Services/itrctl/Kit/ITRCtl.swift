import ArgumentParser

/// `itrctl`: the ITR operations tool.
public struct ITRCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "itrctl",
        abstract: "Operate an ITR installation: health, queues, dead letters, tickets, configuration, sample data.",
        discussion: """
            Every command reads the broker from AMQP_URL (or --amqp-url) and finds the services on
            127.0.0.1 ports 8080-8083 unless told otherwise (--host, --intake-url, ...). Add --json to
            any command for machine-readable output.

            First steps:
              itrctl status                      is everything up? how full are the queues?
              itrctl dlq list                    which dead-letter queues hold messages?
              itrctl dlq show itr-router.inbox.dlq   what is in one, and why it was dead-lettered
              itrctl ticket show TKT-...         a ticket's state, clocks and history
              itrctl config validate deploy/config   check rule files before shipping them
              itrctl sample --replay             replay a sample day through the real entry points
              itrctl summary                     what happened: tickets, SLA, problems, opportunities, defects
            """,
        subcommands: [
            StatusCommand.self, DLQCommand.self, TicketCommand.self, ConfigCommand.self, SampleCommand.self,
            SummaryCommand.self, TopologyCommand.self,
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
