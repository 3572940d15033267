import Foundation
import ITREvents

/// A sales opportunity as the extractor keeps it: the `ltc_opportunity` row (what sales sees on
/// `feed.opportunities`, its times and counts) plus, when loaded for an event or the API, a
/// bounded view of what is linked to it as rows: the most recent ticket ids and reasons, and the
/// quantity and price lines summed over its units.
public struct Opportunity: Sendable, Hashable {
    /// At most this many ticket ids and reasons go into an event or API item (the most recent ones;
    /// `ticketCount` tells how many tickets there are in all).
    public static let listLimit = 100

    public var id: String
    public var account: String
    public var kind: OpportunityKind
    public var product: Product?
    public var confidence: Double
    /// The most recent ticket ids (at most ``listLimit``), oldest first.
    public var ticketIds: [String]
    /// Every ticket linked to it.
    public var ticketCount: Int
    /// The most recent reasons (at most ``listLimit``), oldest first.
    public var reasons: [String]
    public var reasonCount: Int
    /// Units summed (one per part, site, device, contract, requirement ticket).
    public var quantity: Int
    /// The units' price lines folded by offering and unit price.
    public var priceLines: [PriceLine]
    public var signals: [String]
    public var suggestedOwner: String?
    public var status: OpportunityState
    /// The first signal's time: the merge window runs from here.
    public var identifiedAt: Date
    /// The latest signal's or status report's time.
    public var updatedAt: Date
    /// 1 when identified, +1 per update.
    public var revision: Int
    /// What sales said last (status note) and the value won.
    public var statusNote: String?
    public var wonValue: Money?

    /// A new opportunity from its first signal.
    public init(id: String, signal: OpportunitySignal) {
        self.id = id
        self.account = signal.account
        self.kind = signal.kind
        self.product = signal.product
        self.confidence = signal.confidence
        let tickets = orderedUnique(signal.ticketIds)
        self.ticketIds = Array(tickets.suffix(Self.listLimit))
        self.ticketCount = tickets.count
        let reasons = orderedUnique(signal.reasons)
        self.reasons = Array(reasons.suffix(Self.listLimit))
        self.reasonCount = reasons.count
        let units = Self.latestPerKey(signal.units)
        self.quantity = units.reduce(0) { $0 + $1.quantity }
        self.priceLines = Valuation.fold(units.compactMap(\.priceLine))
        self.signals = [signal.signal]
        self.suggestedOwner = signal.suggestedOwner
        self.status = .open
        self.identifiedAt = signal.at
        self.updatedAt = signal.at
        self.revision = 1
    }

    /// Units with the same key are one unit: the last one wins, in first-seen order.
    static func latestPerKey(_ units: [OpportunitySignal.Unit]) -> [OpportunitySignal.Unit] {
        var result: [OpportunitySignal.Unit] = []
        var index: [String: Int] = [:]
        for unit in units {
            if let i = index[unit.key] { result[i] = unit } else {
                index[unit.key] = result.count
                result.append(unit)
            }
        }
        return result
    }

    public var productKey: String { OpportunitySignal.productKey(product) }
    public var estimatedValue: Money? { Valuation.total(priceLines) }
    /// Still in the sales pipeline (identified or accepted).
    public var isOpen: Bool { status == .open || status == .accepted }

    /// What a new signal does given the latest opportunity for its account, kind and product.
    public enum MergeDecision: Sendable, Hashable {
        case identify
        case update
        /// Sales already closed an opportunity for it within the window: no new one.
        case suppress
    }

    public static func decide(latest: Opportunity?, signal: OpportunitySignal, window: TimeInterval) -> MergeDecision {
        guard let latest, abs(signal.at.timeIntervalSince(latest.identifiedAt)) <= window else { return .identify }
        return latest.isOpen ? .update : .suppress
    }

    /// Folds a later signal's facts in, given what linking its rows brought (`newTickets` tickets
    /// not linked before, whether a unit was added or changed): the product and owner when still
    /// unknown, its signal id, then confidence, time and revision. Returns false when it adds
    /// nothing (then nothing changed). The store links the rows first and writes the result.
    public mutating func absorb(
        _ signal: OpportunitySignal, newTickets: Int, unitsChanged: Bool, confidencePerTicket: Double,
        maximumConfidence: Double
    ) -> Bool {
        var changed = newTickets > 0 || unitsChanged
        if product == nil, let product = signal.product {
            self.product = product
            changed = true
        }
        if suggestedOwner == nil, let owner = signal.suggestedOwner {
            suggestedOwner = owner
            changed = true
        }
        if !signals.contains(signal.signal) {
            signals.append(signal.signal)
            changed = true
        }
        guard changed else { return false }
        confidence = Self.boosted(
            confidence, signal: signal.confidence, newTickets: newTickets, perTicket: confidencePerTicket,
            maximum: maximumConfidence)
        updatedAt = max(updatedAt, signal.at)
        revision += 1
        return true
    }

    /// The confidence after an update that brought `newTickets` tickets.
    public static func boosted(
        _ confidence: Double, signal: Double, newTickets: Int, perTicket: Double, maximum: Double
    ) -> Double {
        let boosted = max(confidence, signal) + perTicket * Double(newTickets)
        return min(max(maximum, signal), boosted)
    }

    /// Sales reports back. Returns false for a repeat of the current status; throws for an
    /// impossible transition (from a closed status, or back to `open`).
    public mutating func apply(_ report: OpportunityStatus, at: Date) throws(TransitionError) -> Bool {
        if report.status == status { return false }
        guard isOpen, report.status != .open else {
            throw TransitionError(from: status, to: report.status)
        }
        status = report.status
        statusNote = report.note
        if report.status == .won { wonValue = report.value }
        updatedAt = max(updatedAt, at)
        revision += 1
        return true
    }

    public struct TransitionError: Error, Sendable, Hashable, CustomStringConvertible {
        public var from: OpportunityState
        public var to: OpportunityState
        public var description: String { "an opportunity that is \(from.rawValue) cannot become \(to.rawValue)" }
    }

    /// The event data for `identified` / `updated` (lists bounded by ``listLimit``).
    public func payload<Kind: EventKind>(_ type: OpportunityEvent<Kind>.Type = OpportunityEvent<Kind>.self) -> OpportunityEvent<Kind> {
        OpportunityEvent<Kind>(
            opportunityId: id, account: account, kind: kind, product: product, quantity: max(1, quantity),
            estimatedValue: Valuation.total(priceLines), priceLines: priceLines, confidence: (confidence * 1000).rounded() / 1000,
            reasons: reasons, ticketIds: ticketIds, signals: signals, suggestedOwner: suggestedOwner, status: status)
    }
}
