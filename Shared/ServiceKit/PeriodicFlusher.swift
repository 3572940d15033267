import Logging
import ServiceLifecycle

/// Emits a service's debounced updates: calls `flush` at start and then every `interval`
/// until shutdown; `flush` writes the updates that are due to the outbox in its own
/// transaction and returns how many. When it wrote some, the relay is woken. A failed pass is
/// logged and the next one tries again (the pending marks are in the store, so nothing is lost).
public struct PeriodicFlusher: Service {
    /// What is flushed, for the log lines ("opportunity updates").
    public let what: String
    public let interval: Duration
    public let relay: OutboxRelay?
    public let logger: Logger
    public let flush: @Sendable () async throws -> Int

    public init(
        what: String, interval: Duration = .seconds(1), relay: OutboxRelay?, logger: Logger,
        flush: @escaping @Sendable () async throws -> Int
    ) {
        self.what = what
        self.interval = interval
        self.relay = relay
        self.logger = logger
        self.flush = flush
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let flushed = try await flush()
                if flushed > 0 {
                    relay?.notify()
                    logger.debug("deferred \(what) emitted", metadata: ["count": "\(flushed)"])
                }
            } catch {
                logger.error("could not emit deferred \(what)", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
