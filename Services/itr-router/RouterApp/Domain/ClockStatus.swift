import Foundation

/// The state of one SLA or OLA clock at `now`, in business time of the contract's calendar.
public struct ClockStatus: Sendable, Hashable, Codable {
    public var target: TimeInterval
    /// Business time counted so far.
    public var elapsed: TimeInterval
    /// `max(0, target - elapsed)`.
    public var remaining: TimeInterval
    /// When the target is (or was) reached: the breach instant when breached, the projected
    /// instant while running, nil while paused or when stopped within target.
    public var dueAt: Date?
    public var startedAt: Date?
    /// When the clock stopped for good (acknowledged / resolved / closed ...), nil while it may still run.
    public var stoppedAt: Date?
    public var isRunning: Bool
    public var isPaused: Bool
    /// Breached when `elapsed >= target` (a clock with no target is never breached), running or
    /// stopped alike: a clock stopped at the very instant its target runs out (a tier stint ended
    /// by the escalation its own OLA breach caused) is breached, not met. The store, the
    /// service-level report and the counters all take this value; none decides it again.
    public var isBreached: Bool
    /// The instant the elapsed time crossed the target.
    public var breachedAt: Date?
    /// `elapsed / target` (1.0 = 100 %).
    public var shareConsumed: Double

    public var isStopped: Bool { stoppedAt != nil }

    /// The one rule: a clock is breached when its elapsed time reaches its target, to the
    /// millisecond (business time is summed from `Date`s, whose arithmetic is not exact: a clock
    /// stopped at its computed breach instant may add up to a hair under its target).
    public static func isBreached(elapsed: TimeInterval, target: TimeInterval) -> Bool {
        target > 0 && elapsed + tolerance >= target
    }

    /// How close to its target a clock counts as having reached it.
    public static let tolerance: TimeInterval = 0.001

    /// The stored outcome of a decided clock: false breached, true met (stopped within its
    /// target), nil while it may still go either way.
    public var outcome: Bool? {
        if isBreached { return false }
        return isStopped ? true : nil
    }
}

/// A clock as a list of counting segments, turned into a `ClockStatus`.
struct ClockSegments {
    var segments: [(start: Date, end: Date?)] = []
    var startedAt: Date?
    var stoppedAt: Date?
    var isPaused = false

    var isOpen: Bool { segments.last.map { $0.end == nil } ?? false }

    mutating func start(at instant: Date) {
        guard !isOpen else { return }
        if startedAt == nil { startedAt = instant }
        segments.append((instant, nil))
        stoppedAt = nil
        isPaused = false
    }

    mutating func halt(at instant: Date) {
        guard isOpen else { return }
        segments[segments.count - 1].end = instant
    }

    mutating func pause(at instant: Date) {
        guard isOpen else { return }
        halt(at: instant)
        isPaused = true
    }

    mutating func resume(at instant: Date) {
        guard isPaused else { return }
        start(at: instant)
    }

    mutating func stop(at instant: Date) {
        guard startedAt != nil, stoppedAt == nil else { return }
        halt(at: instant)
        isPaused = false
        stoppedAt = instant
    }

    func status(target: TimeInterval, calendar: BusinessCalendar, now: Date) -> ClockStatus {
        var elapsed: TimeInterval = 0
        var breachedAt: Date?
        for segment in segments {
            let end = min(segment.end ?? now, now)
            guard end > segment.start else { continue }
            let part = calendar.businessTime(from: segment.start, to: end)
            if breachedAt == nil, target > 0, !ClockStatus.isBreached(elapsed: elapsed, target: target),
                ClockStatus.isBreached(elapsed: elapsed + part, target: target)
            {
                breachedAt = calendar.date(adding: target - elapsed, to: segment.start)
            }
            elapsed += part
        }
        let running = isOpen && stoppedAt == nil
        let breached = ClockStatus.isBreached(elapsed: elapsed, target: target)
        if !breached { breachedAt = nil }
        let due: Date?
        if breached {
            due = breachedAt
        } else if running {
            due = calendar.date(adding: target - elapsed, to: now)
        } else {
            due = nil
        }
        return ClockStatus(
            target: target, elapsed: elapsed, remaining: max(0, target - elapsed), dueAt: due,
            startedAt: startedAt, stoppedAt: stoppedAt, isRunning: running, isPaused: isPaused && stoppedAt == nil,
            isBreached: breached, breachedAt: breachedAt, shareConsumed: target > 0 ? elapsed / target : 0)
    }
}
