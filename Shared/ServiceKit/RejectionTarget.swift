/// Where ``EventConsumer`` sends deliveries its handler found `.invalid`.
public struct RejectionTarget: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String

    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }

    /// The queue's dead-letter queue: exchange `itr.dlx`, routing key `<queue>.dlq` (the default).
    public static func deadLetterQueue(of queue: String) -> RejectionTarget {
        RejectionTarget(exchange: ITRNames.deadLetterExchange, routingKey: "\(queue).dlq")
    }

    /// The `itr.rejected` queue through the default exchange (intake).
    public static let rejectedQueue = RejectionTarget(exchange: "", routingKey: ITRNames.rejectedQueue)
}

/// Names fixed by the external contract.
public enum ITRNames {
    public static let ingressExchange = "itr.ingress"
    public static let eventsExchange = "itr.events"
    public static let deadLetterExchange = "itr.dlx"
    public static let defectFeedQueue = "feed.defects"
    public static let opportunityFeedQueue = "feed.opportunities"
    public static let rejectedQueue = "itr.rejected"

    /// Headers added to a rejected message.
    public static let reasonCodeHeader = "x-itr-reason-code"
    public static let reasonHeader = "x-itr-reason"
    public static let originalExchangeHeader = "x-itr-original-exchange"
    public static let originalRoutingKeyHeader = "x-itr-original-routing-key"
    public static let serviceHeader = "x-itr-service"
}
