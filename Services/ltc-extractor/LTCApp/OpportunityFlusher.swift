import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Emits the debounced `itr.opportunity.updated` events: every `tick`, each opportunity marked as
/// changed at least `updateInterval` ago (ltc.yaml) gets one update carrying its latest state, so a
/// stream of matching tickets yields one update per opportunity per interval, not one each. The
/// mark is written in the change's own transaction, so a crash in between loses nothing: the next
/// run's first pass emits it.
public struct OpportunityFlusher: Service {
    public let processor: OpportunityProcessor
    public let relay: OutboxRelay?
    public var tick: Duration
    public let logger: Logger

    public init(processor: OpportunityProcessor, relay: OutboxRelay?, tick: Duration = .seconds(1), logger: Logger) {
        self.processor = processor
        self.relay = relay
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let flushed = try await processor.flushPendingUpdates()
                if flushed > 0 {
                    relay?.notify()
                    logger.debug("deferred opportunity updates emitted", metadata: ["count": "\(flushed)"])
                }
            } catch {
                logger.error("could not emit deferred opportunity updates", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
        }
    }
}
