import Foundation
import ITREvents

/// Decides, from the rules of `ipd.yaml`, what a change to a defect means for the feed:
/// nothing, its first report, an update now, or an update deferred by the debounce interval.
/// Pure: no clock of its own (`now` is passed in), no IO.
public struct DefectPolicy: Sendable {
    public enum Emission: Sendable, Hashable {
        case none
        /// Crossed the report threshold: `itr.defect.reported`.
        case report
        /// A material change, and the debounce interval has passed: `itr.defect.updated`.
        case update
        /// A material change within the debounce interval: flush it when the interval ends.
        case deferUpdate
    }

    public var rules: IPDRules

    public init(rules: IPDRules) { self.rules = rules }

    /// Whether the defect is worth reporting to R&D: any threshold crossed.
    public func crossesThreshold(_ snapshot: ImpactSnapshot) -> Bool {
        let report = rules.report
        if let priority = snapshot.highestPriority, report.priorities.contains(priority) { return true }
        return snapshot.customers >= report.customers || snapshot.incidents >= report.incidents
            || snapshot.score >= report.score
    }

    /// Whether `current` differs enough from what was last emitted: a new customer, a new
    /// affected version, a higher priority, another SLA breach, or incidents / score grown by the
    /// configured share.
    public func isMaterial(from previous: ImpactSnapshot?, to current: ImpactSnapshot) -> Bool {
        guard let previous else { return true }
        if current.customers > previous.customers || current.versions > previous.versions { return true }
        if current.slaBreaches > previous.slaBreaches { return true }
        if let now = current.highestPriority, previous.highestPriority.map({ now < $0 }) ?? true { return true }
        let update = rules.update
        if Double(current.incidents) >= Double(max(previous.incidents, 1)) * (1 + update.incidentGrowth) { return true }
        if current.score >= max(previous.score, 1) * (1 + update.scoreGrowth) { return true }
        return false
    }

    /// What to emit after the defect's impact changed at `now`.
    public func afterChange(_ defect: Defect, now: Date) -> Emission {
        if defect.status == .rejected || defect.status == .duplicate { return .none }
        let snapshot = defect.snapshot(weights: rules.score)
        guard defect.isReported else { return crossesThreshold(snapshot) ? .report : .none }
        if defect.regressionPending == true { return .update }  // a fix that did not hold: at once
        guard isMaterial(from: defect.lastEmitted, to: snapshot) else { return .none }
        return isDebounceOver(defect, now: now) ? .update : .deferUpdate
    }

    /// Whether a deferred update may go out now.
    public func isFlushDue(_ defect: Defect, now: Date) -> Bool {
        defect.pendingUpdate && defect.status != .rejected && defect.status != .duplicate
            && isDebounceOver(defect, now: now)
    }

    func isDebounceOver(_ defect: Defect, now: Date) -> Bool {
        guard let last = defect.lastEmittedAt else { return true }
        return now.timeIntervalSince(last) >= rules.update.debounce
    }
}
