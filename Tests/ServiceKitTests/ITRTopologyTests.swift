import AMQPClient
import Testing

@testable import ServiceKit

@Suite struct ITRTopologyTests {
    @Test func sharedTopology() throws {
        let shared = ITRTopology.shared
        #expect(Set(shared.exchanges.map(\.name)) == ["itr.ingress", "itr.events", "itr.dlx", "itr.unrouted"])
        let topic = shared.exchanges.filter { $0.name != "itr.unrouted" }
        #expect(topic.allSatisfy { $0.type == .topic && $0.durable })
        // What no binding takes is kept, not confirmed and lost: every exchange has the alternate.
        #expect(topic.allSatisfy { $0.arguments["alternate-exchange"] == .string("itr.unrouted") })
        #expect(shared.exchanges.contains { $0.name == "itr.unrouted" && $0.type == .fanout && $0.durable })
        let unrouted = try #require(shared.queues.first { $0.name == "itr.unrouted" })
        #expect(unrouted.arguments["x-queue-type"] == .string("stream"))
        #expect(unrouted.arguments["x-max-age"] == .string("7D"))
        #expect(shared.bindings.contains(AMQPBinding(queue: "itr.unrouted", exchange: "itr.unrouted", routingKey: "")))
        // Kept input is bounded and refused past the bound (the publisher parks), never dropped.
        let rejected = try #require(shared.queues.first { $0.name == "itr.rejected" })
        #expect(rejected.arguments["x-overflow"] == .string("reject-publish"))
        #expect(rejected.arguments["x-max-length"]?.intValue == Int64(ITRTopology.keptQueueMaximumLength))
        let queues = Dictionary(uniqueKeysWithValues: shared.queues.map { ($0.name, $0) })
        for name in ["feed.defects", "feed.opportunities", "itr.rejected"] {
            #expect(queues[name]?.durable == true)
            #expect(queues[name]?.arguments["x-queue-type"] == .string("quorum"))
        }
        #expect(shared.bindings.contains(AMQPBinding(queue: "feed.defects", exchange: "itr.events", routingKey: "itr.defect.#")))
        #expect(
            shared.bindings.contains(
                AMQPBinding(queue: "feed.opportunities", exchange: "itr.events", routingKey: "itr.opportunity.#")))
    }

    @Test func serviceQueueDeadLettersToItsDLQ() throws {
        let topology = ITRTopology.serviceQueue(name: "itr-router.inbox", bindings: [("itr.ingress", "ticket.#")])
        let queue = try #require(topology.queues.first { $0.name == "itr-router.inbox" })
        #expect(queue.arguments["x-queue-type"] == .string("quorum"))
        #expect(queue.arguments["x-delivery-limit"]?.intValue == 5)
        #expect(queue.arguments["x-dead-letter-exchange"] == .string("itr.dlx"))
        #expect(queue.arguments["x-dead-letter-routing-key"] == .string("itr-router.inbox.dlq"))
        #expect(queue.arguments["x-dead-letter-strategy"] == .string("at-least-once"))
        #expect(queue.arguments["x-overflow"] == .string("reject-publish"), "at-least-once dead-lettering needs it")
        let dlq = try #require(topology.queues.first { $0.name == "itr-router.inbox.dlq" })
        #expect(dlq.arguments["x-overflow"] == .string("reject-publish") && dlq.arguments["x-max-length"] != nil)
        #expect(topology.bindings.contains(AMQPBinding(queue: "itr-router.inbox", exchange: "itr.ingress", routingKey: "ticket.#")))
        #expect(
            topology.bindings.contains(
                AMQPBinding(queue: "itr-router.inbox.dlq", exchange: "itr.dlx", routingKey: "itr-router.inbox.dlq")))
    }

    @Test func allFourServices() {
        let all = ITRTopology.all
        let names = Set(all.queues.map(\.name))
        for queue in ["intake.reports", "itr-router.inbox", "ltc-extractor.inbox", "ipd-feedback.inbox"] {
            #expect(names.contains(queue))
            #expect(names.contains(queue + ".dlq"))
        }
        #expect(ITRTopology.queueName(of: "ltc-extractor") == "ltc-extractor.inbox")
        // Every binding refers to a declared queue and exchange.
        let exchanges = Set(all.exchanges.map(\.name))
        #expect(all.bindings.allSatisfy { names.contains($0.queue) && exchanges.contains($0.exchange) })
        #expect(Set(all.queues.map(\.name)).count == all.queues.count)
        #expect(ITRTopology.topology(for: "intake").queues.contains { $0.name == "intake.reports" })
    }
}
