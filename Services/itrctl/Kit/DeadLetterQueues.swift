import AMQPClient
import Foundation
import ServiceKit

/// Browsing, replaying and purging dead-letter queues.
public enum DeadLetterQueues {
    public struct ReplayResult: Codable, Sendable, Hashable {
        public var queue: String
        public var replayed: Int
        /// Messages left in the queue because no original destination could be found.
        public var skipped: Int
        /// Where they went: "exchange routing-key" → count.
        public var destinations: [String: Int]
        public var error: String?
    }

    public struct UnknownQueue: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "\(name) is not a dead-letter queue of the ITR topology; one of: \(QueueInventory.deadLetterQueueNames.joined(separator: ", "))"
        }
    }

    public static func check(_ queue: String) throws {
        guard QueueInventory.deadLetterQueueNames.contains(queue) else { throw UnknownQueue(name: queue) }
    }

    /// Up to `limit` messages, left in the queue: they are read without acknowledgement and go
    /// back when the connection closes (pass a connection of its own and close it afterwards).
    public static func browse(_ queue: String, limit: Int, on connection: AMQPConnection) async throws -> [DeadLetter] {
        let status = try await connection.inspectQueue(queue)
        let count = min(limit, Int(status.messageCount))
        guard count > 0 else { return [] }
        let (consumer, deliveries) = try await take(queue, count: count, on: connection)
        consumer.cancel()
        return deliveries.enumerated().map { DeadLetter(position: $0.offset + 1, message: $0.element.message) }
    }

    /// Re-publishes up to `limit` messages (those in the queue when it starts, so a message that
    /// fails again is not replayed twice) to their original exchange and routing key, with
    /// confirms, and acknowledges each once the broker confirmed its copy. With `direct`, a
    /// `<queue>.dlq` message goes only to `<queue>` (through the default exchange).
    public static func replay(
        _ queue: String, limit: Int = .max, direct: Bool = false, on connection: AMQPConnection
    ) async throws -> ReplayResult {
        var result = ReplayResult(queue: queue, replayed: 0, skipped: 0, destinations: [:])
        let status = try await connection.inspectQueue(queue)
        var remaining = min(limit, Int(status.messageCount))
        while remaining > 0, result.error == nil {
            let (consumer, deliveries) = try await take(queue, count: min(remaining, 500), on: connection)
            // Cancel before settling: with prefetch = count nothing else is in flight, and once
            // acknowledgements free the window the broker must not deliver more to this consumer.
            consumer.cancel()
            if deliveries.isEmpty { break }
            remaining -= deliveries.count
            for delivery in deliveries {
                if result.error != nil {
                    delivery.nack(requeue: true)
                    continue
                }
                var target = DeadLetter.replayTarget(of: delivery.message)
                if direct, queue.hasSuffix(".dlq") {
                    target = ("", String(queue.dropLast(4)))
                }
                guard let target else {
                    delivery.nack(requeue: true)
                    result.skipped += 1
                    continue
                }
                do {
                    try await connection.publish(
                        DeadLetter.replayable(
                            delivery.message, from: queue, replayingUser: connection.configuration.user), exchange: target.exchange,
                        routingKey: target.routingKey)
                    delivery.ack()
                    result.replayed += 1
                    let key = "\(target.exchange.isEmpty ? "(default)" : target.exchange) \(target.routingKey)"
                    result.destinations[key, default: 0] += 1
                } catch {
                    delivery.nack(requeue: true)
                    result.error = "publishing to \(target.exchange) \(target.routingKey) failed: \(error)"
                }
            }
        }
        return result
    }

    /// Removes every ready message; returns how many.
    public static func purge(_ queue: String, on connection: AMQPConnection) async throws -> Int {
        Int(try await connection.purgeQueue(queue))
    }

    /// Consumes until `count` deliveries arrived or none came for `idle`.
    static func take(
        _ queue: String, count: Int, on connection: AMQPConnection, idle: Duration = .seconds(3)
    ) async throws -> (AMQPConsumer, [AMQPDelivery]) {
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(clamping: min(count, 1000)))
        let collector = DeliveryCollector()
        let reader = Task {
            for try await delivery in consumer {
                if await collector.add(delivery) >= count { break }
            }
        }
        var seen = 0
        var lastProgress = ContinuousClock.now
        while true {
            let now = await collector.count
            if now >= count { break }
            if now != seen {
                seen = now
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > idle {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        reader.cancel()
        return (consumer, await collector.deliveries)
    }
}

actor DeliveryCollector {
    private(set) var deliveries: [AMQPDelivery] = []
    var count: Int { deliveries.count }
    func add(_ delivery: AMQPDelivery) -> Int {
        deliveries.append(delivery)
        return deliveries.count
    }
}
