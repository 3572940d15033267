import CRabbitMQShim
import Foundation
import Logging
import Synchronization

/// The connection thread: the only code that touches the librabbitmq connection.
///
/// Other threads hand it `Command`s through a locked queue and wake it with an eventfd; it
/// answers through continuations and the consumers' streams. Everything below `// MARK: IO
/// thread` runs on that thread only, which is why the class is `@unchecked Sendable`.
///
/// Three layers: ``ConnectionStateMachine`` decides the connection's life (connect, recover
/// with back-off, blocked publishing, close with a deadline) as a pure value; ``RabbitWire``
/// is the thin throwing layer over the raw `amqp_*` calls; this class is the loop between
/// them, with the bookkeeping of channels, consumers and confirms.
final class ConnectionCore: @unchecked Sendable {
    static let controlChannel: UInt16 = 1
    static let publishChannel: UInt16 = 2

    enum Command {
        case declare(AMQPTopology, CheckedContinuation<Void, any Error>)
        case publish(PendingPublish)
        case consume(ConsumerState, CheckedContinuation<Void, any Error>)
        case cancel(ConsumerState)
        case settle(Settlement)
        case queueOperation(QueueOperation, CheckedContinuation<AMQPQueueStatus, any Error>)
        case close(CheckedContinuation<Void, Never>)
    }

    enum QueueOperation {
        /// Passive declare: does it exist, how many messages and consumers.
        case inspect(String)
        case purge(String)
        case delete(String)
    }

    struct Settlement {
        enum Kind { case ack, nack, reject }
        var kind: Kind
        var channel: UInt16
        var epoch: UInt64
        var deliveryTag: UInt64
        var multiple: Bool
        var requeue: Bool
    }

    struct Queue {
        var commands: [Command] = []
        var sleeping = false
        var stopped = false
    }

    let configuration: AMQPConfiguration
    let logger: Logger
    let statistics = AMQPStatistics()
    private let queue = Mutex(Queue())
    private let wakeFD: Int32
    private let connectedFlag = Atomic<Bool>(false)
    private let nextChannel = Atomic<Int>(3)

    var isConnected: Bool { connectedFlag.load(ordering: .acquiring) }

    init(configuration: AMQPConfiguration, logger: Logger) throws(AMQPError) {
        self.configuration = configuration
        self.logger = logger
        let fd = crmq_eventfd_open()
        guard fd >= 0 else { throw AMQPError(.connectionFailed, "cannot create the wake-up eventfd (errno \(errno))") }
        self.wakeFD = fd
        self.machine = ConnectionStateMachine(
            backoff: ReconnectBackoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay))
    }

    deinit { crmq_fd_close(wakeFD) }

    func allocateChannel() -> UInt16 {
        UInt16(truncatingIfNeeded: nextChannel.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    /// Queues a command for the connection thread; false when the thread has stopped.
    @discardableResult
    func submit(_ command: Command) -> Bool {
        let (accepted, wake) = queue.withLock { q -> (Bool, Bool) in
            if q.stopped { return (false, false) }
            q.commands.append(command)
            let wake = q.sleeping
            q.sleeping = false
            return (true, wake)
        }
        if wake { crmq_eventfd_signal(wakeFD) }
        return accepted
    }

    /// Starts the thread, which connects once and reports the outcome through `onFirstConnect`.
    func start(onFirstConnect: @escaping @Sendable (AMQPError?) -> Void) {
        let thread = Thread { [self] in self.threadMain(onFirstConnect) }
        thread.name = "amqp-\(configuration.connectionName)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: IO thread

    private var conn: amqp_connection_state_t?
    /// The node connected to, or tried next: an index into `configuration.endpoints`.
    private var endpointIndex = 0
    private var endpoint: AMQPConfiguration.Endpoint { configuration.endpoints[endpointIndex] }
    /// After a failed attempt or a lost connection the next node is tried (after the last, the first).
    private func nextEndpoint() {
        endpointIndex = (endpointIndex + 1) % configuration.endpoints.count
    }
    private var socketFD: Int32 = -1
    /// The connection's socket, with the header-nesting guard installed (guard.c).
    private var socket: OpaquePointer?
    private let arena = CArena()
    private var machine: ConnectionStateMachine
    private var wire: RabbitWire? { conn.map(RabbitWire.init(conn:)) }
    private var epochCounter: UInt64 = 0
    private var channelEpoch: [UInt16: UInt64] = [:]
    private var topology = AMQPTopology()
    private var pendingDeclares: [(AMQPTopology, CheckedContinuation<Void, any Error>)] = []
    private var consumers: [UInt16: ConsumerState] = [:]
    private var pendingConsumes: [(ConsumerState, CheckedContinuation<Void, any Error>)] = []
    private var waitingPublishes = Deque<PendingPublish>()
    private var confirms = ConfirmTracker<PendingPublish>()
    private var partial: [UInt16: PartialContent] = [:]
    private var pendingAcks: [UInt16: [UInt64]] = [:]
    private var settledTags: [UInt16: SettledTags] = [:]
    /// Who waits for the close to finish.
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    private struct PartialContent {
        enum Kind {
            case delivery(consumerTag: String, deliveryTag: UInt64, redelivered: Bool)
            case returned(replyCode: UInt16, replyText: String)
        }
        var kind: Kind
        var exchange: String
        var routingKey: String
        var properties = AMQPProperties()
        var bodySize: UInt64 = 0
        var body = Data()
        /// Body bytes received (may exceed `body.count` for an oversized message).
        var received: UInt64 = 0
        var headerSeen = false
        var defect: AMQPDeliveryDefect?
    }

    /// What the wire accepts on this connection (the negotiated frame_max and the configured
    /// `maximumMessageSize`), checked before every publish.
    private var limits = AMQPMessageLimits()
    /// Body bytes of deliveries handed out and not yet settled, per channel and delivery tag.
    private var unsettled: [UInt16: [UInt64: Int]] = [:]
    private var unsettledBytes = 0
    /// Reading from the broker is paused (``unsettledBytes`` over the limit).
    private var readingPaused = false
    private var lastHeartbeatSent = ContinuousClock.now

    private func threadMain(_ onFirstConnect: @escaping @Sendable (AMQPError?) -> Void) {
        // The first connection: each node of the list once, in order.
        var failures: [String] = []
        while true {
            do {
                try establish()
                machine.connected()
                onFirstConnect(nil)
                break
            } catch {
                teardown()
                failures.append("\(error)")
                if failures.count < configuration.endpoints.count {
                    logger.warning("amqp node unreachable, trying the next", metadata: ["error": "\(error)"])
                    nextEndpoint()
                    continue
                }
                _ = machine.connectFailed(now: .now)  // the first attempt is the caller's to retry
                queue.withLock { $0.stopped = true }
                onFirstConnect(failures.count == 1 ? error : AMQPError(error.code, failures.joined(separator: "; ")))
                return
            }
        }
        while runOnce() {}
        logger.debug("amqp connection thread finished", metadata: ["connection": "\(configuration.connectionName)"])
    }

    /// One turn of the loop; false when the connection is closed for good.
    private func runOnce() -> Bool {
        let commands = queue.withLock { q -> [Command] in
            let c = q.commands
            q.commands.removeAll(keepingCapacity: true)
            return c
        }
        for command in commands { execute(command) }
        flushAcks()

        let step = machine.nextStep(
            now: .now, hasConnection: conn != nil, outstanding: !(confirms.isEmpty && waitingPublishes.isEmpty))
        switch step {
        case .stop:
            return false
        case .finishClose:
            finishClose()
            return false
        case .sleep(let until):
            sleep(until: until)
            return true
        case .connect:
            do {
                try establish()
                machine.connected()
                logger.info("amqp connection recovered", metadata: ["connection": "\(configuration.connectionName)", "broker": "\(configuration.redactedURL(of: endpoint))"])
            } catch {
                teardown()
                nextEndpoint()
                if case .retry(let at) = machine.connectFailed(now: .now) {
                    let delay = at - .now
                    logger.warning("amqp reconnect failed", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)"])
                }
            }
            return true
        case .work(let publish):
            if publish { flushPublishes() }
            let frames = readFrames()
            if frames == 0, conn != nil {
                let heartbeatMs = configuration.heartbeat > 0 ? max(50, configuration.heartbeat * 250) : 1000
                let closing = if case .closing = machine.state { true } else { false }
                // While reading is paused only commands (settlements) can change anything.
                idleWait(timeoutMs: Int32(min(heartbeatMs, closing ? 20 : 1000)), watchSocket: !readingPaused)
            }
            return true
        }
    }

    private func sleep(until instant: ContinuousClock.Instant) {
        let remaining = instant - .now
        let ms = max(1, Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
        idleWait(timeoutMs: min(ms, 1000), watchSocket: false)
    }

    /// Blocks in poll(2) until the socket has data, a command arrives, or the timeout passes.
    private func idleWait(timeoutMs: Int32, watchSocket: Bool = true) {
        if watchSocket, let conn,
            amqp_frames_enqueued(conn) != 0 || amqp_data_in_buffer(conn) != 0 || crmq_guard_buffered(socket) != 0
        {
            return
        }
        let shouldSleep = queue.withLock { q -> Bool in
            if !q.commands.isEmpty { return false }
            q.sleeping = true
            return true
        }
        guard shouldSleep else { return }
        let mask = crmq_poll(watchSocket ? socketFD : -1, wakeFD, timeoutMs)
        queue.withLock { $0.sleeping = false }
        if mask >= 0, mask & 2 != 0 { crmq_eventfd_drain(wakeFD) }
    }

    // MARK: Commands

    private func execute(_ command: Command) {
        switch command {
        case .publish(let p):
            if case .closing = machine.state, conn == nil {
                p.fail(AMQPError(.closed, "the connection is closed"))
            } else {
                waitingPublishes.append(p)
            }
        case .settle(let s):
            settle(s)
        case .declare(let t, let cont):
            guard conn != nil else { pendingDeclares.append((t, cont)); return }
            do {
                try declareTopology(t)
                topology = topology.merging(t)
                cont.resume()
            } catch {
                cont.resume(throwing: error)
                if error.code == .connectionLost { connectionLost(error) }
            }
        case .consume(let c, let cont):
            guard conn != nil else { pendingConsumes.append((c, cont)); return }
            do {
                try startConsumer(c)
                consumers[c.channel] = c
                cont.resume()
            } catch {
                cont.resume(throwing: error)
                if error.code == .connectionLost { connectionLost(error) }
            }
        case .cancel(let c):
            guard consumers[c.channel] != nil else { c.finish(throwing: nil); return }
            consumers[c.channel] = nil
            if let conn {
                var tag = c.tag
                let ok = tag.withUTF8 { buf in
                    amqp_basic_cancel(conn, c.channel, amqp_bytes_t(len: buf.count, bytes: UnsafeMutableRawPointer(mutating: buf.baseAddress)))
                }
                if ok == nil {
                    let e = CRead.error(amqp_get_rpc_reply(conn), "basic.cancel \(c.tag)")
                    if e.code == .channelClosed { acknowledgeChannelClose(c.channel) } else if e.code == .connectionLost { connectionLost(e) }
                }
            }
            c.finish(throwing: nil)
        case .queueOperation(let op, let cont):
            guard conn != nil else {
                cont.resume(throwing: AMQPError(.connectionLost, "not connected to the broker"))
                return
            }
            do {
                cont.resume(returning: try queueOperation(op))
            } catch {
                cont.resume(throwing: error)
                if error.code == .connectionLost { connectionLost(error) }
            }
        case .close(let cont):
            closeWaiters.append(cont)
            switch machine.closeRequested(now: .now) {
            case .alreadyClosing:
                break
            case .drain, .finishClose:
                // Stop deliveries first; in-flight deliveries may still be acked until the connection closes.
                for c in consumers.values {
                    execute(.cancel(c))
                }
                for (c, cc) in pendingConsumes { cc.resume(throwing: AMQPError(.closed, "the connection is closed")); c.finish(throwing: nil) }
                pendingConsumes.removeAll()
                for (_, dc) in pendingDeclares { dc.resume(throwing: AMQPError(.closed, "the connection is closed")) }
                pendingDeclares.removeAll()
            }
        }
    }

    private func settle(_ s: Settlement) {
        guard let conn, channelEpoch[s.channel] == s.epoch else {
            statistics.staleSettlementsDropped.add(1, ordering: .relaxed)
            return
        }
        release(channel: s.channel, tag: s.deliveryTag, multiple: s.multiple)
        if s.kind == .ack && !s.multiple {
            // Coalesced into as few frames as possible by flushAcks() after this batch of commands.
            pendingAcks[s.channel, default: []].append(s.deliveryTag)
            return
        }
        let wire = RabbitWire(conn: conn)
        if s.multiple {
            settledTags[s.channel, default: SettledTags()].settleThrough(s.deliveryTag)
        } else {
            settledTags[s.channel, default: SettledTags()].settle(s.deliveryTag)
        }
        do {
            switch s.kind {
            case .ack: try wire.ack(channel: s.channel, tag: s.deliveryTag, multiple: true)
            case .nack: try wire.nack(channel: s.channel, tag: s.deliveryTag, multiple: s.multiple, requeue: s.requeue)
            case .reject: try wire.reject(channel: s.channel, tag: s.deliveryTag, requeue: s.requeue)
            }
        } catch {
            connectionLost(error)
        }
    }

    /// A settled delivery's bytes no longer count against ``AMQPConfiguration/maximumUnsettledBytes``.
    private func release(channel: UInt16, tag: UInt64, multiple: Bool) {
        guard var tags = unsettled[channel], !tags.isEmpty else { return }
        if multiple {
            for (t, bytes) in tags where t <= tag {
                tags[t] = nil
                unsettledBytes -= bytes
            }
        } else if let bytes = tags.removeValue(forKey: tag) {
            unsettledBytes -= bytes
        }
        unsettled[channel] = tags
    }

    /// Forgets the unsettled deliveries of a channel that is gone (the broker requeued them).
    private func releaseAll(channel: UInt16? = nil) {
        if let channel {
            unsettledBytes -= unsettled.removeValue(forKey: channel)?.values.reduce(0, +) ?? 0
        } else {
            unsettled.removeAll()
            unsettledBytes = 0
        }
    }

    /// Sends the acks gathered in one turn: one `multiple` ack for every tag up to the point
    /// below which all deliveries of the channel are settled, single acks for the rest. Nothing
    /// is held back for a later turn.
    private func flushAcks() {
        guard !pendingAcks.isEmpty else { return }
        defer { pendingAcks.removeAll(keepingCapacity: true) }
        guard let conn else { return }
        for (channel, tags) in pendingAcks {
            var tracker = settledTags[channel, default: SettledTags()]
            for t in tags { tracker.settle(t) }
            settledTags[channel] = tracker
            let wire = RabbitWire(conn: conn)
            let floor = tracker.floor
            do {
                // One `multiple` ack through the highest of this turn's own acks under the
                // floor: it covers every lower tag still outstanding. Never through the floor
                // itself: that tag may have been nacked or rejected (already settled), and
                // acking it again is `406 unknown delivery tag`, which closes the channel.
                let covered = tags.filter { $0 <= floor }
                if let top = covered.max() {
                    try wire.ack(channel: channel, tag: top, multiple: true)
                    statistics.acksCoalesced.add(covered.count - 1, ordering: .relaxed)
                }
                for t in tags where t > floor { try wire.ack(channel: channel, tag: t, multiple: false) }
            } catch {
                connectionLost(error)
                return
            }
        }
    }

    private func flushPublishes() {
        guard let wire, machine.mayPublish else { return }
        while confirms.count < configuration.confirmWindow, let p = waitingPublishes.popFirst() {
            // A message the wire cannot carry fails alone, before anything is sent.
            do {
                try AMQPWire.check(p.message, exchange: p.exchange, routingKey: p.routingKey, limits: limits)
            } catch {
                statistics.unencodable.add(1, ordering: .relaxed)
                p.fail(error)
                continue
            }
            let sequence = confirms.register(p)
            var props = arena.properties(p.message.properties)
            do {
                try wire.publish(
                    channel: Self.publishChannel, exchange: arena.bytes(p.exchange), routingKey: arena.bytes(p.routingKey),
                    mandatory: p.mandatory, properties: &props, body: p.message.body,
                    context: "to '\(p.exchange)' with routing key '\(p.routingKey)'")
                arena.reset()
            } catch {
                arena.reset()
                if error.code == .unencodable {
                    // librabbitmq refused to encode what the check let through. Only this
                    // message fails (it is not published again); the method frame may already
                    // have left, so the connection starts afresh for the others.
                    _ = confirms.resolve(tag: sequence, multiple: false)
                    statistics.unencodable.add(1, ordering: .relaxed)
                    p.fail(error)
                    logger.error("amqp publish refused by librabbitmq after the check; reconnecting", metadata: ["error": "\(error)"])
                }
                connectionLost(error)
                return
            }
            statistics.published.add(1, ordering: .relaxed)
        }
    }

    // MARK: Frames

    /// Reads and dispatches what is available without blocking; returns the number of frames.
    private func readFrames() -> Int {
        if unsettledBytes > configuration.maximumUnsettledBytes {
            if !readingPaused {
                readingPaused = true
                statistics.readPauses.add(1, ordering: .relaxed)
                logger.warning(
                    "amqp reading paused: unsettled deliveries hold too many bytes",
                    metadata: ["unsettled_bytes": "\(unsettledBytes)", "limit": "\(configuration.maximumUnsettledBytes)"])
            }
            sendHeartbeatIfDue()
            return 0
        }
        if readingPaused {
            readingPaused = false
            logger.info("amqp reading resumed", metadata: ["unsettled_bytes": "\(unsettledBytes)"])
        }
        var count = 0
        var frame = amqp_frame_t()
        let budget = configuration.maximumUnsettledBytes
        while count < 1024, unsettledBytes <= budget, let wire {
            do {
                guard try wire.nextFrame(&frame) else { break }
            } catch {
                connectionLost(error)
                return count
            }
            count += 1
            dispatch(&frame)
        }
        if let conn, count > 0 { amqp_maybe_release_buffers(conn) }
        return count
    }

    /// While reading is paused librabbitmq does not run its heartbeat timer (it does so when
    /// waiting for frames), so the loop sends them.
    private func sendHeartbeatIfDue() {
        guard let wire, configuration.heartbeat > 0 else { return }
        let now = ContinuousClock.now
        guard now - lastHeartbeatSent >= .seconds(max(1, configuration.heartbeat / 2)) else { return }
        lastHeartbeatSent = now
        do { try wire.heartbeat() } catch { connectionLost(error) }
    }

    private func dispatch(_ frame: inout amqp_frame_t) {
        let channel = frame.channel
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            method(channel: channel, id: crmq_frame_method_id(&frame), decoded: crmq_frame_method_decoded(&frame))
        case AMQP_FRAME_HEADER:
            // Every header frame takes its record from the guard, in stream order.
            let capped = crmq_guard_take_header(socket, channel) != 0
            guard var p = partial[channel], !p.headerSeen else { return }
            if capped { p.defect = .headersTooDeep(limit: CRead.maximumTableDepth) }
            if let props = crmq_frame_properties(&frame) {
                var reading = CRead.TableReading()
                p.properties = CRead.properties(props, &reading)
                if reading.tooDeep || capped { p.defect = .headersTooDeep(limit: CRead.maximumTableDepth) }
            }
            p.bodySize = crmq_frame_body_size(&frame)
            p.headerSeen = true
            // The announced size is checked before anything is reserved: an oversized body
            // keeps only its first bytes (for the rejection copy), the rest is read and dropped.
            let limit = configuration.maximumMessageSize
            if p.bodySize > UInt64(limit) {
                let kept = min(AMQPConfiguration.keptPrefixOfOversized, limit)
                p.defect = .bodyTooLarge(announced: p.bodySize, limit: limit, kept: kept)
                p.body.reserveCapacity(kept)
                statistics.oversizedDeliveries.add(1, ordering: .relaxed)
            } else {
                p.body.reserveCapacity(Int(p.bodySize))
            }
            partial[channel] = p
            if p.bodySize == 0 { completeContent(channel) }
        case AMQP_FRAME_BODY:
            guard partial[channel]?.headerSeen == true else { return }
            let fragment = crmq_frame_body_fragment(&frame)
            if fragment.len > 0, let bytes = fragment.bytes {
                partial[channel]!.received += UInt64(fragment.len)
                var room = fragment.len
                if case .bodyTooLarge(_, _, let kept)? = partial[channel]!.defect {
                    room = max(0, min(fragment.len, kept - partial[channel]!.body.count))
                }
                if room > 0 { partial[channel]!.body.append(bytes.assumingMemoryBound(to: UInt8.self), count: room) }
            }
            if partial[channel]!.received >= partial[channel]!.bodySize { completeContent(channel) }
        default:
            break
        }
    }

    private func method(channel: UInt16, id: UInt32, decoded: UnsafeMutableRawPointer?) {
        switch id {
        case AMQPMethod.basicDeliver:
            guard let m = decoded?.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee else { return }
            partial[channel] = PartialContent(
                kind: .delivery(consumerTag: CRead.string(m.consumer_tag), deliveryTag: m.delivery_tag, redelivered: m.redelivered != 0),
                exchange: CRead.string(m.exchange), routingKey: CRead.string(m.routing_key))
        case AMQPMethod.basicAck:
            guard let m = decoded?.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee else { return }
            for (_, p) in confirms.resolve(tag: m.delivery_tag, multiple: m.multiple != 0) {
                if let returned = p.returned { p.fail(returned); statistics.returned.add(1, ordering: .relaxed) } else {
                    p.succeed()
                    statistics.confirmed.add(1, ordering: .relaxed)
                }
            }
        case AMQPMethod.basicNack:
            guard let m = decoded?.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee else { return }
            for (_, p) in confirms.resolve(tag: m.delivery_tag, multiple: m.multiple != 0) {
                statistics.nacked.add(1, ordering: .relaxed)
                p.fail(AMQPError(.publishNacked, "the broker nacked the message published to '\(p.exchange)' with routing key '\(p.routingKey)'"))
            }
        case AMQPMethod.basicReturn:
            guard let m = decoded?.assumingMemoryBound(to: amqp_basic_return_t.self).pointee else { return }
            partial[channel] = PartialContent(
                kind: .returned(replyCode: m.reply_code, replyText: CRead.string(m.reply_text)),
                exchange: CRead.string(m.exchange), routingKey: CRead.string(m.routing_key))
        case AMQPMethod.basicCancel:
            // consumer_cancel_notify: the broker cancelled this consumer (queue deleted, node down...).
            guard let m = decoded?.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee else { return }
            let tag = CRead.string(m.consumer_tag)
            if let c = consumers[channel], c.tag == tag {
                consumers[channel] = nil
                logger.warning("amqp consumer cancelled by the broker", metadata: ["queue": "\(c.queue)", "consumer_tag": "\(tag)"])
                c.finish(throwing: AMQPError(.consumerCancelled, "the broker cancelled the consumer of queue '\(c.queue)' (was it deleted?)"))
            }
        case AMQPMethod.basicCancelOK:
            break
        case AMQPMethod.channelClose:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            _ = crmq_close_reason(id, decoded, &code, &text)
            channelClosedByBroker(channel, AMQPError(.channelClosed, "the broker closed channel \(channel)", replyCode: code, replyText: CRead.string(text)))
        case AMQPMethod.connectionClose:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            _ = crmq_close_reason(id, decoded, &code, &text)
            try? wire?.connectionCloseOK()
            connectionLost(AMQPError(.connectionLost, "the broker closed the connection", replyCode: code, replyText: CRead.string(text)))
        case AMQPMethod.connectionBlocked:
            if machine.brokerBlocked() {
                logger.warning("amqp connection blocked by the broker (resource alarm); publishing paused")
            }
        case AMQPMethod.connectionUnblocked:
            if machine.brokerUnblocked() { logger.info("amqp connection unblocked; publishing resumed") }
        default:
            logger.debug("amqp: ignoring method", metadata: ["method": "0x\(String(id, radix: 16))", "channel": "\(channel)"])
        }
    }

    private func completeContent(_ channel: UInt16) {
        guard let p = partial.removeValue(forKey: channel) else { return }
        let message = AMQPMessage(body: p.body, properties: p.properties)
        switch p.kind {
        case .delivery(let consumerTag, let deliveryTag, let redelivered):
            guard let c = consumers[channel], c.tag == consumerTag, let epoch = channelEpoch[channel] else { return }
            statistics.delivered.add(1, ordering: .relaxed)
            unsettled[channel, default: [:]][deliveryTag] = p.body.count
            unsettledBytes += p.body.count
            c.yield(AMQPDelivery(
                message: message, exchange: p.exchange, routingKey: p.routingKey, redelivered: redelivered,
                deliveryTag: deliveryTag, consumerTag: consumerTag, defect: p.defect,
                settler: DeliverySettler(core: self, channel: channel, epoch: epoch)))
        case .returned(let code, let text):
            // A mandatory message came back; its basic.ack follows. Match it by message id when it
            // has one, else take the oldest mandatory message not yet matched.
            let candidates = confirms.sequences { $0.mandatory && $0.returned == nil }
            let match = candidates.first { seq in
                guard let id = message.properties.messageID else { return false }
                return confirms.pending(seq)?.message.properties.messageID == id
            } ?? candidates.first
            if let seq = match {
                let error = AMQPError(.unroutable, "the message published to '\(p.exchange)' with routing key '\(p.routingKey)' could not be routed to any queue", replyCode: code, replyText: text)
                confirms.update(seq) { $0.returned = error }
            }
        }
    }

    // MARK: Channel and connection failures

    private func acknowledgeChannelClose(_ channel: UInt16) {
        guard let wire else { return }
        channelEpoch[channel] = nil
        releaseAll(channel: channel)
        do { try wire.channelCloseOK(channel) } catch { connectionLost(error) }
    }

    private func channelClosedByBroker(_ channel: UInt16, _ error: AMQPError) {
        logger.warning("amqp channel closed by the broker", metadata: ["channel": "\(channel)", "reply": "\(error.replyCode ?? 0) \(error.replyText ?? "")"])
        acknowledgeChannelClose(channel)
        partial[channel] = nil
        guard conn != nil else { return }
        do {
            if channel == Self.publishChannel {
                // Whatever was unconfirmed is published again, except messages to the exchange the
                // broker complained about (they would close the channel again), which fail.
                let unconfirmed = confirms.reset()
                try openPublishChannel()
                var retry: [PendingPublish] = []
                for p in unconfirmed {
                    p.attempts += 1
                    if (error.replyText ?? "").contains("'\(p.exchange)'") || p.attempts > 3 { p.fail(error) } else { retry.append(p) }
                }
                waitingPublishes.prepend(contentsOf: retry)
            } else if let c = consumers[channel] {
                try startConsumer(c)
            } else if channel == Self.controlChannel {
                try openChannel(channel)
            }
        } catch {
            if error.code == .connectionLost { connectionLost(error) }
            else if let c = consumers.removeValue(forKey: channel) { c.finish(throwing: error) }
        }
    }

    /// The connection is gone: keep what must survive (unconfirmed publishes, consumers,
    /// topology) and schedule the reconnect.
    private func connectionLost(_ error: AMQPError) {
        guard conn != nil else { return }
        logger.warning("amqp connection lost", metadata: ["error": "\(error)", "broker": "\(configuration.redactedURL(of: endpoint))"])
        teardown()
        nextEndpoint()
        statistics.connectionLosses.add(1, ordering: .relaxed)
        let unconfirmed = confirms.reset()
        waitingPublishes.prepend(contentsOf: unconfirmed)
        partial.removeAll()
        if case .recover(let at) = machine.lost(now: .now) {
            logger.debug("amqp reconnect scheduled", metadata: ["in_ms": "\((at - .now).components.seconds * 1000)"])
        }
    }

    private func teardown() {
        connectedFlag.store(false, ordering: .releasing)
        channelEpoch.removeAll()
        releaseAll()
        readingPaused = false
        if let conn {
            amqp_destroy_connection(conn)
        }
        conn = nil
        socket = nil
        socketFD = -1
    }

    private func finishClose() {
        wire?.close()
        teardown()
        machine.finished()
        let continuations = closeWaiters
        closeWaiters.removeAll()
        let leftovers = queue.withLock { q -> [Command] in
            q.stopped = true
            let c = q.commands
            q.commands.removeAll()
            return c
        }
        let closedError = AMQPError(.closed, "the connection was closed before the operation completed")
        for p in confirms.reset() { p.fail(closedError) }
        while let p = waitingPublishes.popFirst() { p.fail(closedError) }
        for c in consumers.values { c.finish(throwing: nil) }
        consumers.removeAll()
        for command in leftovers {
            switch command {
            case .publish(let p): p.fail(closedError)
            case .declare(_, let c): c.resume(throwing: closedError)
            case .consume(let s, let c): c.resume(throwing: closedError); s.finish(throwing: nil)
            case .cancel(let s): s.finish(throwing: nil)
            case .settle: break
            case .queueOperation(_, let c): c.resume(throwing: closedError)
            case .close(let c): c.resume()
            }
        }
        for c in continuations { c.resume() }
    }

    // MARK: Establishing a connection

    private func establish() throws(AMQPError) {
        guard let conn = amqp_new_connection() else { throw AMQPError(.connectionFailed, "out of memory") }
        self.conn = conn
        let socket: OpaquePointer?
        if let tls = configuration.tls {
            socket = amqp_ssl_socket_new(conn)
            guard let socket else { throw AMQPError(.connectionFailed, "cannot create a TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyPeer ? 1 : 0)
            if let ca = tls.caFile, amqp_ssl_socket_set_cacert(socket, ca) != AMQP_STATUS_OK.rawValue {
                throw AMQPError(.invalidConfiguration, "cannot load the CA certificate file \(ca)")
            }
            if let cert = tls.certificateFile, let key = tls.keyFile,
               amqp_ssl_socket_set_key(socket, cert, key) != AMQP_STATUS_OK.rawValue {
                throw AMQPError(.invalidConfiguration, "cannot load the client certificate \(cert) / key \(key)")
            }
        } else {
            socket = amqp_tcp_socket_new(conn)
            guard socket != nil else { throw AMQPError(.connectionFailed, "cannot create a TCP socket") }
        }
        // librabbitmq decodes header tables recursively without a limit: cap the nesting in
        // the bytes it reads, so that no message can exhaust this thread's stack.
        let guarded = crmq_guard_install(socket, Int32(CRead.maximumTableDepth))
        guard guarded == 0 else {
            throw AMQPError(.connectionFailed, "cannot install the header-nesting guard (code \(guarded); librabbitmq \(String(cString: amqp_version())))")
        }
        self.socket = socket
        let (secs, attos) = configuration.connectTimeout.components
        var timeout = timeval(tv_sec: Int(secs), tv_usec: Int(attos / 1_000_000_000_000))
        let node = endpoint
        let rc = amqp_socket_open_noblock(socket, node.host, Int32(node.port), &timeout)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot connect to \(node): \(String(cString: amqp_error_string2(rc)))")
        }
        _ = amqp_set_handshake_timeout(conn, &timeout)

        var properties = arena.table([
            "connection_name": .string(configuration.connectionName),
            "product": .string("itr-amqp-client"),
            "capabilities": .table([
                "consumer_cancel_notify": .bool(true),
                "connection.blocked": .bool(true),
                "publisher_confirms": .bool(true),
                "basic.nack": .bool(true),
                "authentication_failure_close": .bool(true),
                "exchange_exchange_bindings": .bool(true),
            ]),
        ])
        let reply: amqp_rpc_reply_t
        switch configuration.authMechanism {
        case .plain:
            reply = crmq_login_plain(conn, configuration.vhost, 0, Int32(configuration.frameMax), Int32(configuration.heartbeat),
                                     &properties, configuration.user, configuration.password)
        case .external:
            reply = crmq_login_external(conn, configuration.vhost, 0, Int32(configuration.frameMax), Int32(configuration.heartbeat),
                                        &properties, configuration.user)
        }
        arena.reset()
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            var e = CRead.error(reply, "login to \(configuration.redactedURL(of: node))")
            if e.code == .connectionLost || e.code == .protocolError { e.code = .authenticationFailed }
            throw e
        }
        socketFD = amqp_get_sockfd(conn)
        limits = AMQPMessageLimits(frameMax: Int(amqp_get_frame_max(conn)), maximumBodyBytes: configuration.maximumMessageSize)

        try openChannel(Self.controlChannel)
        try openPublishChannel()
        try declareTopology(topology)
        for c in consumers.values { try startConsumer(c) }
        connectedFlag.store(true, ordering: .releasing)
        statistics.connections.add(1, ordering: .relaxed)

        // Work that waited for a connection.
        let declares = pendingDeclares
        pendingDeclares.removeAll()
        for (t, cont) in declares { execute(.declare(t, cont)) }
        let consumes = pendingConsumes
        pendingConsumes.removeAll()
        for (c, cont) in consumes { execute(.consume(c, cont)) }
    }

    private func rpcCheck(_ result: UnsafeMutableRawPointer?, _ context: @autoclosure () -> String, channel: UInt16) throws(AMQPError) {
        guard let wire else { return }
        do {
            try wire.rpc(result, context())
        } catch {
            try recoverChannel(after: error, channel: channel)
        }
    }

    /// After a failed RPC: a channel the broker closed is acknowledged (and the control
    /// channel reopened for what follows); the error is passed on.
    private func recoverChannel(after error: AMQPError, channel: UInt16) throws(AMQPError) {
        if error.code == .channelClosed {
            acknowledgeChannelClose(channel)
            // Keep the channel usable for what follows.
            if channel == Self.controlChannel { try? openChannel(channel) }
        }
        throw error
    }

    private func openChannel(_ channel: UInt16) throws(AMQPError) {
        guard let conn else { throw AMQPError(.connectionLost, "not connected") }
        let ok = amqp_channel_open(conn, channel)
        try rpcCheck(UnsafeMutableRawPointer(ok), "channel.open \(channel)", channel: channel)
        epochCounter += 1
        channelEpoch[channel] = epochCounter
        settledTags[channel] = SettledTags()
    }

    private func openPublishChannel() throws(AMQPError) {
        try openChannel(Self.publishChannel)
        let ok = amqp_confirm_select(conn, Self.publishChannel)
        try rpcCheck(UnsafeMutableRawPointer(ok), "confirm.select", channel: Self.publishChannel)
    }

    private func startConsumer(_ c: ConsumerState) throws(AMQPError) {
        guard let conn else { throw AMQPError(.connectionLost, "not connected") }
        if channelEpoch[c.channel] == nil { try openChannel(c.channel) }
        let qos = amqp_basic_qos(conn, c.channel, 0, c.prefetch, 0)
        try rpcCheck(UnsafeMutableRawPointer(qos), "basic.qos", channel: c.channel)
        let ok = amqp_basic_consume(conn, c.channel, arena.bytes(c.queue), arena.bytes(c.tag), 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
        arena.reset()
        try rpcCheck(UnsafeMutableRawPointer(ok), "basic.consume on queue '\(c.queue)'", channel: c.channel)
    }

    private func declareTopology(_ t: AMQPTopology) throws(AMQPError) {
        guard let conn else { throw AMQPError(.connectionLost, "not connected") }
        let ch = Self.controlChannel
        if channelEpoch[ch] == nil { try openChannel(ch) }
        for e in t.exchanges {
            let ok = amqp_exchange_declare(conn, ch, arena.bytes(e.name), arena.bytes(e.type.rawValue), 0,
                                           e.durable ? 1 : 0, e.autoDelete ? 1 : 0, e.internal ? 1 : 0, arena.table(e.arguments))
            arena.reset()
            try rpcCheck(UnsafeMutableRawPointer(ok), "exchange.declare '\(e.name)'", channel: ch)
        }
        for q in t.queues {
            let ok = amqp_queue_declare(conn, ch, arena.bytes(q.name), 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0,
                                        q.autoDelete ? 1 : 0, arena.table(q.arguments))
            arena.reset()
            try rpcCheck(UnsafeMutableRawPointer(ok), "queue.declare '\(q.name)'", channel: ch)
        }
        for b in t.bindings {
            let ok = amqp_queue_bind(conn, ch, arena.bytes(b.queue), arena.bytes(b.exchange), arena.bytes(b.routingKey), arena.table(b.arguments))
            arena.reset()
            try rpcCheck(UnsafeMutableRawPointer(ok), "queue.bind '\(b.queue)' to '\(b.exchange)' with '\(b.routingKey)'", channel: ch)
        }
    }

    private func queueOperation(_ op: QueueOperation) throws(AMQPError) -> AMQPQueueStatus {
        guard let conn else { throw AMQPError(.connectionLost, "not connected") }
        let ch = Self.controlChannel
        if channelEpoch[ch] == nil { try openChannel(ch) }
        defer { arena.reset() }
        switch op {
        case .inspect(let name):
            let ok = amqp_queue_declare(conn, ch, arena.bytes(name), 1, 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
            try rpcCheck(UnsafeMutableRawPointer(ok), "queue.declare (passive) '\(name)'", channel: ch)
            return AMQPQueueStatus(name: name, messageCount: ok!.pointee.message_count, consumerCount: ok!.pointee.consumer_count)
        case .purge(let name):
            let ok = amqp_queue_purge(conn, ch, arena.bytes(name))
            try rpcCheck(UnsafeMutableRawPointer(ok), "queue.purge '\(name)'", channel: ch)
            return AMQPQueueStatus(name: name, messageCount: ok!.pointee.message_count, consumerCount: 0)
        case .delete(let name):
            let ok = amqp_queue_delete(conn, ch, arena.bytes(name), 0, 0)
            try rpcCheck(UnsafeMutableRawPointer(ok), "queue.delete '\(name)'", channel: ch)
            return AMQPQueueStatus(name: name, messageCount: ok!.pointee.message_count, consumerCount: 0)
        }
    }
}

/// A message handed to the connection thread to publish; resolved by its confirm.
final class PendingPublish: @unchecked Sendable {
    enum Completion {
        case continuation(CheckedContinuation<Void, any Error>)
        case callback(@Sendable (AMQPError?) -> Void)
    }

    let message: AMQPMessage
    let exchange: String
    let routingKey: String
    let mandatory: Bool
    private var completion: Completion?
    /// Set (on the connection thread) when a basic.return matched this message.
    var returned: AMQPError?
    var attempts = 0

    init(message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool, completion: Completion) {
        self.message = message
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.completion = completion
    }

    func succeed() {
        switch completion {
        case .continuation(let c): c.resume()
        case .callback(let f): f(nil)
        case nil: break
        }
        completion = nil
    }

    func fail(_ error: AMQPError) {
        switch completion {
        case .continuation(let c): c.resume(throwing: error)
        case .callback(let f): f(error)
        case nil: break
        }
        completion = nil
    }
}
