import Foundation
import ITRConfig
import ServiceKit
import Testing
@testable import RouterApp

/// The router's decisions without a database: `RouterDecider.decide(input, snapshot, rules, now)`
/// on snapshots filled from an in-memory world, the effects applied back to it. What the SQL
/// executor does with the same effects is covered by the engine tests on SQLite and PostgreSQL.
@Suite("Router decisions without a database")
struct RouterDecisionTests {
    let rules: RouterRules
    let start = Date(timeIntervalSince1970: 1_780_000_000)

    init() throws { rules = try shippedRules() }

    /// Tickets and problems as the store would hold them, read through `RouterSnapshot.Read`.
    struct World {
        var tickets: [String: TicketRecord] = [:]
        var problems: [String: ProblemRecord] = [:]
        /// Every read the decisions asked for, in order, for the assertions on what they read.
        var reads: [RouterSnapshot.Read] = []

        mutating func fill(_ snapshot: inout RouterSnapshot, _ read: RouterSnapshot.Read) {
            reads.append(read)
            switch read {
            case .ticket(let id): snapshot.tickets[id] = .some(tickets[id])
            case .ticketExists(let id): snapshot.ticketExists[id] = tickets[id] != nil
            case .problemOf(let id): snapshot.problemOf[id] = .some(tickets[id]?.problemId)
            case .problem(let id): snapshot.problems[id] = .some(problems[id])
            case .problemTickets(let id):
                snapshot.problemTickets[id] = tickets.values.filter { $0.problemId == id }
                    .sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) }.map(\.id)
            case .openProblem(let fingerprint):
                snapshot.openProblems[fingerprint] = .some(
                    problems.values.filter { $0.fingerprint == fingerprint.key && $0.state != .resolved }
                        .min { $0.openedAt < $1.openedAt }
                        .map { TicketRepository.ProblemLink(id: $0.id, state: $0.state, workaround: $0.workaround) })
            case .recentIncidents(let query):
                snapshot.recentIncidents[query] = tickets.values.filter {
                    $0.fingerprint == query.fingerprint.key && $0.problemId == nil && $0.id != query.excluding
                        && $0.openedAt >= query.openedAt.addingTimeInterval(-query.window) && $0.openedAt <= query.openedAt
                }.sorted { $0.openedAt > $1.openedAt }.prefix(query.limit).map {
                    IncidentRecord(
                        ticketId: $0.id, fingerprint: query.fingerprint, priority: $0.lifecycle.priority ?? .p3, openedAt: $0.openedAt)
                }
            case .classificationInputs(let id):
                snapshot.classificationInputs[id] = .init(facts: tickets[id]?.reportFacts, decision: tickets[id]?.decision)
            }
        }

        /// Decides `input` as the engine does (the reads known in advance, then what each pass
        /// asks for) and applies the effects; returns them and the number of passes.
        mutating func decide(
            _ input: RouterInput, rules: RouterRules, now: Date, cause: Cause = Cause(id: "cause-1")
        ) throws -> (effects: RouterEffects, passes: Int) {
            let (snapshot, passes) = try self.snapshot(for: input, rules: rules, now: now, cause: cause)
            let effects = try RouterDecider.decide(input, cause: cause, snapshot, rules: rules, now: now)
            for ticket in effects.tickets { tickets[ticket.id] = ticket }
            for problem in effects.problems { problems[problem.id] = problem }
            return (effects, passes)
        }

        /// The snapshot that decides `input` (every read it asks for filled), and how many passes
        /// it took to know.
        mutating func snapshot(
            for input: RouterInput, rules: RouterRules, now: Date, cause: Cause
        ) throws -> (RouterSnapshot, passes: Int) {
            var snapshot = RouterSnapshot()
            for read in RouterDecider.reads(for: input) { fill(&snapshot, read) }
            var passes = 1
            while true {
                do {
                    _ = try RouterDecider.decide(input, cause: cause, snapshot, rules: rules, now: now)
                    return (snapshot, passes)
                } catch let needs as RouterSnapshot.Needs {
                    #expect(needs.reads.allSatisfy { !snapshot.holds($0) }, "a pass asks only for what it lacks")
                    for read in needs.reads { fill(&snapshot, read) }
                    passes += 1
                }
            }
        }
    }

    func opening(_ id: String, summary: String, minutes: Double) throws -> RouterInput {
        let opened = try openedEvent(
            ticketId: id, account: "ACC-1007", summary: summary, line: "storage", model: "OS5000", version: "6.1.5",
            component: "controller", openedAt: start.addingTimeInterval(minutes * 60)
        ).decodeData(TicketOpened.self)
        return .open(opened, RouterDecider.classify(opened, rules: rules))
    }

    @Test func recurringIncidentsOpenOneProblemAndAFixClosesTheLoop() throws {
        var world = World()
        let now = start.addingTimeInterval(3_600)
        var opened: [RouterEffects] = []
        for index in 1...4 {
            opened.append(try world.decide(
                opening("I-\(index)", summary: "OS5000 控制器异常重启 after upgrade, core dump \(index)", minutes: Double(index)),
                rules: rules, now: now).effects)
        }
        #expect(opened.map { $0.events.map(\.type) }[0] == [.ticketClassified, .ticketAssigned])
        // The third incident of one fingerprint within the window opens the problem (threshold 3);
        // the fourth joins it.
        let third = opened[2]
        #expect(third.events.map(\.type) == [.ticketClassified, .ticketAssigned, .problemOpened])
        let problem = try #require(third.problems.first)
        #expect(third.tickets.map(\.id) == ["I-3", "I-1", "I-2"])
        #expect(third.tickets.allSatisfy { $0.problemId == problem.id })
        let announcement = try #require(third.events.last?.payload as? ProblemOpened)
        #expect(announcement.ticketIds == ["I-1", "I-2", "I-3"] && announcement.trigger == .recurring)
        #expect(opened[3].problems.isEmpty && opened[3].tickets.first?.problemId == problem.id)
        #expect(world.reads.contains(.problemTickets(problem.id)) == false)

        // Resolving an incident with root cause and workaround documents the known error.
        var resolve = ITREvents.TicketAction(ticketId: "I-1", action: .resolve, actor: engineer)
        resolve.resolution = .init(resolutionCode: "SW-DEFECT", rootCause: "控制器固件缺陷", workaround: "回退到 6.1.4")
        let resolved = try world.decide(.act(resolve), rules: rules, now: now).effects
        #expect(resolved.events.map(\.type) == [.ticketResolved, .problemKnownError])
        #expect(resolved.tickets.count == 1, "the resolved ticket is saved once, with both decisions")
        #expect(resolved.tickets[0].log.suffix(3).map(\.kind) == ["resolved", "quality-responsibility", "problem-known-error"])
        #expect(world.problems[problem.id]?.state == .knownError)

        // R&D ships the fix: the problem and its incidents still open are resolved.
        let fix = DefectFixed(
            defectId: "DEF-9", fingerprint: "f", productLine: "storage", symptomSignature: "controller reboot",
            impact: DefectImpact(customers: 1, incidents: 4, highestPriority: .p3, slaBreaches: 0, packages: ["silver"],
                                 firstSeen: start, lastSeen: start, score: 1),
            ticketIds: ["I-2"], status: .fixReleased, fixVersion: "6.1.8")
        let (fixed, passes) = try world.decide(.defectFixed(fix), rules: rules, now: now)
        #expect(fixed.resolvedProblems == [problem.id])
        #expect(passes == 3, "the tickets' problems, then the problems and their incidents, then the incidents")
        #expect(fixed.events.filter { $0.type == .ticketResolved }.count == 3)
        #expect(fixed.events.filter { $0.type == .ticketUpdated }.count == 1, "the resolved one is told")
        #expect(fixed.events.last?.type == .problemResolved)
        #expect(world.problems[problem.id]?.state == .resolved && world.problems[problem.id]?.fixVersion == "6.1.8")
    }

    @Test func aRefusedActionHasNoEffects() throws {
        var world = World()
        _ = try world.decide(
            opening("T-1", summary: "OS5000 控制器异常重启", minutes: 0), rules: rules, now: start.addingTimeInterval(60))
        let before = try #require(world.tickets["T-1"])
        let confirm = ITREvents.TicketAction(ticketId: "T-1", action: .confirm, actor: customer)
        #expect(throws: ActionRefusal.self) { try world.decide(.act(confirm), rules: rules, now: start.addingTimeInterval(120)) }
        #expect(world.tickets["T-1"]?.log.count == before.log.count)
        let unknown = ITREvents.TicketAction(ticketId: "T-404", action: .acknowledge, actor: engineer)
        let refusal = #expect(throws: ActionRefusal.self) {
            try world.decide(.act(unknown), rules: rules, now: start.addingTimeInterval(120))
        }
        #expect(refusal?.code == "unknown-ticket" && refusal?.status == 404)
    }

    @Test func aDueMomentIsAnnouncedOnceThenReplanned() throws {
        var world = World()
        _ = try world.decide(
            opening("T-2", summary: "OS5000 控制器异常重启", minutes: 0), rules: rules, now: start)
        let ticket = try #require(world.tickets["T-2"])
        let dueAt = try #require(ticket.clocks(rules: rules, now: start).sla.response.dueAt)
        let late = dueAt.addingTimeInterval(60)
        let first = try world.decide(.fire(ticketId: "T-2", kind: .responseBreach, dueAt: dueAt), rules: rules, now: late).effects
        #expect(first.outcome == .applied && first.events.map(\.type) == [.slaBreached])
        let again = try world.decide(.fire(ticketId: "T-2", kind: .responseBreach, dueAt: dueAt), rules: rules, now: late).effects
        #expect(again.outcome == .notDue && again.events.isEmpty && again.tickets.isEmpty)
        #expect(again.replans.map(\.ticket.id) == ["T-2"] && again.replans.first?.after == dueAt)
        let gone = try world.decide(.fire(ticketId: "T-9", kind: .responseBreach, dueAt: dueAt), rules: rules, now: late).effects
        #expect(gone.outcome == .unknownTicket && gone.events.isEmpty)
    }

    @Test func theSameInputOnTheSameSnapshotDecidesTheSame() throws {
        var world = World()
        let input = try opening("T-3", summary: "OS5000 控制器异常重启", minutes: 0)
        let now = start.addingTimeInterval(60)
        let (snapshot, _) = try world.snapshot(for: input, rules: rules, now: now, cause: Cause(id: "c"))
        let a = try RouterDecider.decide(input, cause: Cause(id: "c"), snapshot, rules: rules, now: now)
        let b = try RouterDecider.decide(input, cause: Cause(id: "c"), snapshot, rules: rules, now: now)
        let encode = { (effects: RouterEffects) in
            try effects.events.map { String(decoding: try EventCoding.encoder.encode($0.payload), as: UTF8.self) }
        }
        #expect(try encode(a) == encode(b))
        #expect(a.tickets.map(\.log) == b.tickets.map(\.log))
        // Opened again: nothing (the ticket exists).
        world.tickets["T-3"] = a.tickets[0]
        #expect(try world.decide(input, rules: rules, now: now).effects.outcome == .alreadyOpen)
    }
}
