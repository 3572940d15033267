/// A delivery that can be settled with the broker.
public protocol AcknowledgeableDelivery: Sendable {
    var inbound: InboundMessage { get }
    func ack()
    func nack(requeue: Bool)
}

/// Where ``EventConsumer`` gets its deliveries: an `AMQPConnection` consumer, or a fake in tests.
public protocol DeliverySource: Sendable {
    /// Consumes `queue` (manual acknowledgement, `prefetch` unacknowledged at most), calling
    /// `consuming` once the subscription is active and `deliver` for each delivery, until the
    /// task is cancelled (then it cancels the subscription and returns) or the source ends.
    func consume(
        queue: String, prefetch: UInt16,
        consuming: @escaping @Sendable () -> Void,
        deliver: @escaping @Sendable (any AcknowledgeableDelivery) -> Void
    ) async throws
}
