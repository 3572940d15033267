import AMQPClient
import Foundation
import ITRTestSupport
import Synchronization
import Testing

/// Acks and nacks of one channel settled together (what `EventConsumer` does with a batch that
/// holds `.retry` or dead-lettered deliveries beside processed ones).
@Suite("AMQP client: acks beside nacks against the broker", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct MixedSettlementTests {
    /// Found by the hostile-input suite (issue 12): `ConnectionCore.settle` sends a nack at once
    /// and marks its tag settled; acks wait for `flushAcks()`, which acked `multiple` through
    /// `SettledTags.floor`. When that floor was a NACKED tag (ack 1, nack 2 in one turn: floor
    /// 2), `basic.ack(2, multiple)` named a tag the broker no longer held: `406 PRECONDITION_FAILED
    /// - unknown delivery tag 2`, the channel closed, every ack of the turn was lost and the acked
    /// deliveries came again. Fixed: the `multiple` ack goes through the highest of the turn's own
    /// acks under the floor.
    @Test func acksBesideNacksKeepTheChannelAndAreNotRedelivered() async throws {
        let conn = try await AMQPTest.connect()
        let queue = try await AMQPTest.freshQueue(conn, prefix: "test.mixed")
        let pairs = 20
        _ = try await AMQPTest.publishAll(conn, queue: queue, range: 0..<(2 * pairs))
        let consumer = try await conn.consume(queue: queue, prefetch: UInt16(2 * pairs))
        let received = Mutex<[AMQPDelivery]>([])
        let reader = Task {
            for try await delivery in consumer {
                let count = received.withLock { list in
                    list.append(delivery)
                    return list.count
                }
                if count > 2 * pairs {
                    delivery.ack()  // delivered again (see above): settled alone, so that the queue ends empty
                } else if count == 2 * pairs {
                    // Settled in one go, as a consumer settles a batch: ack, nack, ack, nack...
                    let batch = received.withLock { $0 }
                    for (i, d) in batch.enumerated() {
                        if i % 2 == 0 { d.ack() } else { d.nack(requeue: false) }
                    }
                }
            }
        }
        let settled = await Self.eventually(.seconds(30)) { received.withLock { $0.count } >= 2 * pairs }
        #expect(settled, "only \(received.withLock { $0.count }) of \(2 * pairs) delivered")
        // Anything delivered again within a few seconds was an ack the broker never took.
        try await Task.sleep(for: .seconds(3))
        consumer.cancel()
        _ = try? await reader.value
        let again = received.withLock { $0.count } - 2 * pairs
        #expect(again == 0, "\(again) acked deliveries came again: the channel was closed under them")
        #expect(try await conn.inspectQueue(queue).messageCount == 0, "a settled delivery is back in the queue")
        try await conn.deleteQueue(queue)
        await conn.close()
    }

    static func eventually(_ timeout: Duration, _ probe: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if probe() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return probe()
    }
}
