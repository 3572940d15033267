import Foundation
import ITREvents

/// One thing a ticket revealed that sales may sell: the input of the merge into an opportunity.
public struct OpportunitySignal: Sendable, Hashable {
    /// One sellable unit behind the signal (a part used on a ticket, a site, a device, a contract).
    /// Units with the same `key` are the same unit: merging replaces, never adds twice.
    public struct Unit: Sendable, Hashable, Codable {
        public var key: String
        public var quantity: Int
        /// The price line valuing it, when the catalogue has one.
        public var priceLine: PriceLine?
        public init(key: String, quantity: Int, priceLine: PriceLine? = nil) {
            self.key = key
            self.quantity = quantity
            self.priceLine = priceLine
        }
    }

    public var kind: OpportunityKind
    public var account: String
    public var product: Product?
    /// The signal rule id (`ltc.yaml`).
    public var signal: String
    public var confidence: Double
    public var reasons: [String]
    public var ticketIds: [String]
    public var units: [Unit]
    public var suggestedOwner: String?
    /// When the fact behind it happened (drives the merge window).
    public var at: Date

    public init(
        kind: OpportunityKind, account: String, product: Product?, signal: String, confidence: Double,
        reasons: [String], ticketIds: [String], units: [Unit], suggestedOwner: String?, at: Date
    ) {
        self.kind = kind
        self.account = account
        self.product = product
        self.signal = signal
        self.confidence = confidence
        self.reasons = reasons
        self.ticketIds = ticketIds
        self.units = units
        self.suggestedOwner = suggestedOwner
        self.at = at
    }

    /// The merge key's product part: line and model (versions, sites and serials vary within one opportunity).
    public var productKey: String { OpportunitySignal.productKey(product) }

    public static func productKey(_ product: Product?) -> String {
        guard let product else { return "" }
        return "\(product.line)/\(product.model ?? "")"
    }
}
