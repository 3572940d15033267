import Foundation
import ITRConfig
import ITREvents

/// One input to the router's decisions, with what caused it.
public enum RouterInput: Sendable {
    /// `itr.ticket.opened`, with the report classified and assigned (see
    /// ``RouterDecider/classify(_:rules:)``: done once, not on each pass of the decision).
    case open(TicketOpened, OpeningPlan)
    /// `itr.ticket.correlated`: a repeated alarm folded into the ticket.
    case correlate(TicketCorrelated)
    /// A service-desk action, its actor bound already (`itr.ticket.action`, the HTTP API).
    case act(ITREvents.TicketAction)
    /// A due moment of a ticket's clocks.
    case fire(ticketId: String, kind: PlannedMoment.Kind, dueAt: Date)
    /// `itr.defect.fixed` from ipd-feedback.
    case defectFixed(DefectFixed)
}

/// What the opening of a ticket decides before it reads anything: the contract in force, the
/// classification and grading, the assignment and the fingerprint of an incident.
public struct OpeningPlan: Sendable {
    var facts: ReportFacts
    var contract: ContractDecision
    var classification: Classification
    var assignment: Assignment
    var fingerprint: IncidentFingerprint?
}

/// What one decision changes, applied by ``RouterEngine`` in one go: the tickets and problems to
/// save (each once, in its final version, in the order first touched), the events to publish (in
/// order), and the few writes beside them. A value: equal inputs and snapshots give equal effects.
public struct RouterEffects: Sendable {
    /// An event to publish, with its correlation id (the ticket or the problem).
    public struct Emission: Sendable {
        public var payload: any EventPayload
        public var correlation: String
        public var type: EventType { Swift.type(of: payload).eventType }
    }

    /// What became of the input.
    public enum Outcome: Sendable, Hashable {
        case applied
        /// `open` of a ticket that exists: nothing done.
        case alreadyOpen
        /// `correlate`, `fire` of a ticket not stored.
        case unknownTicket
        /// `fire` of a moment that no longer holds: the ticket's moments are re-planned.
        case notDue
    }

    public internal(set) var outcome: Outcome = .applied
    public private(set) var tickets: [TicketRecord] = []
    public private(set) var problems: [ProblemRecord] = []
    public internal(set) var events: [Emission] = []
    /// Tickets whose grading a `reclassify` changed (their stored classification columns).
    public internal(set) var classificationChanges: [String] = []
    public internal(set) var corrections: [ClassifierCorrection] = []
    /// Tickets whose impact and urgency a `reprioritise` changed.
    public internal(set) var gradingChanges: [String] = []
    /// Tickets whose due moments are re-planned, with nothing planned at or before `after`.
    public internal(set) var replans: [(ticket: TicketRecord, after: Date)] = []
    /// The problems `itr.defect.fixed` resolved.
    public internal(set) var resolvedProblems: [String] = []
    /// Classifications made (for the classifier's metrics).
    public internal(set) var classifications: [Classification] = []
    /// The clocks of a saved ticket's final version, when the decision computed them already.
    var clocks: [String: TicketClocks] = [:]
    private var ticketIndex: [String: Int] = [:]
    private var problemIndex: [String: Int] = [:]

    /// The ticket's current version in this decision, nil when it did not touch it.
    func ticket(_ id: String) -> TicketRecord? { ticketIndex[id].map { tickets[$0] } }

    func problem(_ id: String) -> ProblemRecord? { problemIndex[id].map { problems[$0] } }

    /// Saves `ticket` (its final version is what is written).
    mutating func save(_ ticket: TicketRecord, clocks: TicketClocks? = nil) {
        if let index = ticketIndex[ticket.id] {
            tickets[index] = ticket
        } else {
            ticketIndex[ticket.id] = tickets.count
            tickets.append(ticket)
        }
        self.clocks[ticket.id] = clocks
    }

    mutating func save(_ problem: ProblemRecord) {
        if let index = problemIndex[problem.id] {
            problems[index] = problem
        } else {
            problemIndex[problem.id] = problems.count
            problems.append(problem)
        }
    }

    mutating func emit(_ payload: some EventPayload, correlation: String) {
        events.append(Emission(payload: payload, correlation: correlation))
    }
}
