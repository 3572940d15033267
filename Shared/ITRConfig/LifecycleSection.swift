import Foundation

/// `lifecycle.yaml`: reopen window, confirmation timeout and which pending reasons pause the clocks.
public struct LifecycleSection: Sendable, Hashable {
    public static let fileName = "lifecycle.yaml"
    /// How long after resolution a ticket may be reopened (wall-clock).
    public var reopenWindow: TimeInterval
    /// How long a resolved ticket waits for the customer's confirmation before it closes itself (wall-clock).
    public var confirmationTimeout: TimeInterval
    /// Pending reasons that pause the SLA resolution clock (and the OLA clock of the tier holding the ticket).
    public var pausingReasons: Set<PendingReason>

    public init(reopenWindow: TimeInterval, confirmationTimeout: TimeInterval, pausingReasons: Set<PendingReason>) {
        self.reopenWindow = reopenWindow
        self.confirmationTimeout = confirmationTimeout
        self.pausingReasons = pausingReasons
    }

    static func decode(_ root: ConfigNode) -> LifecycleSection {
        root.checkKeys(["reopenWindow", "confirmationTimeout", "slaPausingReasons"])
        let reopen = root.required("reopenWindow")?.duration() ?? 7 * 86_400
        let timeout = root.required("confirmationTimeout")?.duration() ?? 3 * 86_400
        let reasons = root.required("slaPausingReasons")?.oneOfList(PendingReason.self) ?? []
        return LifecycleSection(reopenWindow: reopen, confirmationTimeout: timeout, pausingReasons: Set(reasons))
    }
}
