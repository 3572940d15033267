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
    /// The package whose targets and calendar apply to an account without a valid contract
    /// (nil: the catalogue's most lenient package, see `ConfigBundle.uncontractedPackage`).
    public var uncontractedPackage: String?

    public init(
        reopenWindow: TimeInterval, confirmationTimeout: TimeInterval, pausingReasons: Set<PendingReason>,
        uncontractedPackage: String? = nil
    ) {
        self.reopenWindow = reopenWindow
        self.confirmationTimeout = confirmationTimeout
        self.pausingReasons = pausingReasons
        self.uncontractedPackage = uncontractedPackage
    }

    static func decode(_ root: ConfigNode) -> LifecycleSection {
        root.checkKeys(["reopenWindow", "confirmationTimeout", "slaPausingReasons", "uncontractedPackage"])
        let reopen = root.required("reopenWindow")?.duration() ?? 7 * 86_400
        let timeout = root.required("confirmationTimeout")?.duration() ?? 3 * 86_400
        let reasons = root.required("slaPausingReasons")?.oneOfList(PendingReason.self) ?? []
        let uncontracted = root["uncontractedPackage"]?.identifier()
        return LifecycleSection(
            reopenWindow: reopen, confirmationTimeout: timeout, pausingReasons: Set(reasons),
            uncontractedPackage: uncontracted)
    }
}
