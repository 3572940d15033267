/// The life of one broker connection as a value: which state it is in and what the connection
/// thread should do next. No IO and no clock reads (instants come in as arguments), so every
/// path — first connect, loss, recovery with back-off, a blocked publisher, an encoding
/// failure, a graceful close with its deadline — is unit-tested without a socket. In the
/// style of postgres-nio's state machines: `mutating` functions take an event and return the
/// action; ``ConnectionCore`` carries the actions out.
///
///     connecting ──connected──▶ open ──lost──▶ recovering(retryAt) ──retry due──▶ (connect)
///         │                      │  ▲                                   │
///         │first failure         │  └──────────────connected────────────┘
///         ▼                      ▼ close
///       closed ◀──finished── closing(deadline)   (recovering + close → closed at once)
struct ConnectionStateMachine {
    enum State: Equatable {
        /// The first attempt; its failure is reported to the caller, not retried here.
        case connecting
        /// Connected. `blocked`: the broker sent `connection.blocked` (a resource alarm), so
        /// nothing may be published until `connection.unblocked`.
        case open(blocked: Bool)
        /// Connection lost; the next attempt is due at `retryAt`.
        case recovering(retryAt: ContinuousClock.Instant)
        /// Closing gracefully: consumers cancelled, waiting (until `deadline`) for the
        /// confirms of what was published.
        case closing(deadline: ContinuousClock.Instant)
        case closed
    }

    /// What the connection thread does in this turn.
    enum Step: Equatable {
        /// Try to (re)establish the connection.
        case connect
        /// Nothing to do on the wire before this instant (commands still wake the thread).
        case sleep(until: ContinuousClock.Instant)
        /// Work the open connection: publish (when `publish`), read frames.
        case work(publish: Bool)
        /// Close the connection, fail what is left, end the thread.
        case finishClose
        /// The thread has ended.
        case stop
    }

    /// What follows a connection loss.
    enum AfterLoss: Equatable {
        /// Keep consumers and unconfirmed publishes; reconnect at the instant.
        case recover(retryAt: ContinuousClock.Instant)
        /// The connection was closing: finish the close now.
        case finishClose
        /// Already lost or closed: nothing more.
        case ignore
    }

    /// What follows a failed attempt to connect.
    enum AfterConnectFailure: Equatable {
        /// The very first attempt: report the error to the caller and stop.
        case giveUp
        case retry(at: ContinuousClock.Instant)
    }

    /// What follows a request to close.
    enum AfterCloseRequest: Equatable {
        /// Cancel consumers and drain the confirms until the deadline.
        case drain(deadline: ContinuousClock.Instant)
        /// Not connected: there is nothing to drain, finish at once.
        case finishClose
        /// A close is already under way (or done): just wait for it.
        case alreadyClosing
    }

    private(set) var state: State = .connecting
    private var backoff: ReconnectBackoff
    let closeTimeout: Duration

    init(backoff: ReconnectBackoff, closeTimeout: Duration = .seconds(5)) {
        self.backoff = backoff
        self.closeTimeout = closeTimeout
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// Whether a publish may be handed to the wire now.
    var mayPublish: Bool {
        switch state {
        case .open(let blocked): !blocked
        case .closing: true
        default: false
        }
    }

    /// The step for this turn, given whether the connection has a socket and how much is
    /// still unconfirmed (for a closing connection).
    mutating func nextStep(now: ContinuousClock.Instant, hasConnection: Bool, outstanding: Bool) -> Step {
        switch state {
        case .connecting:
            return .connect
        case .open(let blocked):
            return .work(publish: !blocked)
        case .recovering(let retryAt):
            return now >= retryAt ? .connect : .sleep(until: retryAt)
        case .closing(let deadline):
            if !hasConnection || !outstanding || now >= deadline { return .finishClose }
            return .work(publish: true)
        case .closed:
            return .stop
        }
    }

    /// The connection is established (first time or after a loss).
    /// Returns whether this was a recovery (for the log).
    @discardableResult
    mutating func connected() -> Bool {
        let recovered: Bool
        if case .recovering = state { recovered = true } else { recovered = false }
        backoff.reset()
        state = .open(blocked: false)
        return recovered
    }

    mutating func connectFailed<R: RandomNumberGenerator>(now: ContinuousClock.Instant, using random: inout R) -> AfterConnectFailure {
        switch state {
        case .connecting:
            state = .closed
            return .giveUp
        default:
            let retryAt = now + backoff.nextDelay(using: &random)
            state = .recovering(retryAt: retryAt)
            return .retry(at: retryAt)
        }
    }

    mutating func connectFailed(now: ContinuousClock.Instant) -> AfterConnectFailure {
        var random = SystemRandomNumberGenerator()
        return connectFailed(now: now, using: &random)
    }

    /// The socket failed, the broker closed the connection, or a heartbeat was missed — or
    /// librabbitmq refused a message after part of it may have been sent (only that message
    /// fails; the connection must start afresh for the others).
    mutating func lost<R: RandomNumberGenerator>(now: ContinuousClock.Instant, using random: inout R) -> AfterLoss {
        switch state {
        case .open:
            let retryAt = now + backoff.nextDelay(using: &random)
            state = .recovering(retryAt: retryAt)
            return .recover(retryAt: retryAt)
        case .closing:
            return .finishClose
        case .connecting, .recovering, .closed:
            return .ignore
        }
    }

    mutating func lost(now: ContinuousClock.Instant) -> AfterLoss {
        var random = SystemRandomNumberGenerator()
        return lost(now: now, using: &random)
    }

    mutating func closeRequested(now: ContinuousClock.Instant) -> AfterCloseRequest {
        switch state {
        case .open:
            let deadline = now + closeTimeout
            state = .closing(deadline: deadline)
            return .drain(deadline: deadline)
        case .connecting, .recovering:
            state = .closing(deadline: now)
            return .finishClose
        case .closing, .closed:
            return .alreadyClosing
        }
    }

    /// `connection.blocked` (a memory or disk alarm on the broker): publishing pauses.
    /// Returns false when it changes nothing.
    @discardableResult
    mutating func brokerBlocked() -> Bool {
        guard case .open(false) = state else { return false }
        state = .open(blocked: true)
        return true
    }

    /// `connection.unblocked`: publishing resumes.
    @discardableResult
    mutating func brokerUnblocked() -> Bool {
        guard case .open(true) = state else { return false }
        state = .open(blocked: false)
        return true
    }

    /// The close is done (or the thread stops for good).
    mutating func finished() {
        state = .closed
    }
}
