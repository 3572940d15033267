import Foundation
import ITREvents

/// A sales opportunity as the extractor keeps it: what sales sees on `feed.opportunities`, plus
/// the units behind the quantity and value, and its times.
public struct Opportunity: Sendable, Hashable {
    public var id: String
    public var account: String
    public var kind: OpportunityKind
    public var product: Product?
    public var units: [OpportunitySignal.Unit]
    public var confidence: Double
    public var reasons: [String]
    public var ticketIds: [String]
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

    public init(id: String, signal: OpportunitySignal) {
        self.id = id
        self.account = signal.account
        self.kind = signal.kind
        self.product = signal.product
        self.units = signal.units
        self.confidence = signal.confidence
        self.reasons = signal.reasons
        self.ticketIds = signal.ticketIds
        self.signals = [signal.signal]
        self.suggestedOwner = signal.suggestedOwner
        self.status = .open
        self.identifiedAt = signal.at
        self.updatedAt = signal.at
        self.revision = 1
    }

    public var productKey: String { OpportunitySignal.productKey(product) }
    public var quantity: Int { units.reduce(0) { $0 + $1.quantity } }
    public var priceLines: [PriceLine] { Valuation.fold(units.compactMap(\.priceLine)) }
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

    /// Folds a later signal in: new tickets, units (same key replaced), reasons and signal ids.
    /// Returns false when it adds nothing (then no update is emitted).
    public mutating func absorb(_ signal: OpportunitySignal, confidencePerTicket: Double, maximumConfidence: Double) -> Bool {
        let before = self
        let newTickets = signal.ticketIds.filter { !ticketIds.contains($0) }
        ticketIds += newTickets
        for unit in signal.units {
            if let i = units.firstIndex(where: { $0.key == unit.key }) { units[i] = unit } else { units.append(unit) }
        }
        if product == nil { product = signal.product }
        if suggestedOwner == nil { suggestedOwner = signal.suggestedOwner }
        if !signals.contains(signal.signal) { signals.append(signal.signal) }
        let changed = ticketIds != before.ticketIds || units != before.units || product != before.product
            || signals != before.signals || suggestedOwner != before.suggestedOwner
        guard changed else { return false }
        for reason in signal.reasons where !reasons.contains(reason) { reasons.append(reason) }
        let boosted = max(confidence, signal.confidence) + confidencePerTicket * Double(newTickets.count)
        confidence = min(max(maximumConfidence, signal.confidence), boosted)
        updatedAt = max(updatedAt, signal.at)
        revision += 1
        return true
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

    /// The event data for `identified` / `updated`.
    public func payload<Kind: EventKind>(_ type: OpportunityEvent<Kind>.Type = OpportunityEvent<Kind>.self) -> OpportunityEvent<Kind> {
        let lines = priceLines
        return OpportunityEvent<Kind>(
            opportunityId: id, account: account, kind: kind, product: product, quantity: max(1, quantity),
            estimatedValue: Valuation.total(lines), priceLines: lines, confidence: (confidence * 1000).rounded() / 1000,
            reasons: reasons, ticketIds: ticketIds, signals: signals, suggestedOwner: suggestedOwner, status: status)
    }
}
