import AMQPClient

extension AMQPConnection: MessagePublisher {}

extension AMQPDelivery: AcknowledgeableDelivery {
    public var inbound: InboundMessage {
        InboundMessage(message: message, exchange: exchange, routingKey: routingKey, redelivered: redelivered, defect: defect)
    }

    public func ack() {
        ack(multiple: false)
    }

    public func nack(requeue: Bool) {
        nack(requeue: requeue, multiple: false)
    }
}

extension AMQPConnection: DeliverySource {
    public func consume(
        queue: String, prefetch: UInt16, consuming: @escaping @Sendable () -> Void,
        deliver: @escaping @Sendable (any AcknowledgeableDelivery) -> Void
    ) async throws {
        let consumer = try await consume(queue: queue, prefetch: prefetch, consumerTag: nil)
        consuming()
        try await withTaskCancellationHandler {
            for try await delivery in consumer {
                deliver(delivery)
            }
        } onCancel: {
            consumer.cancel()
        }
    }
}
