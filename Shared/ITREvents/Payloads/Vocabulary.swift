import Foundation

// The shared vocabulary of the event payloads: enumerations (JSON strings) and small value
// types used by several events. Enumerations decode strictly: an unknown value is a
// `unknown-value` problem at its path.

/// How a report reached us.
public enum Channel: String, Codable, Sendable, Hashable, CaseIterable {
    case phone, portal, email, monitoring, field, api
}

/// Severity as the reporter or the monitoring system states it.
public enum Severity: String, Codable, Sendable, Hashable, CaseIterable {
    case critical, major, minor, warning, info
}

public enum AlarmState: String, Codable, Sendable, Hashable, CaseIterable {
    case raised, cleared
}

public enum Language: String, Codable, Sendable, Hashable, CaseIterable {
    case zh, en
}

/// The seven service types, each with its own handling flow.
public enum ServiceType: String, Codable, Sendable, Hashable, CaseIterable {
    case hardwareFault = "hardware-fault"
    case preventiveMaintenance = "preventive-maintenance"
    case softwareFault = "software-fault"
    case softwareOperation = "software-operation"
    case nonTechnical = "non-technical"
    case newRequirement = "new-requirement"
    case complaint
}

/// ITIL priority: P1 critical ... P5 planning.
public enum Priority: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4", p5 = "P5"
    /// 1 (P1, most urgent) ... 5 (P5).
    public var rank: Int { Priority.allCases.firstIndex(of: self)! + 1 }
    public static func < (a: Priority, b: Priority) -> Bool { a.rank < b.rank }
}

/// Business impact (ITIL four levels).
public enum Impact: String, Codable, Sendable, Hashable, CaseIterable {
    case extensive, significant, moderate, minor
}

/// Urgency (ITIL four levels).
public enum Urgency: String, Codable, Sendable, Hashable, CaseIterable {
    case critical, high, medium, low
}

/// Support tier: L1 service desk, L2 product support, L3 R&D experts.
public enum Tier: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case l1 = "L1", l2 = "L2", l3 = "L3"
    public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }
}

public enum EscalationKind: String, Codable, Sendable, Hashable, CaseIterable {
    case functional, hierarchical
}

/// Which SLA clock.
public enum SLAClock: String, Codable, Sendable, Hashable, CaseIterable {
    case response, resolution
}

/// Who caused the issue (质量责任). Product causes feed IPD.
public enum QualityResponsibility: String, Codable, Sendable, Hashable, CaseIterable {
    case productHardware = "product-hardware"
    case productSoftware = "product-software"
    case productDocumentation = "product-documentation"
    case installation, customer, supplier
    case noFaultFound = "no-fault-found"

    /// True for causes in the product itself (these become IPD defects).
    public var isProductCause: Bool {
        self == .productHardware || self == .productSoftware || self == .productDocumentation
    }
}

public enum CloseReason: String, Codable, Sendable, Hashable, CaseIterable {
    case confirmed, timeout, cancelled, merged
}

/// What a service-desk action does to a ticket.
public enum TicketActionKind: String, Codable, Sendable, Hashable, CaseIterable {
    case acknowledge, note, pause, resume, resolve, confirm, reopen, escalate, cancel, merge
    /// The desk corrects the service type (re-grades, re-plans the clocks, re-assigns; stored as a
    /// labelled example for the classifier).
    case reclassify
    /// The desk changes the grading (impact and/or urgency, with a reason): the priority follows
    /// from the priority matrix and the clocks are re-planned.
    case reprioritise
}

/// Why a ticket's SLA clock is paused.
public enum PauseReason: String, Codable, Sendable, Hashable, CaseIterable {
    case waitingCustomer = "waiting-customer"
    case waitingSparePart = "waiting-spare-part"
    case waitingSupplier = "waiting-supplier"
    case other
}

public enum OpportunityKind: String, Codable, Sendable, Hashable, CaseIterable {
    case renewal
    case partsQuote = "parts-quote"
    case expansion, upgrade
    case packageUpgrade = "package-upgrade"
    case newRequirement = "new-requirement"
}

/// An opportunity's state: `open` when identified, then what sales reports back.
public enum OpportunityState: String, Codable, Sendable, Hashable, CaseIterable {
    case open, accepted, rejected, won, lost
}

/// A defect's state in the feed.
public enum DefectState: String, Codable, Sendable, Hashable, CaseIterable {
    case reported, accepted, rejected, duplicate
    case fixReleased = "fix-released"
}

/// What R&D reports back about a defect (`itr.defect.status`).
public enum DefectDecision: String, Codable, Sendable, Hashable, CaseIterable {
    case accepted, rejected, duplicate
    case fixReleased = "fix-released"
}

/// Why a problem was opened.
public enum ProblemTrigger: String, Codable, Sendable, Hashable, CaseIterable {
    case recurring, major, manual
}

// MARK: Value types

/// Someone acting on a ticket (engineer, customer, system).
public struct Actor: Codable, Sendable, Hashable {
    public var id: String
    public var name: String?
    /// e.g. `engineer`, `customer`, `system`, `manager`.
    public var role: String?
    public init(id: String, name: String? = nil, role: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
    }
    /// The actor an authenticated sender is recorded as: `identity` (a token's, or the desk
    /// identity of a broker user), never the id the body claims; the claimed name and role are kept
    /// only when the claim is that identity.
    public static func bound(to identity: String, claimed: Actor?) -> Actor {
        guard let claimed, claimed.id == identity else { return Actor(id: identity) }
        return claimed
    }

    func validate(_ path: String, _ v: inout Validator) {
        v.required(id, "\(path).id")
        v.optional(name, "\(path).name")
        v.optional(role, "\(path).role")
    }
}

public struct Contact: Codable, Sendable, Hashable {
    public var name: String?
    public var phone: String?
    public var email: String?
    public init(name: String? = nil, phone: String? = nil, email: String? = nil) {
        self.name = name
        self.phone = phone
        self.email = email
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.optional(name, "\(path).name")
        v.optional(phone, "\(path).phone", max: 64)
        v.optional(email, "\(path).email")
        v.email(email, "\(path).email")
    }
}

public struct Customer: Codable, Sendable, Hashable {
    /// The customer's account id in the contract system.
    public var account: String
    public var name: String?
    public var contact: Contact?
    public init(account: String, name: String? = nil, contact: Contact? = nil) {
        self.account = account
        self.name = name
        self.contact = contact
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(account, "\(path).account")
        v.optional(name, "\(path).name")
        contact?.validate("\(path).contact", &v)
    }
}

public struct Product: Codable, Sendable, Hashable {
    /// Product line, e.g. `OptiX OSN 8800`.
    public var line: String
    public var model: String?
    public var version: String?
    public var serial: String?
    public var site: String?
    public var component: String?
    public init(
        line: String, model: String? = nil, version: String? = nil, serial: String? = nil, site: String? = nil,
        component: String? = nil
    ) {
        self.line = line
        self.model = model
        self.version = version
        self.serial = serial
        self.site = site
        self.component = component
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(line, "\(path).line")
        v.optional(model, "\(path).model")
        v.optional(version, "\(path).version")
        v.optional(serial, "\(path).serial")
        v.optional(site, "\(path).site")
        v.optional(component, "\(path).component")
    }
}

public struct ReportedSeverity: Codable, Sendable, Hashable {
    /// What the reporter says.
    public var reported: Severity?
    /// What the alarm says (monitoring).
    public var alarm: Severity?
    public init(reported: Severity? = nil, alarm: Severity? = nil) {
        self.reported = reported
        self.alarm = alarm
    }
}

public struct Alarm: Codable, Sendable, Hashable {
    public var code: String
    public var device: String?
    public var state: AlarmState
    public init(code: String, device: String? = nil, state: AlarmState) {
        self.code = code
        self.device = device
        self.state = state
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(code, "\(path).code")
        v.optional(device, "\(path).device")
    }
}

public struct Attachment: Codable, Sendable, Hashable {
    public var uri: String
    public var name: String?
    public var mediaType: String?
    /// Size in bytes.
    public var size: Int64?
    public init(uri: String, name: String? = nil, mediaType: String? = nil, size: Int64? = nil) {
        self.uri = uri
        self.name = name
        self.mediaType = mediaType
        self.size = size
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.uri(uri, "\(path).uri")
        v.optional(name, "\(path).name")
        v.optional(mediaType, "\(path).mediaType")
        v.range(size, "\(path).size", 0...v.limits.maxAttachmentBytes)
    }
}

/// A known error matched at intake, whose workaround the ticket gets at once.
public struct KnownErrorMatch: Codable, Sendable, Hashable {
    public var problemId: String
    public var title: String
    public var workaround: String
    public init(problemId: String, title: String, workaround: String) {
        self.problemId = problemId
        self.title = title
        self.workaround = workaround
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(problemId, "\(path).problemId")
        v.required(title, "\(path).title", max: v.limits.maxSummaryLength)
        v.required(workaround, "\(path).workaround", max: v.limits.maxDescriptionLength)
    }
}

public struct SparePart: Codable, Sendable, Hashable {
    public var partNumber: String
    public var quantity: Int
    public var inWarranty: Bool?
    public init(partNumber: String, quantity: Int, inWarranty: Bool? = nil) {
        self.partNumber = partNumber
        self.quantity = quantity
        self.inWarranty = inWarranty
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(partNumber, "\(path).partNumber")
        v.range(quantity, "\(path).quantity", 1...100_000)
    }
}

/// An amount of money. `amount` is a decimal string (`"12800.00"`), never a binary floating
/// point number, so that no cent is lost between systems; `currency` is ISO 4217 (`CNY`).
public struct Money: Codable, Sendable, Hashable {
    public var amount: String
    public var currency: String
    public init(amount: String, currency: String) {
        self.amount = amount
        self.currency = currency
    }
    public init(_ amount: Decimal, currency: String) {
        self.amount = "\(amount)"
        self.currency = currency
    }
    /// The amount as a `Decimal`, when well-formed.
    public var decimal: Decimal? { Money.isDecimal(amount) ? Decimal(string: amount, locale: nil) : nil }

    static func isDecimal(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        if u.first == UInt8(ascii: "-") { u = u.dropFirst() }
        let parts = u.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 18,
            whole.allSatisfy({ (0x30...0x39).contains($0) })
        else { return false }
        if parts.count == 2 {
            return !parts[1].isEmpty && parts[1].count <= 6 && parts[1].allSatisfy { (0x30...0x39).contains($0) }
        }
        return true
    }

    func validate(_ path: String, _ v: inout Validator) {
        if !Money.isDecimal(amount) { v.add("\(path).amount", .invalidFormat, "not a decimal number string") }
        if currency.utf8.count != 3 || !currency.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) {
            v.add("\(path).currency", .invalidFormat, "not an ISO 4217 currency code")
        }
    }
}

/// One priced line of an opportunity, from the service catalogue.
public struct PriceLine: Codable, Sendable, Hashable {
    /// Catalogue offering or package id.
    public var offering: String
    public var description: String?
    public var quantity: Int
    public var unitPrice: Money
    public init(offering: String, description: String? = nil, quantity: Int, unitPrice: Money) {
        self.offering = offering
        self.description = description
        self.quantity = quantity
        self.unitPrice = unitPrice
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.required(offering, "\(path).offering")
        v.optional(description, "\(path).description", max: v.limits.maxSummaryLength)
        v.range(quantity, "\(path).quantity", 1...1_000_000)
        unitPrice.validate("\(path).unitPrice", &v)
    }
}

/// A defect's reach across customers, used to order the feed.
public struct DefectImpact: Codable, Sendable, Hashable {
    public var customers: Int
    public var incidents: Int
    public var highestPriority: Priority
    public var slaBreaches: Int
    /// Contract packages of the affected customers.
    public var packages: [String]
    public var firstSeen: Date
    public var lastSeen: Date
    /// Ordering score (higher = more urgent for R&D).
    public var score: Double
    public init(
        customers: Int, incidents: Int, highestPriority: Priority, slaBreaches: Int, packages: [String],
        firstSeen: Date, lastSeen: Date, score: Double
    ) {
        self.customers = customers
        self.incidents = incidents
        self.highestPriority = highestPriority
        self.slaBreaches = slaBreaches
        self.packages = packages
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.score = score
    }
    func validate(_ path: String, _ v: inout Validator) {
        v.atLeast(customers, "\(path).customers", 0)
        v.atLeast(incidents, "\(path).incidents", 0)
        v.atLeast(slaBreaches, "\(path).slaBreaches", 0)
        v.strings(packages, "\(path).packages")
        v.time(firstSeen, "\(path).firstSeen")
        v.time(lastSeen, "\(path).lastSeen")
        if lastSeen < firstSeen { v.add("\(path).lastSeen", .inconsistent, "before firstSeen") }
        if !score.isFinite || score < 0 { v.add("\(path).score", .outOfRange, "must be a finite number >= 0") }
    }
}
