import AMQPClient
import Foundation
import ITREvents
import Logging
import ServiceLifecycle
import Synchronization

/// Consumes a queue and hands deliveries to an ``EventHandler`` in batches.
///
/// Each round takes every delivery already buffered (up to `maximumBatch`, waiting only for
/// the first), calls the handler once (one write transaction: group commit), then settles:
///
/// - `.processed`, `.duplicate` → ack;
/// - `.invalid` → the original body and properties, with the `x-itr-*` reason headers added,
///   go into the outbox for the rejection target (one transaction for the batch; the relay
///   publishes them with confirms), then ack — never lost, at worst rejected twice after a crash;
/// - `.retry` → nack with requeue.
///
/// The relay is woken as soon as the batch's transactions committed, before the settling.
/// If the handler throws for the batch, the deliveries are handled
/// one at a time; one that still throws is nacked WITHOUT requeue (so the queue dead-letters
/// it to `<queue>.dlq`) once it has been delivered `maximumRedeliveries` times before, and
/// requeued otherwise.
///
/// Ready (health component `consumer:<queue>`) while the subscription is active. Graceful
/// shutdown: stops taking deliveries, finishes and settles the batch in hand, leaves buffered
/// ones unsettled (the broker redelivers them), and returns.
public final class EventConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        public var queue: String
        public var prefetch: UInt16 = 256
        public var maximumBatch: Int = 128
        public var rejectionTarget: RejectionTarget
        /// Deliveries of a message that keeps throwing before it is dead-lettered.
        public var maximumRedeliveries: Int = 3

        public init(queue: String, rejectionTarget: RejectionTarget? = nil) {
            self.queue = queue
            self.rejectionTarget = rejectionTarget ?? .deadLetterQueue(of: queue)
        }
    }

    public let configuration: Configuration
    private let service: String
    private let source: any DeliverySource
    private let handler: any EventHandler
    private let store: SQLStore
    private let relay: OutboxRelay?
    private let health: HealthState?
    private let metrics: ServiceMetrics?
    private let logger: Logger
    private let buffer = DeliveryBuffer()
    private let stopping = Atomic<Bool>(false)
    /// Test hook (``FaultPause``, `ITR_TEST_PAUSE=after-commit`); inert when unset.
    private let faultPause: FaultPause

    public init(
        service: String, configuration: Configuration, source: any DeliverySource, handler: any EventHandler,
        store: SQLStore, relay: OutboxRelay?, health: HealthState? = nil, metrics: ServiceMetrics? = nil,
        logger: Logger = Logger(label: "consumer")
    ) {
        self.service = service
        self.configuration = configuration
        self.source = source
        self.handler = handler
        self.store = store
        self.relay = relay
        self.health = health
        self.metrics = metrics
        self.logger = logger
        self.faultPause = FaultPause(logger: logger)
    }

    var healthComponent: String { "consumer:\(configuration.queue)" }

    public func run() async throws {
        health?.set(healthComponent, ready: false, detail: "not consuming yet")
        defer {
            health?.set(healthComponent, ready: false, detail: "stopped")
            metrics?.consumerReady(queue: configuration.queue).set(Double(0))
        }
        try await withGracefulShutdownHandler {
            try await self.consumeAndHandle()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .sequentiallyConsistent)
            self.buffer.close()
        }
    }

    private func consumeAndHandle() async throws {
        let failure: (any Error)? = await withTaskGroup(of: (any Error)?.self) { group in
            let queue = configuration.queue
            let prefetch = configuration.prefetch
            group.addTask { [source, buffer, health, metrics, healthComponent] in
                defer { buffer.finish() }
                do {
                    try await source.consume(
                        queue: queue, prefetch: prefetch,
                        consuming: {
                            health?.set(healthComponent, ready: true)
                            metrics?.consumerReady(queue: queue).set(Double(1))
                        },
                        deliver: { buffer.append($0) })
                    return nil
                } catch is CancellationError {
                    return nil
                } catch {
                    return error
                }
            }
            while true {
                let batch = await buffer.nextBatch(maximum: configuration.maximumBatch)
                if batch.isEmpty { break }
                await process(batch)
            }
            group.cancelAll()
            var failure: (any Error)?
            for await result in group where result != nil { failure = result }
            return failure
        }
        if let failure {
            logger.error("consumer failed", metadata: ["queue": "\(configuration.queue)", "error": "\(failure)"])
            throw failure
        }
        if !stopping.load(ordering: .sequentiallyConsistent) && !Task.isCancelled {
            throw ConsumerEndedError(queue: configuration.queue)
        }
        logger.info("consumer stopped", metadata: ["queue": "\(configuration.queue)", "left_unsettled": "\(buffer.count)"])
    }

    /// The subscription ended though nobody asked it to.
    public struct ConsumerEndedError: Error, CustomStringConvertible {
        public var queue: String
        public var description: String { "the consumer of \(queue) ended unexpectedly" }
    }

    /// Handles and settles one batch.
    func process(_ batch: [any AcknowledgeableDelivery]) async {
        let queue = configuration.queue
        let inbound = batch.map(\.inbound)
        let start = ContinuousClock.now
        // What the client could not take whole is rejected without the handler.
        let defective = inbound.map { message -> Disposition? in
            message.defect.map { .invalid(reasonCode: $0.reasonCode, message: $0.description) }
        }
        var dispositions: [Disposition?]
        if defective.allSatisfy({ $0 == nil }) {
            dispositions = await handle(inbound)
        } else {
            let sound = inbound.indices.filter { defective[$0] == nil }
            let handled = sound.isEmpty ? [] : await handle(sound.map { inbound[$0] })
            dispositions = defective
            for (i, index) in sound.enumerated() { dispositions[index] = handled[i] }
        }
        metrics?.handlerDuration(queue: queue).record(ContinuousClock.now - start)
        metrics?.handlerBatchSize(queue: queue).record(Double(batch.count))
        await settle(batch, inbound: inbound, dispositions: dispositions)
    }

    /// The handler's dispositions for `inbound` (nil: it threw for that delivery even alone).
    private func handle(_ inbound: [InboundMessage]) async -> [Disposition?] {
        let queue = configuration.queue
        var dispositions: [Disposition?]
        do {
            let result = try await handler.handle(inbound)
            guard result.count == inbound.count else {
                throw HandlerContractError(expected: inbound.count, got: result.count)
            }
            dispositions = result
        } catch {
            logger.warning(
                "batch handler failed; handling one by one",
                metadata: ["queue": "\(queue)", "batch": "\(inbound.count)", "error": "\(error)"])
            dispositions = []
            for message in inbound {
                do {
                    let single = try await handler.handle([message])
                    guard single.count == 1 else { throw HandlerContractError(expected: 1, got: single.count) }
                    dispositions.append(single[0])
                } catch {
                    logger.error(
                        "handler failed for a delivery",
                        metadata: ["queue": "\(queue)", "event_id": "\(message.message.properties.messageID ?? "")",
                            "delivery_count": "\(message.deliveryCount)", "error": "\(error)"])
                    dispositions.append(nil)
                }
            }
        }
        return dispositions
    }

    private func settle(_ batch: [any AcknowledgeableDelivery], inbound: [InboundMessage], dispositions: [Disposition?]) async {
        let queue = configuration.queue
        // Rejections are made durable (outbox) before the originals are acked.
        let rejections = zip(inbound, dispositions).compactMap { message, disposition -> AMQPMessage? in
            guard case .invalid(let code, let reason)? = disposition else { return nil }
            return rejection(of: message, code: code, reason: reason)
        }
        var rejectionsStored = rejections.isEmpty
        if !rejections.isEmpty {
            rejectionsStored = await storeRejections(rejections)
        }
        // Everything the batch enqueued has committed: the relay starts publishing while the
        // deliveries are settled.
        relay?.notify()
        await faultPause.pause(at: .afterCommit)

        for (delivery, disposition) in zip(batch, dispositions) {
            let message = delivery.inbound
            switch disposition {
            case .processed?:
                delivery.ack()
                metrics?.eventsConsumed(type: Self.typeLabel(message.eventType)).increment()
            case .duplicate?:
                delivery.ack()
                metrics?.eventsDuplicate.increment()
            case .invalid(let code, _)?:
                guard rejectionsStored else { continue }  // left unsettled: redelivered later
                delivery.ack()
                metrics?.eventsRejected(reason: code).increment()
            case .retry?:
                delivery.nack(requeue: true)
            case nil:
                delivery.nack(requeue: message.deliveryCount < configuration.maximumRedeliveries)
            }
            metrics?.deliveries(queue: queue, disposition: disposition?.label ?? "failed").increment()
        }
    }

    /// The `type` label of a consumed event: a type of the contract, else `other`, so that no
    /// producer can grow the metrics registry with made-up types.
    static func typeLabel(_ type: String?) -> String {
        guard let type, EventType(rawValue: type).isKnown else { return "other" }
        return type
    }

    struct HandlerContractError: Error, CustomStringConvertible {
        var expected: Int
        var got: Int
        var description: String { "the handler returned \(got) dispositions for \(expected) deliveries" }
    }

    /// The original message, unchanged, with the reason headers added; cut to what AMQP can
    /// carry where it could not (``RejectedCopy``).
    func rejection(of message: InboundMessage, code: String, reason: String) -> AMQPMessage {
        RejectedCopy.make(
            message.message, code: code, reason: reason, service: service,
            originalExchange: message.exchange, originalRoutingKey: message.routingKey,
            announcedBodySize: message.defect.flatMap {
                if case .bodyTooLarge(let announced, _, _) = $0 { return announced } else { return nil }
            })
    }

    /// Writes the rejections to the outbox, retrying while the database is unavailable.
    /// Returns false only when stopped before it succeeded.
    private func storeRejections(_ rejections: [AMQPMessage]) async -> Bool {
        let target = configuration.rejectionTarget
        var backoff: Duration = .milliseconds(50)
        while true {
            do {
                try await store.write { db in
                    for message in rejections {
                        try Outbox.enqueue(db, message: message, exchange: target.exchange, routingKey: target.routingKey, fitting: true)
                    }
                }
                return true
            } catch {
                logger.error("could not store rejections; retrying", metadata: ["error": "\(error)"])
                if Task.isCancelled { return false }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }
}
