import Foundation
import ITREvents
import Testing
@testable import IPDApp

/// The book's stored rows as plain dictionaries: what ``DefectDecider`` reads, answered without a
/// database, and the effects applied to it as ``DefectBook`` would apply them to the tables.
struct InMemoryBook {
    var problems: [String: ProblemRecord] = [:]
    var tickets: [String: TicketRecord] = [:]
    var defects: [String: Defect] = [:]
    var fingerprints: [String: String] = [:]
    /// Every event emitted so far, in order.
    var emitted: [DefectEffects.Emission] = []
    var rules = shippedRules

    /// Decides `input`, answering every read the decider names from the dictionaries; counts the passes.
    func decide(_ input: DefectInput, cause: CauseContext? = CauseContext(eventId: "cause"), now: Date = t0) -> (DefectEffects, passes: Int) {
        var snapshot = DefectSnapshot()
        var reads = DefectDecider.reads(for: input)
        for passes in 1... {
            for read in reads {
                switch read {
                case .problem(let id): snapshot.problems[id] = .some(problems[id])
                case .ticket(let id): snapshot.tickets[id] = .some(tickets[id])
                case .waitingTickets(let id):
                    snapshot.waitingTickets[id] = tickets.values.filter { $0.problemId == id && $0.defectId == nil }
                        .sorted { $0.ticketId < $1.ticketId }
                case .defect(let id): snapshot.defects[id] = .some(defects[id])
                case .fingerprint(let digest): snapshot.fingerprints[digest] = .some(fingerprints[digest])
                }
            }
            do throws(DefectSnapshot.Needs) {
                return (try DefectDecider.decide(input, cause: cause, snapshot, rules: rules, now: now), passes)
            } catch {
                reads = error.reads
            }
        }
        fatalError("unreachable")
    }

    /// Decides `input` and applies its effects when it is not refused.
    @discardableResult
    mutating func apply(_ input: DefectInput, now: Date = t0) -> DefectEffects {
        let (effects, _) = decide(input, now: now)
        guard effects.outcome == .applied else { return effects }
        for repoint in effects.repoints {
            for (digest, id) in fingerprints where id == repoint.from { fingerprints[digest] = repoint.to }
        }
        for problem in effects.problems { problems[problem.problemId] = problem }
        for ticket in effects.tickets { tickets[ticket.ticketId] = ticket }
        for saved in effects.defects {
            defects[saved.defect.id] = saved.defect
            if fingerprints[saved.defect.fingerprint.digest] == nil { fingerprints[saved.defect.fingerprint.digest] = saved.defect.id }
        }
        emitted += effects.events
        return effects
    }
}

/// ``DefectDecider`` alone: inputs, snapshots and effects, no database, no clock, no broker.
@Suite struct DefectDecisionTests {
    /// A problem of one root cause with a product-caused ticket from `account`.
    func incident(_ n: Int, account: String, title: String = "Port down after upgrade") -> [DefectInput] {
        [
            .problemOpened(problemOpened("PRB-\(n)", title: title, tickets: ["TKT-\(n)"])),
            .ticketResolved(ticketResolved("TKT-\(n)", problem: "PRB-\(n)", account: account)),
        ]
    }

    /// A book with one reported defect (two customers), and its id.
    func reported() throws -> (InMemoryBook, String) {
        var book = InMemoryBook()
        for input in incident(1, account: "ACC-1") + incident(2, account: "ACC-2") { book.apply(input) }
        return (book, try #require(book.defects.keys.first))
    }

    @Test func aProblemOpenedAloneIsSavedAndWaitsForAProductCause() {
        let book = InMemoryBook()
        let (effects, passes) = book.decide(.problemOpened(problemOpened("PRB-1", title: "Port down", tickets: ["TKT-1"])))
        #expect(effects.outcome == .applied)
        #expect(effects.problems.map(\.problemId) == ["PRB-1"])
        #expect(effects.problems.first?.defectId == nil)
        #expect(effects.defects.isEmpty && effects.tickets.isEmpty && effects.events.isEmpty)
        #expect(passes == 1, "the problem and its waiting tickets are read before the first pass")
    }

    @Test func aProductCausedTicketCreatesTheDefectOfItsProblem() throws {
        var book = InMemoryBook()
        book.apply(incident(1, account: "ACC-1")[0])
        let (effects, passes) = book.decide(incident(1, account: "ACC-1")[1])
        #expect(passes == 3, "ticket and problem, then the fingerprint, then the defect it names")
        let saved = try #require(effects.defects.first)
        #expect(effects.defects.count == 1)
        #expect(saved.defect.problemIds == ["PRB-1"] && saved.defect.ticketIds == ["TKT-1"])
        #expect(saved.score == saved.defect.snapshot(weights: book.rules.score).score)
        #expect(effects.problems.map(\.defectId) == [saved.defect.id])
        #expect(effects.tickets.map(\.defectId) == [saved.defect.id])
        #expect(effects.events.isEmpty, "one customer, one incident: below the report threshold")
        #expect(saved.defect.cause == CauseContext(eventId: "cause"))
    }

    @Test func aSecondProblemOfTheSameFingerprintMergesIntoTheDefect() throws {
        var book = InMemoryBook()
        for input in incident(1, account: "ACC-1") { book.apply(input) }
        let first = try #require(book.defects.values.first)
        book.apply(incident(2, account: "ACC-2", title: "port DOWN after the upgrade")[0])
        let effects = book.apply(incident(2, account: "ACC-2", title: "port DOWN after the upgrade")[1])
        #expect(effects.defects.map(\.defect.id) == [first.id], "no second defect")
        #expect(book.defects.count == 1)
        let defect = try #require(book.defects[first.id])
        #expect(defect.problemIds == ["PRB-1", "PRB-2"] && defect.accounts == ["ACC-1", "ACC-2"])
        #expect(effects.events.map(\.type) == [.defectReported], "two customers: reported")
        #expect(effects.events.first?.defectId == first.id)
        #expect(defect.reportedAt == t0 && defect.lastEmittedAt == t0)
    }

    @Test func aDecisionOnAnUnknownDefectIsRefusedWithNoEffects() {
        let book = InMemoryBook()
        let (effects, _) = book.decide(.defectStatus(DefectStatus(defectId: "DEF-NOPE", status: .accepted)))
        #expect(effects.outcome == .refused(code: "unknown-defect", message: "no reported defect DEF-NOPE"))
        #expect(effects.isEmpty)
    }

    @Test func anInvalidTransitionIsRefusedWithNoEffects() throws {
        var (book, id) = try reported()
        book.apply(.defectStatus(DefectStatus(defectId: id, status: .duplicate, duplicateOf: "DEF-OTHER")))
        let (effects, _) = book.decide(.defectStatus(DefectStatus(defectId: id, status: .duplicate)))
        #expect(effects.outcome == .refused(code: "invalid-data", message: "duplicate names no target"))
        #expect(effects.isEmpty)
    }

    @Test func aFixReleasedEmitsTheFixedEventAndARepeatNothing() throws {
        var (book, id) = try reported()
        let later = t0.addingTimeInterval(60)
        let fix = DefectInput.defectStatus(DefectStatus(defectId: id, status: .fixReleased, fixVersion: "V100R013C00"))
        let effects = book.apply(fix, now: later)
        #expect(effects.outcome == .applied)
        #expect(effects.events.map(\.type) == [.defectFixed])
        let payload = try #require(effects.events.first?.payload as? DefectFixed)
        #expect(payload.defectId == id && payload.fixVersion == "V100R013C00" && payload.status == .fixReleased)
        #expect(effects.events.first?.time == later)
        #expect(effects.defects.map(\.defect.status) == [.fixReleased])
        let (repeated, _) = book.decide(fix, now: later)
        #expect(repeated.outcome == .applied && repeated.isEmpty, "the same fix again: nothing")
    }

    @Test func aDuplicateIsMergedIntoItsTargetAndRepointed() throws {
        var book = InMemoryBook()
        for input in incident(1, account: "ACC-1") + incident(2, account: "ACC-2") { book.apply(input) }
        for input in incident(3, account: "ACC-3", title: "Fan alarm on boot") + incident(4, account: "ACC-4", title: "Fan alarm on boot") {
            book.apply(input)
        }
        #expect(book.defects.count == 2)
        let ports = try #require(book.defects.values.first { $0.problemIds.contains("PRB-1") })
        let fans = try #require(book.defects.values.first { $0.problemIds.contains("PRB-3") })
        let effects = book.apply(.defectStatus(DefectStatus(defectId: fans.id, status: .duplicate, duplicateOf: ports.id)))
        #expect(effects.repoints == [.init(from: fans.id, to: ports.id)])
        #expect(effects.events.map(\.type) == [.defectUpdated, .defectUpdated])
        #expect(effects.events.map(\.defectId) == [fans.id, ports.id])
        #expect(effects.defects.map(\.defect.id) == [ports.id, fans.id], "the target first, as the book saved them")
        #expect(book.defects[ports.id]?.problemIds == ["PRB-1", "PRB-2", "PRB-3", "PRB-4"])
    }

    @Test func theFlushEmitsADeferredUpdateOnceTheDebounceIsOver() throws {
        var book = InMemoryBook()
        for input in incident(1, account: "ACC-1") + incident(2, account: "ACC-2") { book.apply(input) }
        book.apply(incident(3, account: "ACC-3")[0])
        book.apply(incident(3, account: "ACC-3")[1], now: t0.addingTimeInterval(0.1))
        let defect = try #require(book.defects.values.first)
        #expect(defect.pendingUpdate, "a new customer within the debounce interval: deferred")
        let (early, _) = book.decide(.flush(defectId: defect.id), cause: nil, now: t0.addingTimeInterval(0.2))
        #expect(early.isEmpty)
        let due = t0.addingTimeInterval(book.rules.update.debounce)
        let (flushed, _) = book.decide(.flush(defectId: defect.id), cause: nil, now: due)
        #expect(flushed.events.map(\.type) == [.defectUpdated])
        #expect(flushed.events.first?.cause == defect.cause, "caused by the defect's last change")
        #expect(flushed.defects.first?.defect.pendingUpdate == false)
    }
}
