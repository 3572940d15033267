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
