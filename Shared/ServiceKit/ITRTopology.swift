import AMQPClient

/// The broker topology of the ITR services, as data: what each service declares at start-up,
/// what `itrctl` exports as a RabbitMQ definitions file.
public enum ITRTopology {
    /// Each service's own queue and the routing keys it binds on which exchange.
    public struct ServiceQueue: Sendable, Hashable {
        public var product: String
        public var queue: String
        public var bindings: [AMQPBinding]
        /// `x-single-active-consumer`: of the instances consuming the queue, the broker delivers
        /// to one at a time, in queue order, and to the next when its connection goes. For a
        /// service whose inputs must be applied in order (one ticket's events, itr-router).
        public var singleActiveConsumer = false
    }

    public static let defaultDeliveryLimit = 5
    /// Messages a kept-input queue (`itr.rejected`, every `.dlq`) holds at most. Past it the
    /// broker refuses new ones (`x-overflow: reject-publish`): the publisher gets a nack and
    /// parks the row in its outbox, so nothing vanishes; `itrctl dlq` drains them.
    public static let keptQueueMaximumLength = 100_000
    /// How long and how much `itr.unrouted` keeps (a stream: documented retention, not loss
    /// on arrival).
    public static let unroutedMaximumAge = "7D"
    public static let unroutedMaximumBytes: Int64 = 1 << 30

    /// A queue that keeps input for people: bounded, and refusing (not dropping) past the bound.
    static func keptQueue(_ name: String) -> AMQPQueue {
        .quorum(
            name,
            arguments: [
                "x-max-length": .int64(Int64(keptQueueMaximumLength)), "x-overflow": .string("reject-publish"),
            ])
    }

    /// Every exchange's alternate exchange: what no binding takes goes to `itr.unrouted`.
    static var alternate: AMQPTable { ["alternate-exchange": .string(ITRNames.unroutedExchange)] }

    /// Exchanges and queues shared by every service: `itr.ingress`, `itr.events`, `itr.dlx`
    /// (topic), the feeds and `itr.rejected`.
    public static var shared: AMQPTopology {
        AMQPTopology(
            exchanges: [
                AMQPExchange(name: ITRNames.unroutedExchange, type: .fanout),
                AMQPExchange(name: ITRNames.ingressExchange, type: .topic, arguments: alternate),
                AMQPExchange(name: ITRNames.eventsExchange, type: .topic, arguments: alternate),
                AMQPExchange(name: ITRNames.deadLetterExchange, type: .topic, arguments: alternate),
            ],
            queues: [
                AMQPQueue(
                    name: ITRNames.unroutedQueue,
                    arguments: [
                        "x-queue-type": .string("stream"), "x-max-age": .string(unroutedMaximumAge),
                        "x-max-length-bytes": .int64(unroutedMaximumBytes),
                        "x-stream-max-segment-size-bytes": .int64(64 << 20),
                    ]),
                .quorum(ITRNames.defectFeedQueue),
                .quorum(ITRNames.opportunityFeedQueue),
                keptQueue(ITRNames.rejectedQueue),
            ],
            bindings: [
                AMQPBinding(queue: ITRNames.unroutedQueue, exchange: ITRNames.unroutedExchange, routingKey: ""),
                AMQPBinding(queue: ITRNames.defectFeedQueue, exchange: ITRNames.eventsExchange, routingKey: "itr.defect.#"),
                AMQPBinding(
                    queue: ITRNames.opportunityFeedQueue, exchange: ITRNames.eventsExchange, routingKey: "itr.opportunity.#"),
            ])
    }

    /// A service's quorum queue (delivery limit, dead-lettering to `itr.dlx` with `<name>.dlq`
    /// at least once: the broker keeps a dead letter until the `.dlq` confirmed it, which
    /// RabbitMQ allows only with `x-overflow: reject-publish`), its bindings, and its bounded
    /// `<name>.dlq` queue bound to `itr.dlx`.
    public static func serviceQueue(
        name: String, bindings: [(exchange: String, routingKey: String)], deliveryLimit: Int = defaultDeliveryLimit,
        singleActiveConsumer: Bool = false
    ) -> AMQPTopology {
        let dlq = "\(name).dlq"
        var arguments: AMQPTable = [
            "x-dead-letter-strategy": .string("at-least-once"), "x-overflow": .string("reject-publish"),
        ]
        if singleActiveConsumer { arguments["x-single-active-consumer"] = .bool(true) }
        return AMQPTopology(
            queues: [
                .quorum(
                    name, deliveryLimit: deliveryLimit, deadLetterExchange: ITRNames.deadLetterExchange,
                    deadLetterRoutingKey: dlq, arguments: arguments),
                keptQueue(dlq),
            ],
            bindings: bindings.map { AMQPBinding(queue: name, exchange: $0.exchange, routingKey: $0.routingKey) }
                + [AMQPBinding(queue: dlq, exchange: ITRNames.deadLetterExchange, routingKey: dlq)])
    }

    /// The four services' queues.
    public static let serviceQueues: [ServiceQueue] = [
        ServiceQueue(
            product: "intake", queue: "intake.reports",
            bindings: [
                AMQPBinding(queue: "intake.reports", exchange: ITRNames.ingressExchange, routingKey: "report.#"),
                AMQPBinding(queue: "intake.reports", exchange: ITRNames.eventsExchange, routingKey: "itr.problem.known-error"),
            ]),
        ServiceQueue(
            product: "itr-router", queue: "itr-router.inbox",
            bindings: [
                AMQPBinding(queue: "itr-router.inbox", exchange: ITRNames.ingressExchange, routingKey: "ticket.#"),
                AMQPBinding(queue: "itr-router.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.opened"),
                AMQPBinding(queue: "itr-router.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.correlated"),
                AMQPBinding(queue: "itr-router.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.defect.fixed"),
            ],
            // One ticket's events in order with several instances: one applies them at a time.
            singleActiveConsumer: true),
        ServiceQueue(
            product: "ltc-extractor", queue: "ltc-extractor.inbox",
            bindings: [
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.opened"),
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.correlated"),
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.classified"),
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.resolved"),
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.sla.breached"),
                AMQPBinding(queue: "ltc-extractor.inbox", exchange: ITRNames.ingressExchange, routingKey: "opportunity.#"),
            ]),
        ServiceQueue(
            product: "ipd-feedback", queue: "ipd-feedback.inbox",
            bindings: [
                AMQPBinding(queue: "ipd-feedback.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.problem.#"),
                AMQPBinding(queue: "ipd-feedback.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.ticket.resolved"),
                AMQPBinding(queue: "ipd-feedback.inbox", exchange: ITRNames.eventsExchange, routingKey: "itr.sla.breached"),
                AMQPBinding(queue: "ipd-feedback.inbox", exchange: ITRNames.ingressExchange, routingKey: "defect.#"),
            ]),
    ]

    static func serviceQueue(_ entry: ServiceQueue) -> AMQPTopology {
        serviceQueue(
            name: entry.queue, bindings: entry.bindings.map { ($0.exchange, $0.routingKey) },
            singleActiveConsumer: entry.singleActiveConsumer)
    }

    /// The queue name of a product (`itr-router` → `itr-router.inbox`).
    public static func queueName(of product: String) -> String? {
        serviceQueues.first { $0.product == product }?.queue
    }

    /// What `product` declares at start-up: the shared part and its own queue.
    public static func topology(for product: String) -> AMQPTopology {
        guard let entry = serviceQueues.first(where: { $0.product == product }) else { return shared }
        return shared.merging(serviceQueue(entry))
    }

    /// Everything, for all four services (definitions export).
    public static var all: AMQPTopology {
        serviceQueues.reduce(shared) { topology, entry in
            topology.merging(serviceQueue(entry))
        }
    }
}
