import AMQPClient
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Publishes the outbox: rows in sequence order, with publisher confirms, up to `window`
/// unconfirmed at a time; deletes rows once confirmed. Never loses a row: a row is deleted
/// only after the broker confirmed it, so a crash or failure means it is published again
/// (consumers de-duplicate by CloudEvent source + id).
///
/// Pipelined: the relay does not wait for the confirms of what it started before reading the
/// rows committed since (`seq` greater than the last one started), as long as fewer than
/// `window` are unconfirmed, so an event committed while earlier ones await their confirms
/// goes out at once instead of one confirm round trip (plus a delete) later. Confirmed rows
/// are deleted in groups (one write transaction once `window / 2` are confirmed, or when
/// nothing is in flight), not once per confirm, so the relay rarely competes with the
/// consumer for the writer.
///
/// Wakes at once on ``notify()`` (call it after a transaction that enqueued something
/// committed), when the last publish in flight completed, on a failure or when a full window
/// has room again, and otherwise polls every `pollInterval`. On a failed
/// publish it stops starting new ones, waits for those in flight, deletes the confirmed ones,
/// backs off (doubling up to `maximumBackoff`) and reads again from the oldest row left, so
/// under failures order across rows is best effort.
///
/// Order: each row's publish is started with `Task.immediate` in `seq` order, so with a
/// publisher that enqueues before its first suspension (as `AMQPConnection` does) the broker
/// receives them in order.
///
/// The `itr_outbox_pending` gauge costs no extra query while the relay keeps up: after a read
/// that found fewer rows than it asked for, the rows not yet deleted are exactly those in
/// flight or confirmed and awaiting their delete. While a backlog fills whole reads (or after
/// failures) it is a `COUNT(*)`, at most once per second.
///
/// A row that cannot be published is parked (``Outbox``), and the relay goes on with the
/// next at once: a row the wire cannot carry (`.unencodable`) or whose stored message does
/// not decode, a message no queue took (`.unroutable`: mandatory, and not even the alternate
/// exchange's queue took it), and a row the broker refused (nack, closed channel)
/// ``Outbox/maximumAttempts`` times. Only connection trouble (lost, closed, timeouts) makes
/// the relay back off and retry everything; it never parks for that.
///
/// Graceful shutdown: waits for what is in flight, publishes what is pending (the consumer,
/// stopped before, may just have enqueued) until the table is empty or a publish fails, then
/// returns; what is left stays in the table for the next start.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var window: Int = 256
        public var pollInterval: Duration = .milliseconds(500)
        public var initialBackoff: Duration = .milliseconds(100)
        public var maximumBackoff: Duration = .seconds(5)
        /// Publish with the mandatory flag, so that a message no queue takes comes back
        /// (`.unroutable`) and is parked instead of confirmed and lost. The services' exchanges
        /// have an alternate exchange, so this only happens when even that has no queue.
        public var mandatory: Bool = true
        /// Broker refusals of one row before it is parked.
        public var maximumAttempts: Int = Outbox.maximumAttempts
        /// Several instances on one database (PostgreSQL): this instance's name. The relay then
        /// publishes only the rows its instance wrote (in their order), says every
        /// `heartbeatInterval` that it is alive, and adopts the rows of an instance silent for
        /// `ownerTimeout` (dead: its rows are relayed by someone). nil: every row (one instance).
        ///
        /// The sign of life is a task of its own, apart from the publishing: a relay that cannot
        /// publish (broker gone, backing off) or is slow is still alive, and its rows stay its
        /// own; only an instance that stopped (crashed, killed, its database unreachable for
        /// `ownerTimeout`) loses them.
        public var instance: String?
        public var heartbeatInterval: Duration = .seconds(5)
        public var ownerTimeout: Duration = .seconds(30)

        public init() {}
    }

    private let store: SQLStore
    private let publisher: any MessagePublisher
    private let configuration: Configuration
    private let metrics: ServiceMetrics?
    private let logger: Logger
    private let wake = WakeSignal()
    private let shuttingDown = Atomic<Bool>(false)
    /// Test hook (``FaultPause``, `ITR_TEST_PAUSE=after-confirm`); inert when unset.
    private let faultPause: FaultPause

    public init(
        store: SQLStore, publisher: any MessagePublisher, configuration: Configuration = Configuration(),
        metrics: ServiceMetrics? = nil, logger: Logger = Logger(label: "outbox-relay")
    ) {
        self.store = store
        self.publisher = publisher
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.faultPause = FaultPause(logger: logger)
    }

    /// The relay of a service's SQLite store.
    public convenience init(
        store: ServiceStore, publisher: any MessagePublisher, configuration: Configuration = Configuration(),
        metrics: ServiceMetrics? = nil, logger: Logger = Logger(label: "outbox-relay")
    ) {
        self.init(store: .sqlite(store), publisher: publisher, configuration: configuration, metrics: metrics, logger: logger)
    }

    /// Wakes the relay now: a transaction enqueued something and committed.
    public func notify() {
        wake.signal()
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            guard let instance = self.configuration.instance else {
                return try await self.loop()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.keepAlive(instance: instance) }
                try await self.loop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
            self.wake.signal()
        }
    }

    /// Completions of the publishes in flight, handed from their tasks to the loop, and how
    /// many are still outstanding.
    private struct Completions {
        var done: [(seq: Int64, exchange: String, attempts: Int, error: (any Error)?)] = []
        var outstanding = 0
    }

    private let completions = Mutex(Completions())
    /// Rows were adopted (their `seq` may be below the last one started): the loop reads from
    /// the start once nothing is in flight.
    private let adoptedRows = Atomic<Bool>(false)

    /// Several instances: says every `heartbeatInterval` that this instance is alive and adopts
    /// the rows of silent ones, until cancelled. Failures are logged and retried at the next
    /// beat (the database may be away for a moment); they never end the relay.
    private func keepAlive(instance: String) async {
        var first = true
        while !Task.isCancelled {
            do {
                // The sign of life commits on its own, before this relay ever adopts, so that a
                // relay adopting at the same moment sees it.
                let known = try await store.write { db in try Outbox.heartbeat(db, instance: instance) }
                if !known && !first {
                    logger.warning(
                        "this instance was taken for dead by another (silent for longer than the owner timeout): its pending rows were adopted and may be published twice",
                        metadata: ["instance": "\(instance)", "owner_timeout": "\(configuration.ownerTimeout)"])
                }
                if !first {
                    let seconds = configuration.ownerTimeout.inSeconds
                    let adopted = try await store.write { db in
                        try Outbox.adoptOrphans(db, instance: instance, aliveSince: Date().addingTimeInterval(-seconds))
                    }
                    if adopted > 0 {
                        logger.warning("outbox rows adopted from a silent instance", metadata: ["rows": "\(adopted)", "instance": "\(instance)"])
                        adoptedRows.store(true, ordering: .sequentiallyConsistent)
                        wake.signal()
                    }
                }
                first = false
            } catch is CancellationError {
                return
            } catch {
                logger.error("outbox heartbeat failed; will retry", metadata: ["instance": "\(instance)", "error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.heartbeatInterval)
        }
    }

    private func loop() async throws {
        if let metrics, let parked = try? await store.read({ db in try Outbox.parkedCount(db) }) {
            metrics.outboxParkedRows.set(Double(parked))
        }
        var backoff = configuration.initialBackoff
        var state = PassState()
        while !Task.isCancelled {
            let shutdown = shuttingDown.load(ordering: .sequentiallyConsistent)
            let outcome: PassOutcome
            do {
                outcome = try await step(&state)
            } catch {
                logger.error("outbox pass failed", metadata: ["error": "\(error)"])
                state.failing = true
                outcome = state.inFlight > 0 ? .waiting : .failed
            }
            switch outcome {
            case .moreWaiting:
                backoff = configuration.initialBackoff
                continue
            case .waiting:
                // Confirms outstanding: each one signals the wake.
                await wake.wait(timeout: configuration.pollInterval)
            case .empty:
                backoff = configuration.initialBackoff
                if shutdown { return }
                // Nothing in flight and nothing confirmed left undeleted: read from the start
                // next time, so that rows made pending again (unparked) are seen.
                state.lastStarted = 0
                await wake.wait(timeout: configuration.pollInterval)
            case .failed:
                if shutdown { return }
                // A graceful shutdown signals the wake, ending the back-off early.
                await wake.wait(timeout: backoff)
                backoff = min(backoff * 2, configuration.maximumBackoff)
                state.failing = false
                state.lastStarted = 0
            }
        }
    }

    enum PassOutcome: Equatable {
        /// A whole window was read and started: read again at once.
        case moreWaiting
        /// Publishes in flight; nothing more to start now.
        case waiting
        /// Nothing in flight and nothing more is waiting.
        case empty
        /// A publish failed and nothing is in flight any more: back off, then read from the start.
        case failed
    }

    /// What a failed publish means for its row.
    enum FailureKind: Equatable {
        /// It can never succeed as it is: park it now.
        case permanent
        /// The broker refused it: count an attempt, park after ``Configuration/maximumAttempts``.
        case refused
        /// Connection trouble: back off and retry, never park.
        case transient
    }

    static func classify(_ error: any Error) -> FailureKind {
        guard let amqp = error as? AMQPError else { return .transient }
        switch amqp.code {
        case .unencodable, .unroutable: return .permanent
        case .publishNacked, .channelClosed: return .refused
        default: return .transient
        }
    }

    struct PassState {
        /// The highest `seq` handed to the publisher since the last (re)start.
        var lastStarted: Int64 = 0
        var inFlight = 0
        /// Confirmed rows not yet deleted.
        var confirmed: [Int64] = []
        /// A publish failed: start nothing new until what is in flight has completed.
        var failing = false
        var lastCount: ContinuousClock.Instant?
    }

    /// One turn: takes the completed publishes, deletes confirmed rows when due, and starts
    /// the publishes of rows committed since (up to `window` in flight).
    func step(_ state: inout PassState) async throws -> PassOutcome {
        let window = configuration.window
        let done = completions.withLock { state in
            defer { state.done.removeAll(keepingCapacity: true) }
            return state.done
        }
        state.inFlight -= done.count
        var failures = 0
        var park: [(seq: Int64, reason: String)] = []
        var refused: [Int64] = []
        for completion in done {
            guard let error = completion.error else {
                state.confirmed.append(completion.seq)
                metrics?.eventsPublished(exchange: completion.exchange).increment()
                continue
            }
            failures += 1
            switch Self.classify(error) {
            case .permanent:
                park.append((completion.seq, "\(error)"))
            case .refused where completion.attempts + 1 >= configuration.maximumAttempts:
                park.append((completion.seq, "refused by the broker \(completion.attempts + 1) times; last: \(error)"))
            case .refused:
                refused.append(completion.seq)
                fallthrough
            case .transient:
                if !state.failing {
                    logger.warning(
                        "outbox publish failed; will retry",
                        metadata: ["seq": "\(completion.seq)", "error": "\(error)"])
                }
                state.failing = true
            }
        }
        if failures > 0 { metrics?.outboxPublishFailures.increment(by: Int64(failures)) }
        let deleteDue = !state.confirmed.isEmpty && (state.inFlight == 0 || state.confirmed.count >= max(1, window / 2))
        if deleteDue || !park.isEmpty || !refused.isEmpty {
            if deleteDue { await faultPause.pause(at: .afterConfirm) }
            let seqs = deleteDue ? state.confirmed : []
            let parkNow = park
            let refusedNow = refused
            try await store.write { db in
                try Outbox.delete(db, seqs: seqs)
                for row in parkNow { try Outbox.park(db, seq: row.seq, reason: row.reason) }
                try Outbox.countAttempt(db, seqs: refusedNow)
            }
            if deleteDue { state.confirmed.removeAll(keepingCapacity: true) }
            recordParked(park)
        }
        if state.failing {
            if state.inFlight > 0 { return .waiting }
            try await updatePendingByCount(&state, force: true)
            return .failed
        }
        if state.inFlight == 0, state.confirmed.isEmpty, adoptedRows.load(ordering: .sequentiallyConsistent) {
            adoptedRows.store(false, ordering: .sequentiallyConsistent)
            state.lastStarted = 0
        }
        let room = window - state.inFlight
        guard room > 0 else { return .waiting }
        let after = state.lastStarted
        let owner = configuration.instance
        let rows = try await store.read { db in try Outbox.nextRows(db, after: after, limit: room, owner: owner) }
        let entries = rows.entries
        if !rows.undecodable.isEmpty {
            let bad = rows.undecodable
            try await store.write { db in
                for row in bad { try Outbox.park(db, seq: row.seq, reason: row.reason) }
            }
            recordParked(bad)
        }
        start(entries)
        let lastRead = max(entries.last?.seq ?? 0, rows.undecodable.last?.seq ?? 0)
        if lastRead > 0 { state.lastStarted = max(state.lastStarted, lastRead) }
        state.inFlight += entries.count
        if entries.count + rows.undecodable.count == room {
            try await updatePendingByCount(&state, force: false)
            return state.inFlight < window ? .moreWaiting : .waiting
        }
        // A short read: every row not yet deleted is in flight or confirmed (no failures).
        metrics?.outboxPending.set(Double(state.inFlight + state.confirmed.count))
        return state.inFlight > 0 ? .waiting : .empty
    }

    /// Starts the publishes of `entries` in order. Each completion is recorded; it wakes the
    /// loop only when it matters (the last one in flight, a failure, or room again in a full
    /// window): new rows wake it through ``notify()``, so a busy relay does not read the table
    /// once per confirm.
    private func start(_ entries: [Outbox.Entry]) {
        guard !entries.isEmpty else { return }
        let publisher = self.publisher
        let mandatory = configuration.mandatory
        let window = configuration.window
        completions.withLock { $0.outstanding += entries.count }
        for entry in entries {
            Task.immediate { [self] in
                var failure: (any Error)?
                do {
                    try await publisher.publish(
                        entry.message, exchange: entry.exchange, routingKey: entry.routingKey, mandatory: mandatory)
                } catch {
                    failure = error
                }
                let wake = self.completions.withLock { state -> Bool in
                    state.done.append((entry.seq, entry.exchange, entry.attempts, failure))
                    state.outstanding -= 1
                    return state.outstanding == 0 || failure != nil || state.outstanding == window - 1
                }
                if wake { self.wake.signal() }
            }
        }
    }

    /// Logs and counts parked rows (one line each: they need someone's attention).
    private func recordParked(_ rows: [(seq: Int64, reason: String)]) {
        guard !rows.isEmpty else { return }
        for row in rows {
            logger.error(
                "outbox row parked: it will not be published until unparked",
                metadata: ["seq": "\(row.seq)", "reason": "\(row.reason.prefix(500))"])
        }
        metrics?.outboxParked.increment(by: Int64(rows.count))
        metrics?.outboxParkedRows.increment(by: Double(rows.count))
    }

    /// `itr_outbox_pending` by `COUNT(*)`: always when `force`, else at most once per second.
    private func updatePendingByCount(_ state: inout PassState, force: Bool) async throws {
        guard let metrics else { return }
        let now = ContinuousClock.now
        if !force, let last = state.lastCount, now - last < .seconds(1) { return }
        state.lastCount = now
        let pending = try await store.read { db in try Outbox.count(db) }
        metrics.outboxPending.set(Double(pending))
    }
}
