import Foundation
import Testing
import ITRConfig
@testable import RouterApp

/// Builds a ticket in a given state.
enum Fixture: String, CaseIterable, CustomStringConvertible {
    case opened, classified, assigned, inProgress, pending, resolved, closed, cancelled, merged
    var description: String { rawValue }

    static let t0 = at(2026, 3, 2, 10)

    func make() -> TicketLifecycle {
        var ticket = TicketLifecycle(id: "T-1", openedAt: Fixture.t0, policy: policy)
        let steps: [RouterApp.TicketAction]
        let classify = RouterApp.TicketAction.classify(serviceType: .hardwareFault, priority: .p2, ruleId: "r", rulesVersion: "v")
        let assign = RouterApp.TicketAction.assign(tier: "L1", group: "desk")
        let resolve = RouterApp.TicketAction.resolve(Resolution(code: "HW-COMPONENT", rootCause: "PSU"))
        switch self {
        case .opened: steps = []
        case .classified: steps = [classify]
        case .assigned: steps = [classify, assign]
        case .inProgress: steps = [classify, assign, .acknowledge]
        case .pending: steps = [classify, assign, .acknowledge, .pause(.waitingCustomer)]
        case .resolved: steps = [classify, assign, .acknowledge, resolve]
        case .closed: steps = [classify, assign, .acknowledge, resolve, .confirm]
        case .cancelled: steps = [.cancel(reason: "duplicate")]
        case .merged: steps = [.merge(into: "T-0")]
        }
        for (index, step) in steps.enumerated() {
            try! ticket.apply(step, at: Fixture.t0.addingTimeInterval(Double(index + 1) * 60))
        }
        return ticket
    }
}

/// Expected result of an action in a state: the new state or the refusal code.
enum Expect {
    case to(TicketLifecycle.State)
    case refused(TicketRefusal.Code)
}

struct Case: CustomStringConvertible {
    var from: Fixture
    var action: RouterApp.TicketAction
    var expect: Expect
    var description: String { "\(from) + \(action.name)" }
}

let classifyAction = RouterApp.TicketAction.classify(serviceType: .softwareFault, priority: .p1, ruleId: "r2", rulesVersion: "v")
let resolveAction = RouterApp.TicketAction.resolve(Resolution(code: "SW-DEFECT", rootCause: "bug", workaround: "reboot"))

/// Every action in every state.
let lifecycleTable: [Case] = {
    let s = TicketLifecycle.State.self
    var table: [Case] = []
    func add(_ from: Fixture, _ action: RouterApp.TicketAction, _ expect: Expect) { table.append(Case(from: from, action: action, expect: expect)) }
    // classify
    add(.opened, classifyAction, .to(s.classified))
    add(.classified, classifyAction, .to(s.classified))
    add(.assigned, classifyAction, .to(s.assigned))
    add(.inProgress, classifyAction, .to(s.inProgress))
    add(.pending, classifyAction, .to(s.pending(.waitingCustomer)))
    add(.resolved, classifyAction, .refused(.alreadyResolved))
    // assign
    add(.opened, .assign(tier: "L1", group: "g"), .refused(.notClassified))
    add(.classified, .assign(tier: "L2", group: "g"), .to(s.assigned))
    add(.classified, .assign(tier: "L9", group: "g"), .refused(.unknownTier))
    add(.assigned, .assign(tier: "L2", group: "g"), .to(s.assigned))
    add(.inProgress, .assign(tier: "L2", group: "g"), .to(s.assigned))
    add(.pending, .assign(tier: "L2", group: "g"), .to(s.assigned))
    add(.resolved, .assign(tier: "L2", group: "g"), .refused(.alreadyResolved))
    // acknowledge
    add(.opened, .acknowledge, .refused(.notAssigned))
    add(.classified, .acknowledge, .refused(.notAssigned))
    add(.assigned, .acknowledge, .to(s.inProgress))
    add(.inProgress, .acknowledge, .refused(.alreadyAcknowledged))
    add(.pending, .acknowledge, .refused(.alreadyAcknowledged))
    add(.resolved, .acknowledge, .refused(.alreadyResolved))
    // note
    for fixture in [Fixture.opened, .classified, .assigned, .inProgress, .resolved] {
        add(fixture, .note("called customer 客户已回电"), .to(fixture.make().state))
    }
    add(.pending, .note("n"), .to(s.pending(.waitingCustomer)))
    // pause
    add(.opened, .pause(.waitingCustomer), .refused(.notAssigned))
    add(.classified, .pause(.waitingCustomer), .refused(.notAssigned))
    add(.assigned, .pause(.waitingCustomer), .refused(.notAcknowledged))
    add(.inProgress, .pause(.waitingSparePart), .to(s.pending(.waitingSparePart)))
    add(.pending, .pause(.waitingSupplier), .refused(.alreadyPaused))
    add(.resolved, .pause(.other), .refused(.alreadyResolved))
    // resume
    for fixture in [Fixture.opened, .classified, .assigned, .inProgress, .resolved] {
        add(fixture, .resume, .refused(.notPaused))
    }
    add(.pending, .resume, .to(s.inProgress))
    // escalate
    add(.opened, .escalate(.nextTier, reason: .manual), .refused(.notAssigned))
    add(.classified, .escalate(.nextTier, reason: .manual), .refused(.notAssigned))
    add(.assigned, .escalate(.nextTier, reason: .olaBreach), .to(s.assigned))
    add(.inProgress, .escalate(.nextTier, reason: .tierRequest), .to(s.assigned))
    add(.inProgress, .escalate(.tier("L3"), reason: .manual), .to(s.assigned))
    add(.inProgress, .escalate(.tier("L1"), reason: .manual), .refused(.sameTier))
    add(.inProgress, .escalate(.tier("R&D"), reason: .manual), .refused(.unknownTier))
    add(.pending, .escalate(.nextTier, reason: .olaBreach), .to(s.assigned))
    add(.resolved, .escalate(.nextTier, reason: .manual), .refused(.alreadyResolved))
    // resolve
    add(.opened, resolveAction, .refused(.notAssigned))
    add(.classified, resolveAction, .refused(.notAssigned))
    add(.assigned, resolveAction, .to(s.resolved))
    add(.inProgress, resolveAction, .to(s.resolved))
    add(.pending, resolveAction, .to(s.resolved))
    add(.resolved, resolveAction, .refused(.alreadyResolved))
    // confirm
    for fixture in [Fixture.opened, .classified, .assigned, .inProgress, .pending] {
        add(fixture, .confirm, .refused(.notResolved))
        add(fixture, .reopen(reason: "r"), .refused(.notResolved))
        add(fixture, .autoClose, .refused(.notResolved))
        add(fixture, .cancel(reason: "r"), .to(s.cancelled))
        add(fixture, .merge(into: "T-9"), .to(s.merged))
    }
    add(.resolved, .confirm, .to(s.closed))
    add(.resolved, .reopen(reason: "still failing 仍然故障"), .to(s.inProgress))
    add(.closed, .reopen(reason: "recurred"), .to(s.inProgress))
    add(.resolved, .autoClose, .refused(.confirmationNotDue))
    add(.resolved, .cancel(reason: "r"), .refused(.alreadyResolved))
    add(.resolved, .merge(into: "T-9"), .refused(.alreadyResolved))
    add(.inProgress, .merge(into: "T-1"), .refused(.mergeIntoSelf))
    // terminal states refuse everything (closed allows reopen, above)
    let others: [RouterApp.TicketAction] = [classifyAction, .assign(tier: "L1", group: "g"), .acknowledge, .note("n"),
                                  .pause(.other), .resume, .escalate(.nextTier, reason: .manual), resolveAction,
                                  .confirm, .cancel(reason: "r"), .merge(into: "T-9"), .autoClose]
    for action in others {
        add(.closed, action, .refused(.ticketClosed))
        add(.cancelled, action, .refused(.ticketCancelled))
        add(.merged, action, .refused(.ticketMerged))
    }
    add(.cancelled, .reopen(reason: "r"), .refused(.ticketCancelled))
    add(.merged, .reopen(reason: "r"), .refused(.ticketMerged))
    return table
}()

@Suite struct TicketLifecycleTests {
    @Test(arguments: lifecycleTable)
    func transition(_ row: Case) {
        var ticket = row.from.make()
        let before = ticket
        let now = Fixture.t0.addingTimeInterval(3_600)
        switch row.expect {
        case .to(let state):
            do {
                let transition = try ticket.apply(row.action, at: now)
                #expect(ticket.state == state)
                #expect(transition.to == state)
                #expect(transition.from == before.state)
                #expect(!transition.facts.isEmpty)
                #expect(ticket.history.count == before.history.count + transition.facts.count)
            } catch {
                Issue.record("\(row) refused: \(error)")
            }
        case .refused(let code):
            do {
                try ticket.apply(row.action, at: now)
                Issue.record("\(row) was accepted, expected \(code)")
            } catch {
                #expect(error.code == code)
                #expect(ticket == before, "a refusal changes nothing")
            }
        }
    }

    @Test func escalationFollowsTheChainAndStopsAtTheEnd() throws {
        var ticket = Fixture.inProgress.make()
        let now = Fixture.t0.addingTimeInterval(3_600)
        try ticket.apply(.escalate(.nextTier, reason: .olaBreach), at: now)
        #expect(ticket.tier == "L2")
        try ticket.apply(.acknowledge, at: now)
        try ticket.apply(.escalate(.nextTier, reason: .tierRequest), at: now)
        #expect(ticket.tier == "L3")
        #expect(throws: TicketRefusal.self) { try ticket.apply(.escalate(.nextTier, reason: .manual), at: now) }
        do {
            try ticket.apply(.escalate(.nextTier, reason: .manual), at: now)
        } catch {
            #expect(error.code == .noHigherTier)
        }
        #expect(ticket.history.last?.fact == .escalated(from: "L2", to: "L3", reason: .tierRequest))
    }

    @Test func escalationCanHandTheTicketToTheTiersGroup() throws {
        var ticket = Fixture.inProgress.make()
        let before = ticket.group
        let now = Fixture.t0.addingTimeInterval(3_600)
        try ticket.apply(.escalate(.nextTier, reason: .olaBreach, group: "product-support"), at: now)
        #expect(ticket.tier == "L2" && ticket.group == "product-support" && before != "product-support")
        #expect(ticket.history.last?.fact == .escalated(from: "L1", to: "L2", reason: .olaBreach, group: "product-support"))
        try ticket.apply(.escalate(.nextTier, reason: .manual), at: now)
        #expect(ticket.tier == "L3" && ticket.group == "product-support", "no group given: it keeps its group")
        let replayed = try TicketLifecycle(id: ticket.id, replaying: ticket.history, policy: policy)
        #expect(replayed == ticket)
        // A fact stored before escalation groups existed reads back with none.
        let old = Data(#"{"escalated":{"from":"L1","to":"L2","reason":"ola-breach"}}"#.utf8)
        #expect(try JSONDecoder().decode(TicketFact.self, from: old) == .escalated(from: "L1", to: "L2", reason: .olaBreach))
    }

    @Test func reopenWindowAndAutoClose() throws {
        let resolvedAt = Fixture.t0.addingTimeInterval(4 * 60)
        var late = Fixture.resolved.make()
        do {
            try late.apply(.reopen(reason: "again"), at: resolvedAt.addingTimeInterval(7 * 86_400 + 1))
            Issue.record("reopen after the window was accepted")
        } catch {
            #expect(error.code == .reopenWindowExpired)
        }
        var closing = Fixture.resolved.make()
        #expect(closing.autoCloseAt == resolvedAt.addingTimeInterval(72 * hour))
        try closing.apply(.autoClose, at: resolvedAt.addingTimeInterval(72 * hour))
        #expect(closing.state == .closed)
        #expect(closing.history.last?.fact == .closed(.confirmationTimeout))
    }

    @Test func escalatingAPendingTicketResumesIt() throws {
        var ticket = Fixture.pending.make()
        let transition = try ticket.apply(.escalate(.nextTier, reason: .olaBreach), at: Fixture.t0.addingTimeInterval(hour))
        #expect(transition.facts.map(\.fact) == [.resumed, .escalated(from: "L1", to: "L2", reason: .olaBreach)])
    }

    @Test func replayReproducesTheTicket() throws {
        var ticket = Fixture.pending.make()
        try ticket.apply(.escalate(.nextTier, reason: .olaBreach), at: Fixture.t0.addingTimeInterval(hour))
        try ticket.apply(.acknowledge, at: Fixture.t0.addingTimeInterval(2 * hour))
        try ticket.apply(resolveAction, at: Fixture.t0.addingTimeInterval(3 * hour))
        let replayed = try TicketLifecycle(id: "T-1", replaying: ticket.history, policy: policy)
        #expect(replayed == ticket)
    }
}
