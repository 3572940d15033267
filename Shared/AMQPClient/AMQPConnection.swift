import Foundation
import Logging

/// A connection to RabbitMQ over librabbitmq, owned by its own thread.
///
/// - Publishing uses publisher confirms: `publish` returns once the broker confirmed, with at most
///   `configuration.confirmWindow` messages in flight per connection.
/// - Consumers are `AsyncSequence`s of deliveries with manual acknowledgement and a prefetch.
/// - After a lost connection the thread reconnects with exponential back-off and jitter,
///   re-declares the topology, restores confirm mode, qos and consumers, and publishes again
///   whatever was not confirmed (at-least-once; consumers de-duplicate by event id).
///   Settlements of deliveries from before the loss are dropped.
public final class AMQPConnection: Sendable {
    let core: ConnectionCore

    public var configuration: AMQPConfiguration { core.configuration }
    /// True while a connection to the broker is up (false while recovering).
    public var isConnected: Bool { core.isConnected }
    public var statistics: AMQPStatistics { core.statistics }

    private init(core: ConnectionCore) { self.core = core }

    /// Connects once; throws if that first attempt fails (callers decide whether to retry).
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger) async throws(AMQPError) -> AMQPConnection {
        let core = try ConnectionCore(configuration: configuration, logger: logger)
        let result: AMQPError? = await withCheckedContinuation { cont in
            core.start { error in cont.resume(returning: error) }
        }
        if let result { throw result }
        logger.info("amqp connected", metadata: ["broker": "\(configuration.redactedURL)", "connection": "\(configuration.connectionName)"])
        return AMQPConnection(core: core)
    }

    /// Connects, retrying with back-off until it succeeds or the task is cancelled.
    public static func connectWithRetry(_ configuration: AMQPConfiguration, logger: Logger) async throws -> AMQPConnection {
        var backoff = ReconnectBackoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay)
        while true {
            do {
                return try await connect(configuration, logger: logger)
            } catch {
                if error.code == .invalidConfiguration { throw error }
                let delay = backoff.nextDelay()
                logger.warning("amqp connect failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Declares exchanges, queues and bindings (idempotent) and remembers them for recovery.
    public func declare(_ topology: AMQPTopology) async throws(AMQPError) {
        try await perform { cont in .declare(topology, cont) }
    }

    /// Publishes one message and waits for the broker's confirm.
    /// - Throws: `.publishNacked`, `.unroutable` (mandatory and no queue took it), `.channelClosed`
    ///   (for example, the exchange does not exist), `.closed`.
    public func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false) async throws(AMQPError) {
        try await perform { cont in
            .publish(PendingPublish(message: message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, completion: .continuation(cont)))
        }
    }

    /// Publishes one message without waiting; `onConfirm` runs on the connection's thread when
    /// the broker confirmed (`nil`) or refused it (the error). Keep `onConfirm` short: it may
    /// settle a delivery or resume a continuation, not do work. For pipelines that must not
    /// pay a task switch per message.
    public func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false,
        onConfirm: @escaping @Sendable (AMQPError?) -> Void
    ) {
        let pending = PendingPublish(message: message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, completion: .callback(onConfirm))
        if !core.submit(.publish(pending)) { onConfirm(AMQPError(.closed, "the connection is closed")) }
    }

    /// Starts consuming `queue` with manual acknowledgement. The consumer survives recovery.
    /// The sequence ends with `.consumerCancelled` if the broker cancels it (queue deleted), and
    /// normally after `cancel()` or `close()`.
    public func consume(queue: String, prefetch: UInt16 = 64, consumerTag: String? = nil) async throws(AMQPError) -> AMQPConsumer {
        let channel = core.allocateChannel()
        let tag = consumerTag ?? "\(core.configuration.connectionName).\(queue).\(channel)"
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        let state = ConsumerState(queue: queue, prefetch: prefetch, tag: tag, channel: channel, sink: .stream(continuation))
        let core = self.core
        continuation.onTermination = { reason in
            if case .cancelled = reason { core.submit(.cancel(state)) }
        }
        try await perform { cont in .consume(state, cont) }
        return AMQPConsumer(stream: stream, state: state, core: core)
    }

    /// Starts a consumer whose deliveries are handed to `onDelivery` on the connection's thread,
    /// in order, without a task switch per message — for stages that only transform and
    /// republish (`publish(..., onConfirm:)`). `onDelivery` must not block; `onEnd` runs once
    /// when the consumer ends (nil after `cancel`/`close`, the error when the broker cancelled it).
    /// Returns the consumer tag; cancel with `cancelConsumer(tag:)`.
    @discardableResult
    public func consume(
        queue: String, prefetch: UInt16 = 64, consumerTag: String? = nil,
        onDelivery: @escaping @Sendable (AMQPDelivery) -> Void,
        onEnd: @escaping @Sendable (AMQPError?) -> Void = { _ in }
    ) async throws(AMQPError) -> AMQPCallbackConsumer {
        let channel = core.allocateChannel()
        let tag = consumerTag ?? "\(core.configuration.connectionName).\(queue).\(channel)"
        let state = ConsumerState(queue: queue, prefetch: prefetch, tag: tag, channel: channel, sink: .callback(onDelivery, onEnd))
        try await perform { cont in .consume(state, cont) }
        return AMQPCallbackConsumer(state: state, core: core)
    }

    /// Messages and consumers of a queue (passive declare); `.channelClosed` with 404 if it does not exist.
    public func inspectQueue(_ name: String) async throws(AMQPError) -> AMQPQueueStatus {
        try await queueOperation(.inspect(name))
    }

    /// Removes every ready message of a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await queueOperation(.purge(name)).messageCount
    }

    @discardableResult
    public func deleteQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await queueOperation(.delete(name)).messageCount
    }

    /// Cancels consumers, waits (up to 5 s) for outstanding confirms, closes the connection and
    /// ends its thread. Idempotent.
    public func close() async {
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            if !core.submit(.close(cont)) { cont.resume() }
        }
    }

    private func queueOperation(_ op: ConnectionCore.QueueOperation) async throws(AMQPError) -> AMQPQueueStatus {
        do {
            return try await withCheckedThrowingContinuation { cont in
                if !core.submit(.queueOperation(op, cont)) { cont.resume(throwing: AMQPError(.closed, "the connection is closed")) }
            }
        } catch {
            throw Self.typed(error)
        }
    }

    private func perform(_ command: (CheckedContinuation<Void, any Error>) -> ConnectionCore.Command) async throws(AMQPError) {
        do {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
                if !core.submit(command(cont)) { cont.resume(throwing: AMQPError(.closed, "the connection is closed")) }
            }
        } catch {
            throw Self.typed(error)
        }
    }

    static func typed(_ error: any Error) -> AMQPError {
        (error as? AMQPError) ?? AMQPError(.protocolError, "\(error)")
    }
}

/// The deliveries of one consumer, in order.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias Failure = any Error

    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    let state: ConsumerState
    let core: ConnectionCore

    public var queue: String { state.queue }
    public var consumerTag: String { state.tag }

    /// Stops new deliveries (basic.cancel). Deliveries already received can still be read and
    /// settled; then the sequence ends.
    public func cancel() { core.submit(.cancel(state)) }

    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// A consumer started with `consume(queue:prefetch:consumerTag:onDelivery:onEnd:)`.
public struct AMQPCallbackConsumer: Sendable {
    let state: ConsumerState
    let core: ConnectionCore

    public var queue: String { state.queue }
    public var consumerTag: String { state.tag }

    /// Stops new deliveries (basic.cancel); `onEnd` runs afterwards.
    public func cancel() { core.submit(.cancel(state)) }
}
