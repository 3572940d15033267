import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Data retention: keeps a service's store (SQLite or PostgreSQL) from growing without bound.
///
/// Every ``Configuration/pruneInterval`` (wall time; the first run ``Configuration/firstRunDelay``
/// after start, so a service restarted more often than hourly still prunes) it runs its
/// ``RetentionStep``s in turn, each in write transactions of at most
/// ``Configuration/batchSize`` rows, so it never holds the writer for long and the consumers'
/// transactions interleave with its batches. The cut-off instants come from the deployment's
/// clock (`runtime.clock`), so an accelerated demonstration prunes on business time.
///
/// ``ITRServiceHost`` adds one to every service with ``RetentionStep/inbox(retention:)``
/// (the shared de-duplication table, kept `ITR_INBOX_RETENTION_DAYS`, default 30 days) and the
/// service's own steps (``ServiceComponents/retention``). Records of the business (tickets
/// and their history) are not pruned.
///
/// The trade-off: de-duplication only reaches back as far as the retention window. A
/// duplicate delivered after its entry was pruned is processed again as if new. Brokers
/// redeliver within minutes or hours (an unacked delivery after a crash, a publisher's retry
/// after a lost confirm), and 30 days is far beyond that, so the window must exceed any
/// redelivery or replay horizon. An explicit replay is not covered: `itrctl dlq replay` of a
/// message older than the window is applied again.
///
/// Each pruned row counts in `itr_retention_pruned_rows_total{table}`; a run that pruned
/// something logs one info line. A failed run is logged and retried at the next interval.
/// Graceful shutdown: returns at once while idle; a run in progress stops after its current
/// batch (what is left is pruned next time).
public final class RetentionService: Service, Sendable {
    public struct Configuration: Sendable {
        /// Wall time between runs.
        public var pruneInterval: Duration = .seconds(3_600)
        /// Wall time from start to the first run (after the start-up backlog, usually).
        public var firstRunDelay: Duration = .seconds(60)
        /// Rows deleted per write transaction at most.
        public var batchSize: Int = 5_000

        public init() {}
    }

    /// What one run did.
    public struct Run: Sendable, Equatable {
        /// Rows deleted, by step table (only tables with rows deleted).
        public var pruned: [String: Int] = [:]
        /// Write transactions used (each deletes at most one batch).
        public var transactions = 0
        /// False when a graceful shutdown stopped the run before every step was done.
        public var completed = true

        public var total: Int { pruned.values.reduce(0, +) }
    }

    private let store: SQLStore
    private let steps: [RetentionStep]
    private let clock: any ServiceClock
    private let configuration: Configuration
    private let metrics: ServiceMetrics?
    private let logger: Logger
    private let wake = WakeSignal()
    private let shuttingDown = Atomic<Bool>(false)

    public init(
        store: SQLStore, steps: [RetentionStep], clock: any ServiceClock = SystemClock(),
        configuration: Configuration = Configuration(), metrics: ServiceMetrics? = nil,
        logger: Logger = Logger(label: "retention")
    ) {
        self.store = store
        self.steps = steps
        self.clock = clock
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
            self.wake.signal()
        }
    }

    private var stopping: Bool { shuttingDown.load(ordering: .sequentiallyConsistent) || Task.isCancelled }

    private func loop() async {
        var delay = configuration.firstRunDelay
        while !stopping {
            await wake.wait(timeout: delay)
            if stopping { return }
            do {
                let run = try await prune()
                if run.total > 0 {
                    logger.info(
                        "retention pruned rows",
                        metadata: [
                            "rows": "\(run.total)", "transactions": "\(run.transactions)",
                            "tables": "\(run.pruned.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
                        ])
                }
            } catch {
                logger.error("retention run failed; retrying at the next interval", metadata: ["error": "\(error)"])
            }
            delay = configuration.pruneInterval
        }
    }

    /// One run: every step in batches until it has nothing more due at the clock's now.
    @discardableResult
    public func prune() async throws -> Run {
        let now = clock.now()
        let limit = max(1, configuration.batchSize)
        var run = Run()
        for step in steps {
            var deleted = 0
            repeat {
                if stopping {
                    run.completed = false
                    return run
                }
                deleted = try await store.write { db in try step.prune(db, now, limit) }
                run.transactions += 1
                if deleted > 0 {
                    run.pruned[step.table, default: 0] += deleted
                    metrics?.retentionPrunedRows(table: step.table).increment(by: Int64(deleted))
                }
            } while deleted >= limit
        }
        return run
    }
}
