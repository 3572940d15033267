import Foundation
import Synchronization

/// The router's notion of time, injected so tests run SLA days in milliseconds.
public protocol RouterClock: Sendable {
    func now() -> Date
    /// Returns at `deadline` on this clock (or a little later), or throws `CancellationError`.
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time. Long sleeps are cut into one-minute naps so a changed system clock is noticed.
public struct SystemClock: RouterClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64(min(seconds, 60) * 1000) + 1))
    }
}

/// A clock that moves only when told (`advance(by:)`, `set(_:)`): sleepers wake when it passes their deadline.
public final class ManualClock: RouterClock {
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

    /// How many tasks are sleeping on this clock (tests wait for the scheduler to go to sleep).
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

extension RouterClock {
    /// How an instant from outside (a ticket's `openedAt`) reads on this clock: itself, except
    /// on an accelerated clock.
    public func map(_ external: Date) -> Date { external }
}

/// An accelerated clock for demonstrations (`ITR_CLOCK_SPEED`): from `epoch` on, every real
/// second is `speed` seconds, so a sample day replayed in a minute lives through hours of SLA
/// time and breaches happen. Instants from outside are mapped the same way, so a ticket's
/// history stays consistent. Keep one epoch across restarts (`ITR_CLOCK_EPOCH`).
public struct ScaledClock: RouterClock {
    public let epoch: Date
    public let speed: Double

    public init(epoch: Date, speed: Double) {
        self.epoch = epoch
        self.speed = max(speed, 1)
    }

    public func now() -> Date { map(Date()) }

    public func map(_ external: Date) -> Date {
        epoch.addingTimeInterval(external.timeIntervalSince(epoch) * speed)
    }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now()) / speed
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64(min(seconds, 60) * 1000) + 1))
    }

    /// `ITR_CLOCK_SPEED` (> 1 to accelerate) and `ITR_CLOCK_EPOCH` (Unix seconds; default now);
    /// nil when the clock runs at normal speed. Throws a message naming the variable.
    public static func fromEnvironment(_ env: [String: String]) throws -> ScaledClock? {
        guard let raw = env["ITR_CLOCK_SPEED"], !raw.isEmpty else { return nil }
        guard let speed = Double(raw), speed >= 1, speed <= 100_000 else {
            throw ClockSettingError(message: "ITR_CLOCK_SPEED: expected a number from 1 to 100000, got \"\(raw)\"")
        }
        if speed == 1 { return nil }
        var epoch = Date()
        if let e = env["ITR_CLOCK_EPOCH"], !e.isEmpty {
            guard let seconds = Double(e) else {
                throw ClockSettingError(message: "ITR_CLOCK_EPOCH: expected Unix seconds, got \"\(e)\"")
            }
            epoch = Date(timeIntervalSince1970: seconds)
        }
        return ScaledClock(epoch: epoch, speed: speed)
    }
}

public struct ClockSettingError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
