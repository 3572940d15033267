import Synchronization

/// Counters of one connection, readable from any thread (for metrics and tests).
public final class AMQPStatistics: Sendable {
    public let published = Atomic<Int>(0)
    public let confirmed = Atomic<Int>(0)
    public let nacked = Atomic<Int>(0)
    public let returned = Atomic<Int>(0)
    public let delivered = Atomic<Int>(0)
    /// Successful connections, the first one included.
    public let connections = Atomic<Int>(0)
    public let connectionLosses = Atomic<Int>(0)
    /// Acks, nacks and rejects dropped because their delivery came from a channel that is gone.
    public let staleSettlementsDropped = Atomic<Int>(0)
    /// Acks that rode along in another ack's `multiple` frame instead of a frame of their own.
    public let acksCoalesced = Atomic<Int>(0)
    /// Publishes refused before they reached the wire (`.unencodable`), each failing alone.
    public let unencodable = Atomic<Int>(0)
    /// Deliveries whose announced body was over `maximumMessageSize` (kept as a prefix).
    public let oversizedDeliveries = Atomic<Int>(0)
    /// Times reading from the broker paused because unsettled deliveries held more than
    /// `maximumUnsettledBytes`.
    public let readPauses = Atomic<Int>(0)

    init() {}
}

/// What a passive declare, purge or delete reports about a queue.
public struct AMQPQueueStatus: Sendable, Hashable {
    public var name: String
    public var messageCount: UInt32
    public var consumerCount: UInt32
}
