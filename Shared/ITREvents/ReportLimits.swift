import Foundation

/// Size and plausibility limits applied by `validate(...)`. The defaults suit every service;
/// intake may configure tighter ones.
public struct ReportLimits: Sendable, Hashable {
    /// Largest accepted message body (structured event or binary data), in bytes.
    public var maxBodyBytes: Int = 256 * 1024
    /// Longest `summary` / `title`, in characters.
    public var maxSummaryLength: Int = 512
    /// Longest `description`, `note`, `rootCause`, `workaround`, `message`, in characters.
    public var maxDescriptionLength: Int = 32 * 1024
    /// Longest identifier-like string (ids, codes, names, accounts, versions), in characters.
    public var maxFieldLength: Int = 256
    /// Longest URI, in characters.
    public var maxURILength: Int = 2048
    /// Most attachments on a report.
    public var maxAttachments: Int = 20
    /// Largest attachment size that may be announced, in bytes.
    public var maxAttachmentBytes: Int64 = 1 << 34
    /// Most elements in any other list (ticket ids, price lines, signals, ...).
    public var maxListLength: Int = 1000
    /// How far in the future a timestamp may lie (clock skew), in seconds.
    public var maxFutureSkew: TimeInterval = 300
    /// Timestamps before this instant are absurd (2000-01-01T00:00:00Z).
    public var earliestTimestamp: Date = Date(timeIntervalSince1970: 946_684_800)

    public init() {}

    public static let `default` = ReportLimits()
}
