import AMQPClient
import Foundation
import ITRCtlKit
import ITRTestSupport
import Logging
import ServiceKit
import Testing

/// The shipped definitions file is exactly what the services declare: declare
/// `ITRTopology.all` on a fresh virtual host, export the broker's definitions, compare.
@Suite(.enabled(if: TestEnvironment.brokerTestsEnabled))
struct DefinitionsBrokerTests {
    @Test func exportedTopologyMatchesTheShippedFile() async throws {
        let url = try await TestEnvironment.makeVhost("itrctl-defs")
        let vhost = try #require(url.split(separator: "/").last.flatMap { String($0).removingPercentEncoding })
        defer { Task { await TestEnvironment.deleteVhost(url: url) } }

        // What the four services declare at start-up, each its own part.
        let connection = try await AMQPConnection.connect(try AMQPConfiguration(url: url), logger: Logger(label: "test"))
        for entry in ITRTopology.serviceQueues {
            try await connection.declare(ITRTopology.topology(for: entry.product))
        }
        await connection.close()

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itr-defs-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        // rabbitmqctl runs as the broker's user: let it write the file. RabbitMQ 3.10's export
        // walks every vhost's runtime parameters and can crash (badarg in
        // runtime_parameter_definition) while other tests create and delete vhosts on the same
        // node at that moment: try again a few times before giving up.
        var attempt = 0
        while true {
            do {
                try await TestEnvironment.brokerNode.ctl("export_definitions", file.path)
                break
            } catch {
                attempt += 1
                if attempt >= 5 { throw error }
                try await Task.sleep(for: .seconds(2))
            }
        }
        let exported = try RabbitDefinitions.decode(Data(contentsOf: file)).restricted(to: vhost, renamedTo: "/")

        let shipped = try RabbitDefinitions.decode(
            Data(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/definitions.json")))
            .restricted(to: "/", renamedTo: "/")
        #expect(exported.exchanges == shipped.exchanges)
        #expect(exported.queues == shipped.queues)
        #expect(exported.bindings == shipped.bindings)
        #expect(!exported.queues.isEmpty)
        await TestEnvironment.deleteVhost(url: url)
    }
}
