import AMQPClient

/// A delivery as the service's handler sees it.
public struct InboundMessage: Sendable, Hashable {
    public var message: AMQPMessage
    public var exchange: String
    public var routingKey: String
    public var redelivered: Bool
    /// Set when the AMQP client could not take the message whole (body over the size limit,
    /// headers nested too deep): ``EventConsumer`` rejects it without calling the handler.
    public var defect: AMQPDeliveryDefect?

    public init(
        message: AMQPMessage, exchange: String, routingKey: String, redelivered: Bool = false,
        defect: AMQPDeliveryDefect? = nil
    ) {
        self.message = message
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.defect = defect
    }

    /// How many times the broker delivered this message before: the quorum queue's
    /// `x-delivery-count` header when present, else 1 if redelivered, else 0.
    public var deliveryCount: Int {
        if let count = message.properties.headers["x-delivery-count"]?.intValue { return Int(count) }
        return redelivered ? 1 : 0
    }

    /// The CloudEvent type: the AMQP `type` property, else a `ce-type` / `cloudEvents_type` /
    /// `cloudEvents:type` header, else nil.
    public var eventType: String? {
        if let type = message.properties.type, !type.isEmpty { return type }
        let headers = message.properties.headers
        return (headers["ce-type"] ?? headers["cloudEvents_type"] ?? headers["cloudEvents:type"])?.stringValue
    }
}

/// What became of one delivery.
public enum Disposition: Sendable, Hashable {
    /// Handled (its effects committed): ack.
    case processed
    /// Already seen (inbox): ack.
    case duplicate
    /// Cannot ever be accepted: the original is published unchanged to the rejection target with
    /// headers saying why (`reasonCode` is a stable, machine-readable code), then acked.
    case invalid(reasonCode: String, message: String)
    /// Cannot be handled now (a transient condition): nack with requeue. The quorum queue's
    /// delivery limit eventually dead-letters a message that keeps coming back.
    case retry

    var label: String {
        switch self {
        case .processed: "processed"
        case .duplicate: "duplicate"
        case .invalid: "invalid"
        case .retry: "retry"
        }
    }
}

/// The service's logic for a queue. ``handle(_:)`` gets every delivery already buffered (up
/// to a maximum) and should apply them in ONE write transaction (inbox claims, state changes,
/// outbox rows), returning one disposition per delivery in the same order.
///
/// Throwing fails the whole batch: ``EventConsumer`` then hands the deliveries over one at a
/// time, so one poison message cannot block the others.
public protocol EventHandler: Sendable {
    func handle(_ batch: [InboundMessage]) async throws -> [Disposition]
}

/// An ``EventHandler`` made from a closure.
public struct ClosureEventHandler: EventHandler {
    private let body: @Sendable ([InboundMessage]) async throws -> [Disposition]

    public init(_ body: @escaping @Sendable ([InboundMessage]) async throws -> [Disposition]) {
        self.body = body
    }

    public func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        try await body(batch)
    }
}
