import Foundation
import Testing
import ITRConfig
@testable import RouterApp

@Suite struct ClockAndPlannerTests {
    let targets = SLATargets(response: hour, resolution: 8 * hour)

    @Test func waitingCustomerPausesAcrossTheWeekend() {
        // Opened Friday 2026-03-06 16:00 (2h of business time that day), paused Friday 17:00
        // waiting for the customer, resumed Monday 11:00.
        let history = [
            TicketHistoryEntry(at: at(2026, 3, 6, 16), fact: .opened),
            TicketHistoryEntry(at: at(2026, 3, 6, 16, 20), fact: .assigned(tier: "L1", group: "desk")),
            TicketHistoryEntry(at: at(2026, 3, 6, 16, 30), fact: .acknowledged),
            TicketHistoryEntry(at: at(2026, 3, 6, 17), fact: .paused(.waitingCustomer)),
            TicketHistoryEntry(at: at(2026, 3, 9, 11), fact: .resumed),
        ]
        let now = at(2026, 3, 9, 12)
        let status = SLAClock.compute(history: history, calendar: chinaBusiness, targets: targets, now: now)
        #expect(status.response.elapsed == 30 * 60)
        #expect(status.response.isStopped && !status.response.isBreached)
        // 1h Friday + 1h Monday 11-12.
        #expect(status.resolution.elapsed == 2 * hour)
        #expect(status.resolution.remaining == 6 * hour)
        #expect(status.resolution.dueAt == at(2026, 3, 9, 18))
        #expect(status.resolution.shareConsumed == 0.25)
        #expect(!status.resolution.isPaused)

        // While paused: no due instant, paused flag.
        let paused = SLAClock.compute(history: Array(history.prefix(4)), calendar: chinaBusiness, targets: targets, now: now)
        #expect(paused.resolution.isPaused)
        #expect(paused.resolution.dueAt == nil)
        #expect(paused.resolution.elapsed == hour)
    }

    @Test func nonPausingReasonKeepsTheClockRunning() {
        let history = [
            TicketHistoryEntry(at: at(2026, 3, 9, 9), fact: .opened),
            TicketHistoryEntry(at: at(2026, 3, 9, 10), fact: .paused(.waitingSparePart)),
        ]
        let status = SLAClock.compute(history: history, calendar: chinaBusiness, targets: targets, now: at(2026, 3, 9, 18))
        #expect(status.resolution.elapsed == 9 * hour)
        #expect(status.resolution.isBreached)
        #expect(status.resolution.breachedAt == at(2026, 3, 9, 17))
        #expect(status.response.isBreached)
        #expect(status.response.breachedAt == at(2026, 3, 9, 10))
    }

    @Test func reopenRunsTheResolutionClockAgain() {
        let history = [
            TicketHistoryEntry(at: at(2026, 3, 9, 9), fact: .opened),
            TicketHistoryEntry(at: at(2026, 3, 9, 11), fact: .resolved(Resolution(code: "NFF", rootCause: "-"))),
            TicketHistoryEntry(at: at(2026, 3, 10, 9), fact: .reopened(reason: "recurred")),
        ]
        let status = SLAClock.compute(history: history, calendar: chinaBusiness, targets: targets, now: at(2026, 3, 10, 10))
        #expect(status.resolution.elapsed == 3 * hour)
        #expect(status.resolution.isRunning)
        #expect(status.response.stoppedAt == at(2026, 3, 9, 11))
    }

    @Test func olaStintsStartAtHandOff() {
        let history = [
            TicketHistoryEntry(at: at(2026, 3, 9, 9), fact: .opened),
            TicketHistoryEntry(at: at(2026, 3, 9, 9, 10), fact: .assigned(tier: "L1", group: "desk")),
            TicketHistoryEntry(at: at(2026, 3, 9, 10), fact: .escalated(from: "L1", to: "L2", reason: .olaBreach)),
        ]
        let stints = OLAClock.compute(
            history: history, calendar: chinaBusiness, budgets: ["L1": 30 * 60, "L2": 2 * hour], now: at(2026, 3, 9, 11))
        #expect(stints.map(\.tier) == ["L1", "L2"])
        #expect(stints[0].clock.elapsed == 50 * 60)
        #expect(stints[0].clock.isBreached)
        #expect(!stints[0].isCurrent)
        #expect(stints[1].clock.elapsed == hour)
        #expect(stints[1].isCurrent)
        #expect(stints[1].clock.dueAt == at(2026, 3, 9, 12))
    }

    @Test func plannerListsUpcomingMomentsInOrder() {
        let history = [
            TicketHistoryEntry(at: at(2026, 3, 6, 14), fact: .opened),
            TicketHistoryEntry(at: at(2026, 3, 6, 14), fact: .assigned(tier: "L1", group: "desk")),
            TicketHistoryEntry(at: at(2026, 3, 6, 14, 30), fact: .acknowledged),
        ]
        let now = at(2026, 3, 6, 15)
        let sla = SLAClock.compute(history: history, calendar: chinaBusiness, targets: targets, now: now)
        let ola = OLAClock.compute(history: history, calendar: chinaBusiness, budgets: ["L1": 2 * hour], now: now).last
        let planner = EscalationPlanner(
            slaWarningAt: 0.75,
            hierarchicalSteps: [
                HierarchicalStep(id: "h50", at: 0.5, notify: ["duty-manager"]),
                HierarchicalStep(id: "h100", at: 1.0, notify: ["director"]),
            ],
            functionalChain: ["L1", "L2", "L3"])
        let moments = planner.plan(sla: sla, ola: ola, calendar: chinaBusiness, now: now)
        // Resolution 8h from Fri 14:00: 4h Friday (to 18:00) + 4h Monday → Mon 13:00.
        // 50 % = Fri 18:00 (exactly the end of Friday), 75 % = Mon 11:00. OLA L1 2h → Fri 16:00.
        #expect(moments == [
            PlannedMoment(at: at(2026, 3, 6, 16), kind: .olaBreach(tier: "L1", escalateTo: "L2")),
            PlannedMoment(at: at(2026, 3, 6, 18), kind: .hierarchical(stepId: "h50", share: 0.5, notify: ["duty-manager"])),
            PlannedMoment(at: at(2026, 3, 9, 11), kind: .slaWarning(share: 0.75)),
            PlannedMoment(at: at(2026, 3, 9, 13), kind: .hierarchical(stepId: "h100", share: 1.0, notify: ["director"])),
            PlannedMoment(at: at(2026, 3, 9, 13), kind: .slaBreach),
        ])
        // Later, moments already passed are gone; a paused clock plans nothing.
        let later = at(2026, 3, 9, 12)
        let laterSLA = SLAClock.compute(history: history, calendar: chinaBusiness, targets: targets, now: later)
        #expect(planner.plan(sla: laterSLA, ola: nil, calendar: chinaBusiness, now: later).map(\.at) == [at(2026, 3, 9, 13), at(2026, 3, 9, 13)])
        let paused = history + [TicketHistoryEntry(at: at(2026, 3, 6, 15), fact: .paused(.waitingCustomer))]
        let pausedSLA = SLAClock.compute(history: paused, calendar: chinaBusiness, targets: targets, now: now)
        #expect(planner.plan(sla: pausedSLA, ola: nil, calendar: chinaBusiness, now: now).isEmpty)
        // Auto-close is planned for a resolved ticket.
        let close = at(2026, 3, 12, 9)
        #expect(planner.plan(sla: pausedSLA, ola: nil, calendar: chinaBusiness, autoCloseAt: close, now: now)
            == [PlannedMoment(at: close, kind: .autoClose)])
    }

    @Test func olaAtTheEndOfTheChainHasNoEscalationTarget() {
        let planner = EscalationPlanner(slaWarningAt: 0.75, hierarchicalSteps: [], functionalChain: ["L1", "L2", "L3"])
        #expect(planner.nextTier(after: "L3") == nil)
        #expect(planner.nextTier(after: "L1") == "L2")
    }
}
