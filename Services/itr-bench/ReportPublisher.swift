import AMQPClient
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Publishes prepared reports to `itr.ingress` with publisher confirms (persistent, binary
/// mode), from a thread of its own, either as fast as the confirm window allows (saturation)
/// or paced by a schedule (report i leaves at `start + i * interval`; when the publisher falls
/// behind it sends at once and the latency still counts from the scheduled time).
struct ReportPublisher {
    var connection: AMQPConnection
    var exchange = "itr.ingress"
    /// Unconfirmed publishes allowed at once.
    var window = 1024

    struct Result: Sendable {
        var firstNanos: UInt64
        var lastNanos: UInt64
        var failures: Int
        /// How far behind schedule the publisher fell at worst (paced runs), in µs.
        var maxLagMicros: UInt64
    }

    func publish(_ messages: [(message: AMQPMessage, routingKey: String)], schedule: PipelineObserver.Schedule?) async -> Result {
        let connection = self.connection
        let exchange = self.exchange
        let window = self.window
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
            let thread = Thread {
                let slots = DispatchSemaphore(value: window)
                let failures = Atomic<Int>(0)
                let first = PipelineObserver.now()
                var maxLag: UInt64 = 0
                for (i, item) in messages.enumerated() {
                    if let schedule {
                        let due = schedule.due(schedule.firstIndex + i)
                        let now = PipelineObserver.now()
                        if due > now {
                            var ts = timespec(tv_sec: Int((due - now) / 1_000_000_000), tv_nsec: Int((due - now) % 1_000_000_000))
                            nanosleep(&ts, nil)
                        } else {
                            maxLag = max(maxLag, (now - due) / 1000)
                        }
                    }
                    slots.wait()
                    connection.publish(item.message, exchange: exchange, routingKey: item.routingKey) { error in
                        if error != nil { failures.add(1, ordering: .relaxed) }
                        slots.signal()
                    }
                }
                for _ in 0..<window { slots.wait() }
                // libdispatch traps when a semaphore is released below its initial value.
                for _ in 0..<window { slots.signal() }
                continuation.resume(returning: Result(
                    firstNanos: first, lastNanos: PipelineObserver.now(), failures: failures.load(ordering: .relaxed),
                    maxLagMicros: maxLag))
            }
            thread.start()
        }
    }
}
