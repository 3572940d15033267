import AMQPClient
import Foundation
import ITREvents
import Logging

/// One pipeline stage written with this project's client, the same shape as
/// ../shared/bench/raw_stage.c: drain N persistent 1 KiB CloudEvents from `stage.in`
/// (prefetch 256, manual ack), decode each, re-encode it as a new event caused by it, publish it
/// persistent to `stage.out` with publisher confirms, and ack the input only once its output is
/// confirmed. Two connections (in and out), as the C stage uses.
struct StageBenchmark {
    var url: String
    var count: Int
    var prefetch: UInt16 = 256
    var logger: Logger

    static let inQueue = "stage.in"
    static let outQueue = "stage.out"

    /// A 1 KiB event in binary mode, as an upstream system would publish it.
    static func inputMessage(_ i: Int) -> AMQPMessage {
        let summary = String(repeating: "核心交换机端口闪断 core switch port flapping ", count: 1)
        var data = "{\"n\":\(i),\"summary\":\"\(summary)\",\"padding\":\""
        let target = 1024
        data += String(repeating: "x", count: max(0, target - data.utf8.count - 2)) + "\"}"
        let event = CloudEvent(
            id: "bench-\(i)", source: "/bench/stage", type: "itr.report.submitted", time: Date(),
            datacontenttype: "application/json", data: Data(data.utf8),
            extensions: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        return AMQPCloudEventCodec.encode(event)
    }

    func run() async throws -> Double {
        var config = try AMQPConfiguration(url: url)
        // One connection (one thread): a consumer channel and a confirm-mode publish channel.
        // Publishing from the delivery callback then costs no wake-up of another thread.
        config.connectionName = "bench-stage"
        let input = try await AMQPConnection.connect(config, logger: logger)
        let output = input
        defer {
            Task { await input.close() }
        }
        for q in [Self.inQueue, Self.outQueue] {
            _ = try? await input.deleteQueue(q)
        }
        try await input.declare(AMQPTopology(queues: [AMQPQueue(name: Self.inQueue), AMQPQueue(name: Self.outQueue)]))

        // Fill stage.in (not timed).
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<512 where next < count {
                let i = next
                next += 1
                group.addTask { try await input.publish(Self.inputMessage(i), exchange: "", routingKey: Self.inQueue) }
            }
            while try await group.next() != nil {
                if next < count {
                    let i = next
                    next += 1
                    group.addTask { try await input.publish(Self.inputMessage(i), exchange: "", routingKey: Self.inQueue) }
                }
            }
        }

        // The stage (timed): consume → decode → re-encode → publish with confirm → ack.
        // Decoding and encoding run in the delivery callback on the input connection's thread,
        // and the confirm callback acks the input from the output connection's thread: no task
        // switch per message, as in the C stage.
        let failures = FailureCounter()
        let done = AsyncStream<Void>.makeStream()
        let confirmed = ConfirmCounter(target: count) { done.continuation.finish() }
        let started = StartClock()
        let consumer = try await input.consume(queue: Self.inQueue, prefetch: prefetch, onDelivery: { delivery in
            started.mark()
            do {
                let event = try AMQPCloudEventCodec.decode(delivery.message)
                let next = CloudEvent.caused(
                    by: event, source: "/bench/stage", type: "itr.ticket.opened", time: Date(),
                    data: event.data, correlationID: "T-\(event.id)")
                output.publish(AMQPCloudEventCodec.encode(next), exchange: "", routingKey: Self.outQueue) { error in
                    if error == nil { delivery.ack() } else { failures.add(); delivery.nack(requeue: true) }
                    confirmed.add()
                }
            } catch {
                failures.add()
                delivery.reject()
                confirmed.add()
            }
        })
        for await _ in done.stream {}
        consumer.cancel()
        let start = started.instant ?? ContinuousClock.now
        if failures.value > 0 { throw BenchError("\(failures.value) publishes failed") }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let outCount = try await input.inspectQueue(Self.outQueue).messageCount
        guard outCount == UInt32(count) else {
            throw BenchError("stage.out holds \(outCount) messages, expected \(count)")
        }
        return Double(count) / seconds
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Synchronization

final class ConfirmCounter: Sendable {
    private let n = Atomic<Int>(0)
    private let target: Int
    private let onDone: @Sendable () -> Void
    init(target: Int, onDone: @escaping @Sendable () -> Void) {
        self.target = target
        self.onDone = onDone
    }
    func add() { if n.wrappingAdd(1, ordering: .relaxed).newValue == target { onDone() } }
}

final class FailureCounter: Sendable {
    private let n = Atomic<Int>(0)
    func add() { n.add(1, ordering: .relaxed) }
    var value: Int { n.load(ordering: .relaxed) }
}

/// The moment the first delivery arrived.
final class StartClock: Sendable {
    private let value = Mutex<ContinuousClock.Instant?>(nil)
    func mark() { value.withLock { if $0 == nil { $0 = .now } } }
    var instant: ContinuousClock.Instant? { value.withLock { $0 } }
}
