/// What became of one submitted report.
public enum IntakeOutcome: Sendable, Hashable {
    /// A new ticket was opened (`itr.ticket.opened`).
    case opened(ticketId: String)
    /// A monitoring alarm folded into the ticket open for its site/device/code (`itr.ticket.correlated`).
    case correlated(ticketId: String, count: Int)
    /// A clear alarm, recorded on its ticket when there is one.
    case cleared(ticketId: String?)
    /// Seen before (same source and id): nothing new; the ticket it led to.
    case duplicate(ticketId: String?)
    /// Not accepted.
    case rejected(ReportRejection)
    /// A known error taken into the index (not a report).
    case indexed(problemId: String)

    /// The ticket the report belongs to, when there is one.
    public var ticketId: String? {
        switch self {
        case .opened(let id), .correlated(let id, _): id
        case .cleared(let id), .duplicate(let id): id
        case .rejected, .indexed: nil
        }
    }

    /// `opened`, `correlated`, `cleared`, `duplicate`, `rejected`.
    public var status: String {
        switch self {
        case .opened: "opened"
        case .correlated: "correlated"
        case .cleared: "cleared"
        case .duplicate: "duplicate"
        case .rejected: "rejected"
        case .indexed: "indexed"
        }
    }
}
