import Foundation
import ITRConfig
import ServiceKit

/// What one input's decision reads of the store: the tickets, problems and incidents it touches,
/// loaded by ``RouterEngine`` before ``RouterDecider`` decides. A read the decision makes that is
/// not in the snapshot throws ``RouterSnapshot/Needs``: the engine loads what it names and asks
/// again, so the decider never sees a database and only the reads an input really needs are
/// made (an incident's problem detection reads the recent incidents only when the detector's
/// rules need them; a problem's incidents only when one is opened).
public struct RouterSnapshot: DecisionSnapshot, Sendable {
    /// One read of the store.
    public enum Read: Sendable, Hashable {
        /// A ticket, taken for a change: its lock first (see ``RouterEngine/lockTicket(_:_:)``).
        case ticket(String)
        /// Whether a ticket exists (no lock: a merge target, an opening's duplicate check after
        /// its own lock).
        case ticketExists(String)
        /// The problem a ticket is linked to (no lock).
        case problemOf(ticket: String)
        case problem(String)
        /// The ids of the tickets linked to a problem.
        case problemTickets(String)
        /// The oldest open problem of a fingerprint, after taking the fingerprint's lock (two
        /// instances detecting problems of one fingerprint at once would each open one).
        case openProblem(IncidentFingerprint)
        case recentIncidents(IncidentQuery)
        /// What a ticket's classification read when it opened, and what decided it.
        case classificationInputs(String)
    }

    /// The incidents of a fingerprint not linked to a problem, opened in `window` before
    /// `openedAt` (at most `limit`, newest first), `excluding` one ticket.
    public struct IncidentQuery: Sendable, Hashable {
        public var fingerprint: IncidentFingerprint
        public var openedAt: Date
        public var window: TimeInterval
        public var excluding: String
        public var limit: Int
    }

    /// The reads a decision made that the snapshot does not hold.
    public typealias Needs = SnapshotNeeds<Read>

    /// A stored ticket's classification inputs (see ``TicketRepository/classificationInputs(_:id:)``).
    public struct ClassificationInputs: Sendable {
        public var facts: ReportFacts?
        public var decision: ServiceTypeDecision?
    }

    public var tickets: [String: TicketRecord?] = [:]
    public var ticketExists: [String: Bool] = [:]
    public var problemOf: [String: String?] = [:]
    public var problems: [String: ProblemRecord?] = [:]
    public var problemTickets: [String: [String]] = [:]
    public var openProblems: [IncidentFingerprint: TicketRepository.ProblemLink?] = [:]
    public var recentIncidents: [IncidentQuery: [IncidentRecord]] = [:]
    public var classificationInputs: [String: ClassificationInputs] = [:]

    public init() {}

    // MARK: What the decider reads (throwing `Needs` for what is not loaded)

    func ticket(_ id: String) throws(Needs) -> TicketRecord? { try answer(tickets, id, else: .ticket(id)) }

    func exists(_ id: String) throws(Needs) -> Bool {
        if let ticket = tickets[id] { return ticket != nil }
        return try answer(ticketExists, id, else: .ticketExists(id))
    }

    func problemId(ofTicket id: String) throws(Needs) -> String? {
        if let ticket = tickets[id] { return ticket?.problemId }
        return try answer(problemOf, id, else: .problemOf(ticket: id))
    }

    func problem(_ id: String) throws(Needs) -> ProblemRecord? { try answer(problems, id, else: .problem(id)) }

    func ticketIds(problem id: String) throws(Needs) -> [String] {
        try answer(problemTickets, id, else: .problemTickets(id))
    }

    func oldestOpenProblem(_ fingerprint: IncidentFingerprint) throws(Needs) -> TicketRepository.ProblemLink? {
        try answer(openProblems, fingerprint, else: .openProblem(fingerprint))
    }

    func incidents(_ query: IncidentQuery) throws(Needs) -> [IncidentRecord] {
        try answer(recentIncidents, query, else: .recentIncidents(query))
    }

    func classification(of id: String) throws(Needs) -> ClassificationInputs {
        try answer(classificationInputs, id, else: .classificationInputs(id))
    }

    /// Whether `read` is loaded.
    public func holds(_ read: Read) -> Bool {
        switch read {
        case .ticket(let id): tickets[id] != nil
        case .ticketExists(let id): tickets[id] != nil || ticketExists[id] != nil
        case .problemOf(let id): tickets[id] != nil || problemOf[id] != nil
        case .problem(let id): problems[id] != nil
        case .problemTickets(let id): problemTickets[id] != nil
        case .openProblem(let fingerprint): openProblems[fingerprint] != nil
        case .recentIncidents(let query): recentIncidents[query] != nil
        case .classificationInputs(let id): classificationInputs[id] != nil
        }
    }

    // MARK: Loading

    /// Loads `reads` from the transaction (those not held already).
    mutating func load(_ reads: [Read], from db: any SQLTransaction, policy: TicketLifecycle.Policy) throws {
        for read in reads where !holds(read) {
            switch read {
            case .ticket(let id):
                try RouterEngine.lockTicket(db, id)
                tickets[id] = .some(try TicketRepository.load(db, id: id, policy: policy))
            case .ticketExists(let id):
                ticketExists[id] = try TicketRepository.exists(db, id: id)
            case .problemOf(let id):
                problemOf[id] = .some(
                    try db.fetchOne("SELECT problem_id FROM tickets WHERE id = ?", [.text(id)])?[0].string)
            case .problem(let id):
                problems[id] = .some(try ProblemRecord.load(db, id: id))
            case .problemTickets(let id):
                problemTickets[id] = try TicketRepository.ticketIds(db, problemId: id)
            case .openProblem(let fingerprint):
                try db.lock("itr-router.fingerprint", key: fingerprint.key)
                openProblems[fingerprint] = .some(try TicketRepository.oldestOpenProblem(db, fingerprint: fingerprint))
            case .recentIncidents(let query):
                recentIncidents[query] = try TicketRepository.recentIncidents(
                    db, fingerprint: query.fingerprint, openedAt: query.openedAt, window: query.window,
                    excluding: query.excluding, limit: query.limit)
            case .classificationInputs(let id):
                let (facts, decision) = try TicketRepository.classificationInputs(db, id: id)
                classificationInputs[id] = ClassificationInputs(facts: facts, decision: decision)
            }
        }
    }
}
