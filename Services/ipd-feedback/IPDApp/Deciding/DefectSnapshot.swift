import Foundation
import ServiceKit

/// What one input's decision reads of the store: the problems, tickets and defects it touches,
/// loaded by ``DefectBook`` before ``DefectDecider`` decides. A read the decision makes that is
/// not in the snapshot throws ``DefectSnapshot/Needs``: the book loads what it names and asks
/// again (a ticket's problem, a problem's defect, a fingerprint's defect are only known once the
/// read before them is made), so the decider never sees a database.
public struct DefectSnapshot: DecisionSnapshot, Sendable, Hashable {
    /// One read of the store.
    public enum Read: Sendable, Hashable {
        case problem(String)
        case ticket(String)
        /// The product-caused tickets that named a problem before it was known.
        case waitingTickets(problem: String)
        case defect(String)
        /// The defect a fingerprint digest folds into (following merges).
        case fingerprint(String)
    }

    /// The reads a decision made that the snapshot does not hold.
    public typealias Needs = SnapshotNeeds<Read>

    /// Each read's answer (nil: read, not stored).
    public var problems: [String: ProblemRecord?] = [:]
    public var tickets: [String: TicketRecord?] = [:]
    public var waitingTickets: [String: [TicketRecord]] = [:]
    public var defects: [String: Defect?] = [:]
    public var fingerprints: [String: String?] = [:]

    public init() {}

    // MARK: What the decider reads (throwing `Needs` for what is not loaded)

    func problem(_ id: String) throws(Needs) -> ProblemRecord? { try answer(problems, id, else: .problem(id)) }

    func ticket(_ id: String) throws(Needs) -> TicketRecord? { try answer(tickets, id, else: .ticket(id)) }

    func waitingTickets(problem id: String) throws(Needs) -> [TicketRecord] {
        try answer(waitingTickets, id, else: .waitingTickets(problem: id))
    }

    func defect(_ id: String) throws(Needs) -> Defect? { try answer(defects, id, else: .defect(id)) }

    func defectId(fingerprint digest: String) throws(Needs) -> String? {
        try answer(fingerprints, digest, else: .fingerprint(digest))
    }

    /// Whether `read` is loaded.
    public func holds(_ read: Read) -> Bool {
        switch read {
        case .problem(let id): problems[id] != nil
        case .ticket(let id): tickets[id] != nil
        case .waitingTickets(let id): waitingTickets[id] != nil
        case .defect(let id): defects[id] != nil
        case .fingerprint(let digest): fingerprints[digest] != nil
        }
    }

    // MARK: Loading

    /// Loads `reads` from the transaction (those not held already).
    mutating func load(_ reads: [Read], from db: some SQLTransaction) throws {
        for read in reads where !holds(read) {
            switch read {
            case .problem(let id): problems[id] = .some(try DefectStore.problem(db, id: id))
            case .ticket(let id): tickets[id] = .some(try DefectStore.ticket(db, id: id))
            case .waitingTickets(let id): waitingTickets[id] = try DefectStore.waitingTickets(db, problemId: id)
            case .defect(let id): defects[id] = .some(try DefectStore.defect(db, id: id))
            case .fingerprint(let digest): fingerprints[digest] = .some(try DefectStore.defectId(db, fingerprint: digest))
            }
        }
    }
}
