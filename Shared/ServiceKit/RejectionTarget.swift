import AMQPClient

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
    /// The alternate exchange of `itr.ingress`, `itr.events` and `itr.dlx` (fanout) and the
    /// stream it fills: messages no binding took, kept for a week instead of lost.
    public static let unroutedExchange = "itr.unrouted"
    public static let unroutedQueue = "itr.unrouted"

    /// Headers added to a rejected message.
    public static let reasonCodeHeader = "x-itr-reason-code"
    public static let reasonHeader = "x-itr-reason"
    public static let originalExchangeHeader = "x-itr-original-exchange"
    public static let originalRoutingKeyHeader = "x-itr-original-routing-key"
    public static let serviceHeader = "x-itr-service"
    /// The `user_id` a kept copy's original carried (the broker user that sent it).
    public static let originalUserIDHeader = "x-itr-original-user-id"
    /// `true` on a kept copy whose body is only the first part of the original.
    public static let truncatedHeader = "x-itr-truncated"
    /// The original body's size in bytes, on a kept copy cut short.
    public static let originalBodySizeHeader = "x-itr-original-body-size"
}

/// The copy of a rejected input that is kept for people (`itr.rejected`, a `.dlq`): the
/// original body and properties with the `x-itr-*` reason headers added, cut where AMQP could
/// not carry it (``AMQPWire/fitted(_:limits:)``: over-long short-string properties, header
/// names and values copied from outside, headers nested too deep, a body over the size
/// limit), the cuts named in `x-itr-truncated-properties`. Never refused for its size: a cut
/// copy is better than none. The sender's `user_id` moves to `x-itr-original-user-id`: the
/// copy is published by the service's own broker user, and RabbitMQ refuses a `user_id` that is
/// not the publishing connection's.
public enum RejectedCopy {
    public static func make(
        _ original: AMQPMessage, code: String, reason: String, service: String,
        originalExchange: String? = nil, originalRoutingKey: String? = nil, announcedBodySize: UInt64? = nil,
        limits: AMQPMessageLimits = Outbox.limits
    ) -> AMQPMessage {
        var rejected = original
        var headers = rejected.properties.headers
        headers[ITRNames.reasonCodeHeader] = .string(code)
        // The reason is ours but may quote input: bounded.
        headers[ITRNames.reasonHeader] = .string(AMQPWire.truncated(reason, toBytes: 4096))
        if let originalExchange {
            headers[ITRNames.originalExchangeHeader] = .string(AMQPWire.truncated(originalExchange, toBytes: 255))
        }
        if let originalRoutingKey {
            headers[ITRNames.originalRoutingKeyHeader] = .string(AMQPWire.truncated(originalRoutingKey, toBytes: 255))
        }
        headers[ITRNames.serviceHeader] = .string(service)
        if let user = rejected.properties.userID {
            headers[ITRNames.originalUserIDHeader] = .string(user)
            rejected.properties.userID = nil
        }
        if let announcedBodySize, announcedBodySize > UInt64(rejected.body.count) {
            headers[ITRNames.truncatedHeader] = .bool(true)
            headers[ITRNames.originalBodySizeHeader] = .int64(Int64(clamping: announcedBodySize))
        }
        rejected.properties.headers = headers
        return AMQPWire.fitted(rejected, limits: limits)
    }
}
