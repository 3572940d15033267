import Foundation
import ITREvents

/// One input to the defect book's decisions (the payload decoded and validated already).
public enum DefectInput: Sendable {
    case problemOpened(ProblemOpened)
    case problemKnownError(ProblemKnownError)
    case problemResolved(ProblemResolved)
    case ticketResolved(TicketResolved)
    case slaBreached(SLABreached)
    /// R&D's decision on a reported defect.
    case defectStatus(DefectStatus)
    /// The periodic flush of a defect's deferred update (``DefectFlusher``).
    case flush(defectId: String)
    /// Another problem type (`itr.problem.#`): nothing to do.
    case otherProblemEvent
}

/// What one decision changes, applied by ``DefectBook`` in one go: the problems, tickets and
/// defects to save (each once, in its final version, in the order first touched), the
/// fingerprints, problems and tickets to re-point to a merge target, and the events to write to
/// the outbox (in order). A value: equal inputs and snapshots give equal effects.
public struct DefectEffects: Sendable {
    /// What became of the input.
    public enum Outcome: Sendable, Hashable {
        case applied
        /// Never acceptable: dead-letter with this reason (and no effects).
        case refused(code: String, message: String)
    }

    /// A defect to save with its impact score (the column the API orders by).
    public struct SavedDefect: Sendable, Hashable {
        public var defect: Defect
        public var score: Double
    }

    /// Everything pointing to the defect `from` (a duplicate) now points to `to` (its target).
    public struct Repoint: Sendable, Hashable {
        public var from: String
        public var to: String
    }

    /// A feed event about a defect (`itr.defect.reported` / `updated` / `fixed`).
    public struct Emission: Sendable {
        public var payload: any EventPayload
        public var defectId: String
        /// The input that changed the defect last (causation and trace context).
        public var cause: CauseContext?
        public var time: Date
        public var type: EventType { Swift.type(of: payload).eventType }
    }

    public internal(set) var outcome: Outcome = .applied
    public internal(set) var repoints: [Repoint] = []
    public internal(set) var events: [Emission] = []
    var problemSaves = LatestSaves<ProblemRecord>()
    var ticketSaves = LatestSaves<TicketRecord>()
    var defectSaves = LatestSaves<SavedDefect>()

    public var problems: [ProblemRecord] { problemSaves.values }
    public var tickets: [TicketRecord] { ticketSaves.values }
    public var defects: [SavedDefect] { defectSaves.values }

    /// Whether the decision writes nothing at all.
    public var isEmpty: Bool { repoints.isEmpty && events.isEmpty && problems.isEmpty && tickets.isEmpty && defects.isEmpty }

    /// A refusal: nothing of what was decided before it is applied.
    static func refused(code: String, message: String) -> DefectEffects {
        var effects = DefectEffects()
        effects.outcome = .refused(code: code, message: message)
        return effects
    }
}

/// Values to save, each once in its latest version, in the order first saved.
struct LatestSaves<Value: Sendable>: Sendable {
    private(set) var values: [Value] = []
    private var index: [String: Int] = [:]

    /// The latest version saved under `id`, nil when none was.
    func latest(_ id: String) -> Value? { index[id].map { values[$0] } }

    mutating func save(_ value: Value, id: String) {
        if let position = index[id] {
            values[position] = value
        } else {
            index[id] = values.count
            values.append(value)
        }
    }
}
