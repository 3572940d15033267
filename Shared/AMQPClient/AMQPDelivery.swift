/// A message delivered to a consumer. Settle it exactly once with `ack()`, `nack()` or `reject()`.
///
/// Settling is fire-and-forget: it is queued for the connection thread. If the channel the
/// message came on has been closed or recovered since, the settlement is dropped (the broker
/// has already requeued the message), never sent on the new channel.
public struct AMQPDelivery: Sendable {
    public let message: AMQPMessage
    public let exchange: String
    public let routingKey: String
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let consumerTag: String
    /// Set when the message could not be taken in whole: its body was over the connection's
    /// `maximumMessageSize` (only a prefix is in `message.body`) or its headers nested deeper
    /// than the cap (the deep part is replaced by a text). Such a delivery is for rejecting.
    public let defect: AMQPDeliveryDefect?
    let settler: DeliverySettler

    public func ack(multiple: Bool = false) {
        settler.settle(.init(kind: .ack, channel: settler.channel, epoch: settler.epoch, deliveryTag: deliveryTag, multiple: multiple, requeue: false))
    }

    public func nack(requeue: Bool = false, multiple: Bool = false) {
        settler.settle(.init(kind: .nack, channel: settler.channel, epoch: settler.epoch, deliveryTag: deliveryTag, multiple: multiple, requeue: requeue))
    }

    public func reject(requeue: Bool = false) {
        settler.settle(.init(kind: .reject, channel: settler.channel, epoch: settler.epoch, deliveryTag: deliveryTag, multiple: false, requeue: requeue))
    }

    /// How many times the broker has delivered this message before (quorum queues' `x-delivery-count`).
    public var deliveryCount: Int {
        Int(message.properties.headers["x-delivery-count"]?.intValue ?? (redelivered ? 1 : 0))
    }
}

/// Why a delivery could not be taken in whole (see ``AMQPDelivery/defect``).
public enum AMQPDeliveryDefect: Sendable, Hashable, CustomStringConvertible {
    /// The announced body was `announced` bytes, over `limit`; the first `kept` bytes are kept.
    case bodyTooLarge(announced: UInt64, limit: Int, kept: Int)
    /// Header tables or arrays nested deeper than `limit` levels.
    case headersTooDeep(limit: Int)

    /// A stable code for rejections and metrics.
    public var reasonCode: String {
        switch self {
        case .bodyTooLarge: "message-too-large"
        case .headersTooDeep: "headers-too-deep"
        }
    }

    public var description: String {
        switch self {
        case .bodyTooLarge(let announced, let limit, let kept):
            "the message body is \(announced) bytes, over the limit of \(limit) bytes (only its first \(kept) bytes are kept)"
        case .headersTooDeep(let limit):
            "the message headers nest tables or arrays deeper than \(limit) levels (the deeper part was replaced by a text)"
        }
    }
}

struct DeliverySettler: Sendable {
    let core: ConnectionCore
    let channel: UInt16
    /// Identifies the channel instance the delivery came on.
    let epoch: UInt64

    func settle(_ s: ConnectionCore.Settlement) { core.submit(.settle(s)) }
}

/// The connection thread's side of a consumer.
final class ConsumerState: Sendable {
    enum Sink: Sendable {
        case stream(AsyncThrowingStream<AMQPDelivery, any Error>.Continuation)
        case callback(@Sendable (AMQPDelivery) -> Void, @Sendable (AMQPError?) -> Void)
    }

    let queue: String
    let prefetch: UInt16
    let tag: String
    let channel: UInt16
    private let sink: Sink

    init(queue: String, prefetch: UInt16, tag: String, channel: UInt16, sink: Sink) {
        self.queue = queue
        self.prefetch = prefetch
        self.tag = tag
        self.channel = channel
        self.sink = sink
    }

    func yield(_ d: AMQPDelivery) {
        switch sink {
        case .stream(let c): c.yield(d)
        case .callback(let f, _): f(d)
        }
    }

    func finish(throwing error: AMQPError?) {
        switch sink {
        case .stream(let c): c.finish(throwing: error)
        case .callback(_, let end): end(error)
        }
    }
}
