import AMQPClient
import Foundation
import Histogram
import Logging
import ServiceKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches `itr.events` through a queue of its own bound to the ticket and outcome events, and
/// ties each `itr.ticket.classified` back to the report that caused it: intake's
/// `itr.ticket.opened` carries `correlationid` = ticket id and `causationid` = the report's
/// event id (`<run>-<index>`); the router's classified event carries `correlationid` = ticket id.
/// Only headers are read (no JSON decoding), so watching costs little CPU.
///
/// Latency is taken from the report's *scheduled* send time (`schedule`), not the moment it was
/// actually published, so a stalled publisher does not hide the stall (no coordinated omission).
final class PipelineObserver: Sendable {
    static let queue = "bench.observer"
    static let routingKeys = [
        "itr.ticket.opened", "itr.ticket.classified", "itr.ticket.assigned", "itr.problem.opened",
        "itr.opportunity.identified", "itr.opportunity.updated", "itr.defect.reported", "itr.defect.updated",
        "itr.report.rejected", "itr.ticket.correlated", "itr.ticket.resolved", "itr.defect.fixed",
    ]

    /// When report `firstIndex + i` was due to be sent: `startNanos + i * intervalNanos` (monotonic).
    struct Schedule: Sendable {
        var startNanos: UInt64
        var intervalNanos: UInt64
        var firstIndex = 0
        func due(_ index: Int) -> UInt64 { startNanos &+ UInt64(max(0, index - firstIndex)) &* intervalNanos }
    }

    struct Snapshot: Sendable {
        var counts: [String: Int]
        var firstNanos: UInt64?
        var lastAssignedNanos: UInt64?
        /// Events the services published that the observer saw (every `itr.*` type above).
        var events: Int
        var lastEventNanos: UInt64?
        var latency: Histogram<UInt64>
        func count(_ type: String) -> Int { counts[type] ?? 0 }
    }

    private struct State {
        var counts: [String: Int] = [:]
        var ticketIndex: [String: Int] = [:]
        var classifiedEarly: [String: UInt64] = [:]
        var lastAssignedNanos: UInt64?
        var events = 0
        var lastEventNanos: UInt64?
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var schedule: Schedule?
    }

    let mix: ReportMix
    private let state = Mutex(State())
    /// Where the service desk's resolve actions go (set by `start`).
    private let desk = Mutex<AMQPConnection?>(nil)
    /// Whether assigned tickets of the mix's resolvable kinds are resolved (the share that
    /// leads to defects and parts quotes).
    let resolves: Bool

    init(mix: ReportMix, resolves: Bool = true) {
        self.mix = mix
        self.resolves = resolves
    }

    static func topology() -> AMQPTopology {
        AMQPTopology(
            // As the services declare it (its alternate exchange too): a declaration that differs
            // is refused by the broker.
            exchanges: ITRTopology.shared.exchanges.filter { $0.name == ITRNames.eventsExchange },
            queues: [AMQPQueue(name: queue, durable: false, autoDelete: false)],
            bindings: routingKeys.map { AMQPBinding(queue: queue, exchange: "itr.events", routingKey: $0) })
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC), comparable across threads.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Starts measuring latency against `schedule` (and clears earlier latencies).
    func measureLatency(_ schedule: Schedule?) {
        state.withLock {
            $0.schedule = schedule
            $0.latency.reset()
        }
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(
                counts: s.counts, firstNanos: nil, lastAssignedNanos: s.lastAssignedNanos, events: s.events,
                lastEventNanos: s.lastEventNanos, latency: s.latency)
        }
    }

    /// Declares the queue (purged) and consumes it on `connection`; the actions go over `desk`.
    func start(on connection: AMQPConnection, desk deskConnection: AMQPConnection) async throws -> AMQPCallbackConsumer {
        try await connection.declare(Self.topology())
        try await connection.purgeQueue(Self.queue)
        desk.withLock { $0 = deskConnection }
        return try await connection.consume(queue: Self.queue, prefetch: 2000) { [self] delivery in
            self.observe(delivery.message, at: Self.now())
            delivery.ack()
        }
    }

    func observe(_ message: AMQPMessage, at arrival: UInt64) {
        let headers = message.properties.headers
        guard let type = message.properties.type ?? headers["ce-type"]?.stringValue else { return }
        let ticket = headers["ce-correlationid"]?.stringValue
        let cause = headers["ce-causationid"]?.stringValue
        state.withLock { s in
            s.counts[type, default: 0] += 1
            s.events += 1
            s.lastEventNanos = arrival
            switch type {
            case "itr.ticket.opened":
                guard let ticket, let cause, let index = mix.index(ofEventID: cause) else { return }
                s.ticketIndex[ticket] = index
                if let early = s.classifiedEarly.removeValue(forKey: ticket) { Self.record(&s, index: index, at: early) }
            case "itr.ticket.classified":
                guard let ticket else { return }
                if let index = s.ticketIndex[ticket] {
                    Self.record(&s, index: index, at: arrival)
                } else {
                    s.classifiedEarly[ticket] = arrival
                }
            case "itr.ticket.assigned":
                s.lastAssignedNanos = arrival
                if let ticket, let index = s.ticketIndex.removeValue(forKey: ticket), resolves,
                    var action = mix.resolveAction(ticketId: ticket, index: index),
                    let connection = desk.withLock({ $0 })
                {
                    // user_id: the router accepts an action only from a broker user it maps (itr-desk).
                    action.properties.userID = connection.configuration.user
                    s.counts["bench.resolve-sent", default: 0] += 1
                    connection.publish(action, exchange: "itr.ingress", routingKey: "ticket.resolve") { _ in }
                }
            default:
                break
            }
        }
    }

    private static func record(_ s: inout State, index: Int, at arrival: UInt64) {
        guard let schedule = s.schedule, index >= schedule.firstIndex else { return }
        let due = schedule.due(index)
        let micros = arrival > due ? (arrival - due) / 1000 : 0
        _ = s.latency.record(max(1, micros))
    }

    /// Waits until `type` has been seen `count` times; returns false after `timeout`, or when
    /// nothing new arrived for `stall`.
    func wait(for type: String, count: Int, timeout: Duration, stall: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var last = -1
        var lastChange = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let seen = state.withLock { $0.counts[type] ?? 0 }
            if seen >= count { return true }
            if seen != last {
                last = seen
                lastChange = .now
            } else if ContinuousClock.now - lastChange > stall {
                return false
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
