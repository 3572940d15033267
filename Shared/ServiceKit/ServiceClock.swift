import Foundation
import Synchronization

/// A service's notion of time: what it stamps on tickets and events, what it validates
/// incoming timestamps against, and what SLA/OLA clocks run on. Injected so tests can run SLA
/// days in milliseconds, and shared by all four services so an accelerated demonstration
/// (``ScaledClock``, `ITR_CLOCK_SPEED`) stays consistent across the whole loop.
public protocol ServiceClock: Sendable {
    func now() -> Date
    /// Returns at `deadline` on this clock (or a little later), or throws `CancellationError`.
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time. Long sleeps are cut into one-minute naps so a changed system clock is noticed.
public struct SystemClock: ServiceClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64(min(seconds, 60) * 1000) + 1))
    }
}

/// An accelerated (or pinned) clock: at the real instant `epoch` it reads `start` (by default
/// the epoch itself), and from then on every real second is `speed` seconds, so a sample day
/// replayed in minutes lives through hours of business time and SLA breaches happen. With a
/// speed of 1 and a `start` it is wall time shifted to a fixed date (tests whose results depend
/// on contract validity against "today"). Every service of one deployment must run the same clock (same
/// `ITR_CLOCK_SPEED` and `ITR_CLOCK_EPOCH`): the instants they exchange (a ticket's `openedAt`,
/// an event's `time`) are then on one time line, and each service's "not in the future" check
/// agrees with the others'. Keep the epoch across restarts, or stored clocks jump.
public struct ScaledClock: ServiceClock, Hashable {
    public let epoch: Date
    public let speed: Double
    public let start: Date

    public init(epoch: Date, speed: Double, start: Date? = nil) {
        self.epoch = epoch
        self.speed = max(speed, 1)
        self.start = start ?? epoch
    }

    public func now() -> Date { reading(Date()) }

    /// What this clock read at the real instant `real`.
    public func reading(_ real: Date) -> Date {
        start.addingTimeInterval(real.timeIntervalSince(epoch) * speed)
    }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now()) / speed
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64(min(seconds, 60) * 1000) + 1))
    }
}

/// A clock that moves only when told (`advance(by:)`, `set(_:)`): sleepers wake when it passes
/// their deadline. For tests.
public final class ManualClock: ServiceClock {
    private struct Sleeper {
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [UInt64: Sleeper] = [:]
        var nextId: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(_ start: Date = Date()) {
        state = Mutex(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func advance(by interval: TimeInterval) {
        set(now().addingTimeInterval(interval))
    }

    public func set(_ instant: Date) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = instant
            let ready = state.sleepers.filter { $0.value.deadline <= instant }
            for key in ready.keys { state.sleepers[key] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// How many tasks are sleeping on this clock (tests wait for a scheduler to go to sleep).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextId += 1
            return state.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if deadline <= state.now { return .some(nil) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// The instant incoming timestamps must not lie (much) beyond when the deployment's clock
/// reads `deploymentNow`: the later of that and wall time. Events from the deployment's
/// services are stamped on its clock (ahead of wall time when accelerated), while upstream
/// tools stamp wall time (ahead of a clock pinned to an earlier date); neither is "in the future".
public func validationNow(deploymentNow: Date) -> Date { max(Date(), deploymentNow) }

extension ServiceClock {
    /// ``validationNow(deploymentNow:)`` at this clock's now.
    public func validationNow() -> Date { ServiceKit.validationNow(deploymentNow: now()) }
}

extension Duration {
    /// The duration in seconds, fractions included.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
