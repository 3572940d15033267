import ArgumentParser
import Foundation
import ServiceKit

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "The broker topology the services declare.",
        subcommands: [Export.self, Users.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the RabbitMQ definitions file (exchanges, queues, bindings) of the whole ITR topology.",
            discussion: """
                Generated from the same data the services declare at start-up (ServiceKit.ITRTopology),
                so deploy/rabbitmq/definitions.json never drifts:

                  itrctl topology export > deploy/rabbitmq/definitions.json

                Users are not included: see `itrctl topology users`.
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

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the broker users and their rights (RabbitMQ definitions, no passwords).",
            discussion: """
                One user per service (its product name) and per outside role (itr-desk, itr-upstream,
                itr-rnd, itr-sales), with the configure/write/read patterns and topic permissions
                derived from the topology (ServiceKit.BrokerUsers):

                  itrctl topology users > deploy/rabbitmq/users.json

                deploy/scripts/broker.sh start creates them on a local broker; deploy/scripts/secrets.sh
                adds their password_hash for docker-compose.yml.
                """)
        @Option(help: "Virtual host of the definitions.") var vhost = "/"

        func run() async throws {
            print(try BrokerUsers.definitionsJSON(vhost: vhost), terminator: "")
        }
    }
}
