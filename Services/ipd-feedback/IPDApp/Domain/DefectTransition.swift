import Foundation
import ITREvents

/// R&D's decisions (`itr.defect.status`) applied to a defect: a pure state machine.
///
///     from \ to     accepted   rejected   duplicate   fix-released
///     reported      yes        yes        yes         yes
///     accepted      (same)     yes        yes         yes
///     rejected      yes        (same)     yes         refused
///     duplicate     refused    refused    (same) / refused for another target
///     fix-released  refused    refused    refused     (same version) / yes: a new fix version
///
/// A defect not yet reported (below the threshold) is unknown to R&D: refused.
public enum DefectTransition {
    public enum Outcome: Sendable, Hashable {
        /// The status changed: emit `event` (`itr.defect.updated`, or `itr.defect.fixed`).
        case changed(event: EventType)
        /// A repeat of the current status: nothing to do.
        case unchanged
        /// Not allowed: dead-letter the decision with this reason.
        case refused(code: String, message: String)
    }

    /// Applies `decision` to `defect`. For `duplicate` the caller merges the defect into its
    /// target afterwards (see `mergeTarget`).
    public static func apply(_ decision: DefectStatus, to defect: inout Defect) -> Outcome {
        guard defect.isReported else {
            return .refused(code: "unknown-defect", message: "defect \(defect.id) has not been reported")
        }
        let from = defect.status
        func refuse() -> Outcome {
            .refused(
                code: "invalid-transition",
                message: "defect \(defect.id) is \(from.rawValue); it cannot become \(decision.status.rawValue)")
        }
        switch decision.status {
        case .accepted:
            switch from {
            case .accepted: return .unchanged
            case .reported, .rejected: defect.status = .accepted
            case .duplicate, .fixReleased: return refuse()
            }
        case .rejected:
            switch from {
            case .rejected: return .unchanged
            case .reported, .accepted: defect.status = .rejected
            case .duplicate, .fixReleased: return refuse()
            }
        case .duplicate:
            guard let target = decision.duplicateOf, !target.isEmpty else {
                return .refused(code: "invalid-data", message: "duplicate names no target")
            }
            if target == defect.id {
                return .refused(code: "invalid-transition", message: "defect \(defect.id) cannot duplicate itself")
            }
            switch from {
            case .duplicate:
                return defect.duplicateOf == target ? .unchanged : refuse()
            case .reported, .accepted, .rejected:
                defect.status = .duplicate
                defect.duplicateOf = target
            case .fixReleased: return refuse()
            }
        case .fixReleased:
            guard let version = decision.fixVersion, !version.isEmpty else {
                return .refused(code: "invalid-data", message: "fix-released names no version")
            }
            switch from {
            case .fixReleased:
                if defect.fixVersion == version { return .unchanged }
                defect.fixVersion = version
                return .changed(event: .defectFixed)
            case .reported, .accepted:
                defect.status = .fixReleased
                defect.fixVersion = version
                return .changed(event: .defectFixed)
            case .rejected, .duplicate: return refuse()
            }
        }
        return .changed(event: .defectUpdated)
    }

    /// Whether `target` can take a duplicate in: it must be reported and not a duplicate itself.
    public static func canMerge(into target: Defect) -> Outcome? {
        guard target.isReported else {
            return .refused(code: "unknown-defect", message: "duplicate target \(target.id) has not been reported")
        }
        if target.status == .duplicate {
            return .refused(
                code: "invalid-transition",
                message: "duplicate target \(target.id) is itself a duplicate of \(target.duplicateOf ?? "?")")
        }
        return nil
    }
}
