import Foundation
import ITRConfig

/// A ticket's lifecycle as a pure state machine: no IO, time passed in.
///
/// opened → classified → assigned (tier) → in-progress ⇄ pending(reason) → resolved → closed,
/// with reopen (within the reopen window after resolution), cancel and merge.
/// Every forbidden action throws a `TicketRefusal` with a specific code.
public struct TicketLifecycle: Sendable, Hashable {
    public enum State: Sendable, Hashable, Codable {
        case opened
        case classified
        /// Handed to `tier`, not yet acknowledged by it.
        case assigned
        case inProgress
        case pending(PendingReason)
        case resolved
        case closed
        case cancelled
        case merged

        public var name: String {
            switch self {
            case .opened: "opened"
            case .classified: "classified"
            case .assigned: "assigned"
            case .inProgress: "in-progress"
            case .pending: "pending"
            case .resolved: "resolved"
            case .closed: "closed"
            case .cancelled: "cancelled"
            case .merged: "merged"
            }
        }
    }

    /// Settings from `assignment.yaml` and `lifecycle.yaml`.
    public struct Policy: Sendable, Hashable {
        /// Tier ids in functional-chain order.
        public var tiers: [String]
        public var reopenWindow: TimeInterval
        public var confirmationTimeout: TimeInterval

        public init(tiers: [String], reopenWindow: TimeInterval, confirmationTimeout: TimeInterval) {
            self.tiers = tiers
            self.reopenWindow = reopenWindow
            self.confirmationTimeout = confirmationTimeout
        }

        public init(assignment: AssignmentSection, lifecycle: LifecycleSection) {
            self.init(
                tiers: assignment.functionalChain, reopenWindow: lifecycle.reopenWindow,
                confirmationTimeout: lifecycle.confirmationTimeout)
        }
    }

    /// The outcome of an accepted action.
    public struct Transition: Sendable, Hashable {
        public var from: State
        public var to: State
        /// Facts appended to the history by this action.
        public var facts: [TicketHistoryEntry]
    }

    public let id: String
    public var policy: Policy
    public private(set) var state: State
    /// The tier holding the ticket (nil before assignment).
    public private(set) var tier: String?
    public private(set) var group: String?
    public private(set) var serviceType: ServiceType?
    public private(set) var priority: Priority?
    public private(set) var resolvedAt: Date?
    public private(set) var resolution: Resolution?
    public private(set) var mergedInto: String?
    public private(set) var history: [TicketHistoryEntry]

    public init(id: String, openedAt: Date, policy: Policy) {
        self.id = id
        self.policy = policy
        self.state = .opened
        self.history = [TicketHistoryEntry(at: openedAt, fact: .opened)]
    }

    /// Replays a stored history (e.g. after a restart); throws if it contains a forbidden step.
    public init(id: String, replaying history: [TicketHistoryEntry], policy: Policy) throws(TicketRefusal) {
        guard let first = history.first, first.fact == .opened else {
            throw TicketRefusal(.notClassified, "a history starts with opened")
        }
        self.init(id: id, openedAt: first.at, policy: policy)
        for entry in history.dropFirst() {
            try replay(entry)
        }
    }

    /// When a resolved ticket closes itself, nil in any other state.
    public var autoCloseAt: Date? {
        guard state == .resolved, let resolvedAt else { return nil }
        return resolvedAt.addingTimeInterval(policy.confirmationTimeout)
    }

    // MARK: Actions

    @discardableResult
    public mutating func apply(_ action: TicketAction, at now: Date) throws(TicketRefusal) -> Transition {
        let from = state
        var facts: [TicketFact] = []
        try checkTerminal(action, now: now)
        switch action {
        case let .classify(serviceType, priority, ruleId, rulesVersion):
            try requireNotResolved()
            if state == .opened { state = .classified }
            self.serviceType = serviceType
            self.priority = priority
            facts.append(.classified(serviceType: serviceType, priority: priority, ruleId: ruleId, rulesVersion: rulesVersion))

        case let .assign(tier, group):
            try requireNotResolved()
            guard state != .opened else { throw TicketRefusal(.notClassified, "classify the ticket before assigning it") }
            guard policy.tiers.contains(tier) else { throw unknownTier(tier) }
            if case .pending = state { facts.append(.resumed) }
            state = .assigned
            self.tier = tier
            self.group = group
            facts.append(.assigned(tier: tier, group: group))

        case .acknowledge:
            try requireNotResolved()
            try requireAssigned()
            guard state == .assigned else { throw TicketRefusal(.alreadyAcknowledged, "the ticket is already being worked on") }
            state = .inProgress
            facts.append(.acknowledged)

        case .note(let text):
            facts.append(.noted(text))

        case .pause(let reason):
            try requireNotResolved()
            try requireAssigned()
            if case .pending(let current) = state {
                throw TicketRefusal(.alreadyPaused, "the ticket is already pending (\(current.rawValue))")
            }
            guard state == .inProgress else { throw TicketRefusal(.notAcknowledged, "acknowledge the ticket before pausing it") }
            state = .pending(reason)
            facts.append(.paused(reason))

        case .resume:
            guard case .pending = state else { throw TicketRefusal(.notPaused, "the ticket is not pending") }
            state = .inProgress
            facts.append(.resumed)

        case let .escalate(target, reason, newGroup):
            try requireNotResolved()
            try requireAssigned()
            let current = tier ?? ""
            let next: String
            switch target {
            case .nextTier:
                guard let index = policy.tiers.firstIndex(of: current), index + 1 < policy.tiers.count else {
                    throw TicketRefusal(.noHigherTier, "tier \(current) is the last of the functional chain")
                }
                next = policy.tiers[index + 1]
            case .tier(let wanted):
                guard policy.tiers.contains(wanted) else { throw unknownTier(wanted) }
                guard wanted != current else { throw TicketRefusal(.sameTier, "the ticket is already with tier \(wanted)") }
                next = wanted
            }
            if case .pending = state { facts.append(.resumed) }
            state = .assigned
            tier = next
            if let newGroup { group = newGroup }
            facts.append(.escalated(from: current, to: next, reason: reason, group: newGroup))

        case .resolve(let resolution):
            try requireNotResolved()
            try requireAssigned()
            state = .resolved
            resolvedAt = now
            self.resolution = resolution
            facts.append(.resolved(resolution))

        case .confirm:
            guard state == .resolved else { throw TicketRefusal(.notResolved, "only a resolved ticket can be confirmed") }
            state = .closed
            facts.append(.closed(.confirmed))

        case .autoClose:
            guard state == .resolved, let due = autoCloseAt else {
                throw TicketRefusal(.notResolved, "only a resolved ticket closes itself")
            }
            guard now >= due else {
                throw TicketRefusal(.confirmationNotDue, "the confirmation timeout runs out at \(due)")
            }
            state = .closed
            facts.append(.closed(.confirmationTimeout))

        case .reopen(let reason):
            guard state == .resolved || state == .closed, let resolvedAt else {
                throw TicketRefusal(.notResolved, "only a resolved or closed ticket can be reopened")
            }
            guard now.timeIntervalSince(resolvedAt) <= policy.reopenWindow else {
                throw TicketRefusal(.reopenWindowExpired, "the reopen window ended at \(resolvedAt.addingTimeInterval(policy.reopenWindow))")
            }
            state = .inProgress
            self.resolvedAt = nil
            self.resolution = nil
            facts.append(.reopened(reason: reason))

        case .cancel(let reason):
            try requireNotResolved()
            state = .cancelled
            facts.append(.cancelled(reason: reason))

        case .merge(let target):
            try requireNotResolved()
            guard target != id else { throw TicketRefusal(.mergeIntoSelf, "a ticket cannot be merged into itself") }
            state = .merged
            mergedInto = target
            facts.append(.merged(into: target))
        }
        let entries = facts.map { TicketHistoryEntry(at: now, fact: $0) }
        history.append(contentsOf: entries)
        return Transition(from: from, to: state, facts: entries)
    }

    // MARK: Guards

    private func checkTerminal(_ action: TicketAction, now: Date) throws(TicketRefusal) {
        switch state {
        case .closed:
            if case .reopen = action { return }
            throw TicketRefusal(.ticketClosed, "the ticket is closed")
        case .cancelled:
            throw TicketRefusal(.ticketCancelled, "the ticket is cancelled")
        case .merged:
            throw TicketRefusal(.ticketMerged, "the ticket was merged into \(mergedInto ?? "another ticket")")
        default:
            return
        }
    }

    private func requireNotResolved() throws(TicketRefusal) {
        if state == .resolved { throw TicketRefusal(.alreadyResolved, "the ticket is resolved (reopen it first)") }
    }

    private func requireAssigned() throws(TicketRefusal) {
        if state == .opened || state == .classified {
            throw TicketRefusal(.notAssigned, "assign the ticket to a tier first")
        }
    }

    private func unknownTier(_ tier: String) -> TicketRefusal {
        TicketRefusal(.unknownTier, "unknown tier \"\(tier)\" (tiers: \(policy.tiers.joined(separator: ", ")))")
    }

    // MARK: Replay

    private mutating func replay(_ entry: TicketHistoryEntry) throws(TicketRefusal) {
        let action: TicketAction?
        switch entry.fact {
        case .opened: action = nil
        case let .classified(serviceType, priority, ruleId, rulesVersion):
            action = .classify(serviceType: serviceType, priority: priority, ruleId: ruleId, rulesVersion: rulesVersion)
        case let .assigned(tier, group): action = .assign(tier: tier, group: group)
        case .acknowledged: action = .acknowledge
        case .noted(let text): action = .note(text)
        case .paused(let reason): action = .pause(reason)
        case .resumed:
            // Implicit resumes are recorded by assign/escalate themselves.
            if case .pending = state { action = .resume } else { action = nil }
        case let .escalated(_, to, reason, group): action = .escalate(.tier(to), reason: reason, group: group)
        case .resolved(let resolution): action = .resolve(resolution)
        case .closed(.confirmed): action = .confirm
        case .closed(.confirmationTimeout): action = .autoClose
        case .reopened(let reason): action = .reopen(reason: reason)
        case .cancelled(let reason): action = .cancel(reason: reason)
        case .merged(let target): action = .merge(into: target)
        }
        guard let action else { return }
        // Replaying must reproduce the stored facts, so apply them with the stored instant.
        var copy = self
        _ = try copy.apply(action, at: entry.at)
        // Keep the stored history rather than regenerated facts.
        copy.history = history + [entry]
        self = copy
    }
}
