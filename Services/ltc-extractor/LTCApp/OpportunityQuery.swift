import Foundation
import ITRConfig
import ITREvents
import ServiceKit

/// `GET /v1/opportunities` filters and paging: `account`, `kind`, `status`, `from` / `to`
/// (identification time, RFC 3339 or `YYYY-MM-DD` in UTC; `from` inclusive, `to` exclusive),
/// `limit` (1...500, default 50) and `offset`.
public struct OpportunityQuery: Sendable, Hashable {
    public var account: String?
    public var kind: OpportunityKind?
    public var status: OpportunityState?
    public var from: Date?
    public var to: Date?
    public var limit: Int = 50
    public var offset: Int = 0

    public static let maximumLimit = 500

    public init(
        account: String? = nil, kind: OpportunityKind? = nil, status: OpportunityState? = nil, from: Date? = nil,
        to: Date? = nil, limit: Int = 50, offset: Int = 0
    ) {
        self.account = account
        self.kind = kind
        self.status = status
        self.from = from
        self.to = to
        self.limit = limit
        self.offset = offset
    }

    /// Parses query parameters; every problem is reported at once (400 problem+json).
    public init(parameters: [(String, String)]) throws(ProblemDetails) {
        var problems: [ProblemDetails.Problem] = []
        func bad(_ name: String, _ message: String) {
            problems.append(.init(path: name, code: ValidationProblem.Code.invalidFormat.rawValue, message: message))
        }
        func date(_ name: String, _ text: String) -> Date? {
            if let instant = RFC3339.parse(text) { return instant }
            if let day = LocalDate(text) {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
            }
            bad(name, "expected an RFC 3339 time or a date like 2026-03-01, got \"\(text)\"")
            return nil
        }
        for (name, value) in parameters {
            switch name {
            case "account": account = value.isEmpty ? nil : value
            case "kind":
                kind = OpportunityKind(rawValue: value)
                if kind == nil {
                    bad(name, "expected one of \(OpportunityKind.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value)\"")
                }
            case "status":
                status = OpportunityState(rawValue: value)
                if status == nil {
                    bad(name, "expected one of \(OpportunityState.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value)\"")
                }
            case "from": from = date(name, value)
            case "to": to = date(name, value)
            case "limit":
                if let n = Int(value), (1...Self.maximumLimit).contains(n) { limit = n } else {
                    bad(name, "expected a whole number in 1...\(Self.maximumLimit), got \"\(value)\"")
                }
            case "offset":
                if let n = Int(value), n >= 0 { offset = n } else { bad(name, "expected a whole number >= 0, got \"\(value)\"") }
            default:
                problems.append(.init(
                    path: name, code: ValidationProblem.Code.unknownValue.rawValue,
                    message: "unknown parameter (expected account, kind, status, from, to, limit, offset)"))
            }
        }
        if let from, let to, to <= from { bad("to", "must be after from") }
        if !problems.isEmpty { throw ProblemDetails.badRequest("invalid query parameters", problems: problems) }
    }
}

/// One opportunity as `GET /v1/opportunities` shows it: the event's fields plus times and sales' answer.
public struct OpportunityView: Codable, Sendable, Hashable {
    public var opportunityId: String
    public var account: String
    public var kind: OpportunityKind
    public var product: Product?
    public var quantity: Int
    public var estimatedValue: Money?
    public var priceLines: [PriceLine]
    public var confidence: Double
    /// The most recent reasons (at most ``Opportunity/listLimit``).
    public var reasons: [String]
    /// The most recent ticket ids (at most ``Opportunity/listLimit``), oldest first; `ticketCount` in all.
    public var ticketIds: [String]
    public var ticketCount: Int?
    public var signals: [String]
    public var suggestedOwner: String?
    public var status: OpportunityState
    public var statusNote: String?
    public var wonValue: Money?
    public var identifiedAt: Date
    public var updatedAt: Date
    public var revision: Int

    public init(_ o: Opportunity) {
        let event = o.payload(OpportunityUpdated.self)
        opportunityId = o.id
        account = o.account
        kind = o.kind
        product = o.product
        quantity = event.quantity ?? o.quantity
        estimatedValue = event.estimatedValue
        priceLines = event.priceLines
        confidence = event.confidence
        reasons = o.reasons
        ticketIds = o.ticketIds
        ticketCount = o.ticketCount
        signals = o.signals
        suggestedOwner = o.suggestedOwner
        status = o.status
        statusNote = o.statusNote
        wonValue = o.wonValue
        identifiedAt = o.identifiedAt
        updatedAt = o.updatedAt
        revision = o.revision
    }
}

/// The body of `GET /v1/opportunities`.
public struct OpportunityPage: Codable, Sendable, Hashable {
    public var items: [OpportunityView]
    public var total: Int
    public var limit: Int
    public var offset: Int
    /// The offset of the next page, absent on the last.
    public var nextOffset: Int?
}
