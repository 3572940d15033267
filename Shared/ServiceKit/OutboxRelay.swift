import AMQPClient
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Publishes the outbox: rows in sequence order, with publisher confirms, up to `window`
/// in flight; deletes rows once confirmed (one delete per pass). Never loses a row: a row is
/// deleted only after the broker confirmed it, so a crash or failure means it is published
/// again (consumers de-duplicate by CloudEvent source + id).
///
/// Wakes at once on ``notify()`` (call it after a transaction that enqueued something
/// committed) and otherwise polls every `pollInterval`. On a failed publish it backs off
/// (doubling up to `maximumBackoff`) and retries the failed rows; rows confirmed in the same
/// pass are deleted, so under failures order across rows is best effort.
///
/// Order: each pass starts the publishes of its rows in `seq` order with
/// `addImmediateTask`, so with a publisher that enqueues before its first suspension (as
/// `AMQPConnection` does) the broker receives them in order.
///
/// Graceful shutdown: finishes the pass in flight, makes one last pass over what is pending
/// (the consumer, stopped before, may just have enqueued), then returns; what is left stays
/// in the table for the next start.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var window: Int = 256
        public var pollInterval: Duration = .milliseconds(500)
        public var initialBackoff: Duration = .milliseconds(100)
        public var maximumBackoff: Duration = .seconds(5)
        public var mandatory: Bool = false

        public init() {}
    }

    private let store: ServiceStore
    private let publisher: any MessagePublisher
    private let configuration: Configuration
    private let metrics: ServiceMetrics?
    private let logger: Logger
    private let wake = WakeSignal()
    private let shuttingDown = Atomic<Bool>(false)

    public init(
        store: ServiceStore, publisher: any MessagePublisher, configuration: Configuration = Configuration(),
        metrics: ServiceMetrics? = nil, logger: Logger = Logger(label: "outbox-relay")
    ) {
        self.store = store
        self.publisher = publisher
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Wakes the relay now: a transaction enqueued something and committed.
    public func notify() {
        wake.signal()
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.loop()
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
            self.wake.signal()
        }
    }

    private func loop() async throws {
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            if shuttingDown.load(ordering: .sequentiallyConsistent) {
                await drainOnce()
                return
            }
            let outcome: PassOutcome
            do {
                outcome = try await publishPass()
            } catch {
                logger.error("outbox pass failed", metadata: ["error": "\(error)"])
                outcome = .failed
            }
            switch outcome {
            case .moreWaiting:
                backoff = configuration.initialBackoff
                continue
            case .empty:
                backoff = configuration.initialBackoff
                await wake.wait(timeout: configuration.pollInterval)
            case .failed:
                await sleepAllowingShutdown(backoff)
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    /// One more pass on shutdown, until the table is empty or a publish fails.
    private func drainOnce() async {
        while !Task.isCancelled {
            guard let outcome = try? await publishPass(), outcome == .moreWaiting else { return }
        }
    }

    private func sleepAllowingShutdown(_ duration: Duration) async {
        // A graceful shutdown signals the wake, ending the back-off early.
        await wake.wait(timeout: duration)
    }

    enum PassOutcome: Equatable {
        /// Everything read was confirmed and the pass was full: read again at once.
        case moreWaiting
        /// Everything read was confirmed and nothing more is waiting.
        case empty
        /// At least one publish failed.
        case failed
    }

    /// Publishes up to `window` pending rows, deletes the confirmed ones, updates the gauge.
    func publishPass() async throws -> PassOutcome {
        let window = configuration.window
        let entries = try await store.pool.read { db in try Outbox.pending(db, limit: window) }
        guard !entries.isEmpty else {
            metrics?.outboxPending.set(Double(0))
            return .empty
        }
        let publisher = self.publisher
        let mandatory = configuration.mandatory
        let results = await withTaskGroup(of: (Int64, String, (any Error)?).self) { group in
            for entry in entries {
                group.addImmediateTask {
                    do {
                        try await publisher.publish(
                            entry.message, exchange: entry.exchange, routingKey: entry.routingKey, mandatory: mandatory)
                        return (entry.seq, entry.exchange, nil)
                    } catch {
                        return (entry.seq, entry.exchange, error)
                    }
                }
            }
            var results: [(Int64, String, (any Error)?)] = []
            results.reserveCapacity(entries.count)
            for await result in group { results.append(result) }
            return results
        }
        let confirmed = results.filter { $0.2 == nil }.map(\.0)
        let failures = results.filter { $0.2 != nil }
        if !confirmed.isEmpty {
            try await store.pool.write { db in try Outbox.delete(db, seqs: confirmed) }
        }
        if let metrics {
            for (_, exchange, error) in results where error == nil {
                metrics.eventsPublished(exchange: exchange).increment()
            }
            if !failures.isEmpty { metrics.outboxPublishFailures.increment(by: Int64(failures.count)) }
            let pending = try await store.pool.read { db in try Outbox.count(db) }
            metrics.outboxPending.set(Double(pending))
        }
        if let first = failures.min(by: { $0.0 < $1.0 }) {
            logger.warning(
                "outbox publish failed; will retry",
                metadata: ["failed": "\(failures.count)", "confirmed": "\(confirmed.count)", "first_seq": "\(first.0)",
                    "error": "\(first.2.map { "\($0)" } ?? "")"])
            return .failed
        }
        return entries.count == window ? .moreWaiting : .empty
    }
}
