import Foundation
import ITRCtlKit
import ITRTestSupport
import ServiceKit
import Testing

/// deploy/rabbitmq/definitions.json is what `itrctl topology export` prints.
@Suite struct DefinitionsFileTests {
    @Test func shippedFileIsTheGeneratedOne() throws {
        let path = TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/definitions.json")
        let shipped = try String(contentsOf: path, encoding: .utf8)
        #expect(shipped == (try RabbitDefinitions().rendered()), "regenerate: itrctl topology export > deploy/rabbitmq/definitions.json")
    }

    @Test func everyServiceQueueHasItsDeadLetterQueueAndBindings() throws {
        let definitions = RabbitDefinitions()
        let queues = Set(definitions.queues.map(\.name))
        for entry in ITRTopology.serviceQueues {
            #expect(queues.contains(entry.queue))
            #expect(queues.contains("\(entry.queue).dlq"))
            let queue = try #require(definitions.queues.first { $0.name == entry.queue })
            #expect(queue.arguments["x-queue-type"] == .string("quorum"))
            #expect(queue.arguments["x-dead-letter-exchange"] == .string("itr.dlx"))
            #expect(queue.arguments["x-dead-letter-routing-key"] == .string("\(entry.queue).dlq"))
            #expect(queue.arguments["x-delivery-limit"] == .integer(Int64(ITRTopology.defaultDeliveryLimit)))
            for binding in entry.bindings {
                #expect(definitions.bindings.contains {
                    $0.source == binding.exchange && $0.destination == entry.queue && $0.routingKey == binding.routingKey
                })
            }
        }
        #expect(Set(definitions.exchanges.map(\.name)) == ["itr.ingress", "itr.events", "itr.dlx", "itr.unrouted"])
        #expect(queues.contains("itr.unrouted"))
        #expect(queues.isSuperset(of: ["feed.defects", "feed.opportunities", "itr.rejected"]))
    }

    @Test func roundTripsThroughJSON() throws {
        let definitions = RabbitDefinitions()
        let decoded = try RabbitDefinitions.decode(Data(try definitions.rendered().utf8))
        #expect(decoded == definitions)
    }
}
