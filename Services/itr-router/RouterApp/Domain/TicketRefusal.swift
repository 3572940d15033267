/// A forbidden ticket action: never silently ignored, always a specific code.
public struct TicketRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let ticketClosed = Code(rawValue: "ticket-closed")
        public static let ticketCancelled = Code(rawValue: "ticket-cancelled")
        public static let ticketMerged = Code(rawValue: "ticket-merged")
        public static let notClassified = Code(rawValue: "not-classified")
        public static let notAssigned = Code(rawValue: "not-assigned")
        public static let notAcknowledged = Code(rawValue: "not-acknowledged")
        public static let alreadyAcknowledged = Code(rawValue: "already-acknowledged")
        public static let alreadyPaused = Code(rawValue: "already-paused")
        public static let notPaused = Code(rawValue: "not-paused")
        public static let alreadyResolved = Code(rawValue: "already-resolved")
        public static let notResolved = Code(rawValue: "not-resolved")
        public static let reopenWindowExpired = Code(rawValue: "reopen-window-expired")
        public static let confirmationNotDue = Code(rawValue: "confirmation-not-due")
        public static let unknownTier = Code(rawValue: "unknown-tier")
        public static let sameTier = Code(rawValue: "same-tier")
        public static let noHigherTier = Code(rawValue: "no-higher-tier")
        public static let mergeIntoSelf = Code(rawValue: "merge-into-self")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
