import Foundation
import ITREvents

/// What the extractor remembers of a ticket, gathered from `itr.ticket.opened` and
/// `itr.ticket.classified` (either may arrive first).
public struct TicketFacts: Sendable, Hashable {
    public var ticketId: String
    public var account: String?
    public var product: Product?
    public var openedAt: Date?
    public var alarmCode: String?
    public var serviceType: ServiceType?
    public var priority: Priority?
    public var contractPackage: String?

    public init(
        ticketId: String, account: String? = nil, product: Product? = nil, openedAt: Date? = nil,
        alarmCode: String? = nil, serviceType: ServiceType? = nil, priority: Priority? = nil,
        contractPackage: String? = nil
    ) {
        self.ticketId = ticketId
        self.account = account
        self.product = product
        self.openedAt = openedAt
        self.alarmCode = alarmCode
        self.serviceType = serviceType
        self.priority = priority
        self.contractPackage = contractPackage
    }

    /// What `itr.ticket.opened` tells: the account, the product, the opening time and a raised alarm's code.
    public mutating func record(_ opened: TicketOpened) {
        account = opened.account
        product = opened.product
        openedAt = opened.openedAt
        if let alarm = opened.alarm, alarm.state == .raised { alarmCode = alarm.code }
    }

    /// What `itr.ticket.classified` tells: the service type and priority, and the contract package
    /// and account when it names them.
    public mutating func record(_ classified: TicketClassified) {
        serviceType = classified.serviceType
        priority = classified.priority
        contractPackage = classified.contractPackage ?? contractPackage
        if let account = classified.account { self.account = account }
    }

    /// Complaints are a relationship matter: never an opportunity.
    public var isComplaint: Bool { serviceType == .complaint }

    /// The site the ticket concerns.
    public var site: String? { product?.site }
}

/// A remembered occurrence that counts towards a recurrence signal (expansion, upgrade, package upgrade).
public struct Observation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case capacityAlarm = "capacity-alarm"
        case endOfSupportIncident = "eos-incident"
        case packagePressure = "package-pressure"
    }

    public var kind: Kind
    /// What the occurrences must share (account + site, account + version, account).
    public var key: String
    public var ticketId: String
    /// Distinguishes several occurrences on one ticket (the folded report's id, `breach`, ...).
    public var ref: String
    /// The sellable unit it concerns (site, device, contract).
    public var unit: String
    public var at: Date

    public init(kind: Kind, key: String, ticketId: String, ref: String = "", unit: String, at: Date) {
        self.kind = kind
        self.key = key
        self.ticketId = ticketId
        self.ref = ref
        self.unit = unit
        self.at = at
    }
}
