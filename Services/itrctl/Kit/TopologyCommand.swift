import ArgumentParser
import Foundation

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "The broker topology the services declare.",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the RabbitMQ definitions file (exchanges, queues, bindings) of the whole ITR topology.",
            discussion: """
                Generated from the same data the services declare at start-up (ServiceKit.ITRTopology),
                so deploy/rabbitmq/definitions.json never drifts:

                  itrctl topology export > deploy/rabbitmq/definitions.json

                Users are not included: the broker's user comes from the deployment's secrets.
                """)
        @Option(help: "Virtual host of the definitions.") var vhost = "/"
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            let text = try RabbitDefinitions(vhost: vhost).rendered()
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                print(text, terminator: "")
            }
        }
    }
}
