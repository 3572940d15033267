import Foundation
import Logging

/// TEST HOOK, inert unless the environment sets it: holds a service still at one of the
/// windows where a crash is hardest to survive, so that a test can `kill -9` it there.
///
/// `ITR_TEST_PAUSE` names the point:
/// - `after-commit`: ``EventConsumer`` has committed a batch's transaction (state, inbox
///   claims, outbox rows) and woken the relay, but acked none of its deliveries;
/// - `after-confirm`: ``OutboxRelay`` has the broker's confirms for published rows but has
///   not deleted them yet.
///
/// At that point the service logs `"test hook: paused"` (warning, with `pause_point`) and
/// sleeps `ITR_TEST_PAUSE_SECONDS` (default 60) before it goes on, every time it gets there.
/// With `ITR_TEST_PAUSE` unset (production) ``pause(at:)`` returns at once and costs one
/// comparison.
public struct FaultPause: Sendable {
    public enum Point: String, Sendable {
        case afterCommit = "after-commit"
        case afterConfirm = "after-confirm"
    }

    public static let environmentVariable = "ITR_TEST_PAUSE"
    public static let secondsVariable = "ITR_TEST_PAUSE_SECONDS"
    /// The log message a test waits for.
    public static let logMessage = "test hook: paused"

    let point: Point?
    let duration: Duration
    let logger: Logger

    /// Read once from the environment (the process's by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) {
        point = environment[Self.environmentVariable].flatMap(Point.init(rawValue:))
        duration = .seconds(environment[Self.secondsVariable].flatMap(Double.init) ?? 60)
        self.logger = logger
    }

    /// Never pauses.
    public static let inert = FaultPause(environment: [:], logger: Logger(label: "fault-pause"))

    /// Sleeps at `point` when the environment asked for it; returns at once otherwise.
    func pause(at point: Point) async {
        guard self.point == point else { return }
        logger.warning("\(Self.logMessage)", metadata: ["pause_point": "\(point.rawValue)", "seconds": "\(duration)"])
        try? await Task.sleep(for: duration)
    }
}
