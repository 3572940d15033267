import Foundation
import ITRConfig
import ITREvents

/// Turns ticket facts into opportunity signals, by the rules of `ltc.yaml` and the catalogue
/// and contracts. Pure: the caller remembers observations and passes those within the window.
public struct SignalDetector: Sendable {
    public let rules: OpportunitySignals
    public let catalogue: CatalogueSection
    public let contracts: ContractsSection
    public let valuation: Valuation

    public init(rules: OpportunitySignals, catalogue: CatalogueSection, contracts: ContractsSection) {
        self.rules = rules
        self.catalogue = catalogue
        self.contracts = contracts
        self.valuation = Valuation(catalogue: catalogue)
    }

    // MARK: Helpers

    /// The calendar day of `instant` in the rules' time zone (integer arithmetic on the zone's
    /// offset at that instant: no Foundation `Calendar` per event).
    public func day(_ instant: Date) -> LocalDate {
        let local = instant.timeIntervalSince1970 + Double(rules.timeZone.secondsFromGMT(for: instant))
        return LocalDate.fromDayNumber(Int((local / 86_400).rounded(.down)))
    }

    /// The account's sales region (from its contract valid on the day, else its latest one).
    public func owner(account: String, at: Date) -> String? {
        contracts.contract(account: account, on: day(at))?.region
    }

    /// Line and model only: the merge key's product.
    static func productForKey(_ product: Product?) -> Product? {
        product.map { Product(line: $0.line, model: $0.model) }
    }

    // MARK: New requirement

    public func newRequirement(_ ticket: TicketFacts, account: String, at: Date) -> OpportunitySignal? {
        guard rules.newRequirement.enabled, ticket.serviceType == .newRequirement else { return nil }
        let line = rules.newRequirementSKU.flatMap { valuation.line(sku: $0, quantity: 1) }
        return OpportunitySignal(
            kind: .newRequirement, account: account, product: Self.productForKey(ticket.product),
            signal: rules.newRequirement.id, confidence: rules.newRequirement.confidence,
            reasons: ["ticket \(ticket.ticketId) classified as a new requirement"], ticketIds: [ticket.ticketId],
            units: [.init(key: "ticket:\(ticket.ticketId)", quantity: 1, priceLine: line)],
            suggestedOwner: owner(account: account, at: at), at: at)
    }

    // MARK: Renewal

    public func renewal(_ ticket: TicketFacts, account: String, at: Date) -> OpportunitySignal? {
        guard rules.renewal.enabled else { return nil }
        let today = day(at)
        guard let contract = contracts.contract(account: account, on: today) else { return nil }
        // Already renewed: a later contract of the account starts after this one.
        if contracts.contracts.contains(where: { $0.account == account && $0.validFrom > contract.validTo }) { return nil }
        let confidence: Double
        let reason: String
        if contract.isValid(on: today) {
            let left = LocalDate.days(from: today, to: contract.validTo)
            guard left <= rules.renewalWithinDays else { return nil }
            confidence = rules.renewal.confidence
            reason = "contract \(contract.id) (\(contract.package)) expires \(contract.validTo), \(left) days after ticket \(ticket.ticketId)"
        } else if contract.validTo < today {
            confidence = rules.renewalExpiredConfidence
            reason = "contract \(contract.id) (\(contract.package)) expired \(contract.validTo); ticket \(ticket.ticketId) reported \(today)"
        } else {
            return nil  // only a future contract: not ours to renew yet
        }
        let item = catalogue.prices.first { $0.kind == .renewal && $0.ref == contract.package }
        return OpportunitySignal(
            kind: .renewal, account: account, product: nil, signal: rules.renewal.id, confidence: confidence,
            reasons: [reason], ticketIds: [ticket.ticketId],
            units: [.init(key: "contract:\(contract.id)", quantity: 1, priceLine: item.map { valuation.line($0, quantity: 1) })],
            suggestedOwner: contract.region, at: at)
    }

    // MARK: Parts quote

    /// Spare parts used out of warranty or out of contract.
    public func partsQuote(_ resolved: TicketResolved) -> OpportunitySignal? {
        guard rules.partsQuote.enabled, resolved.serviceType != .complaint, !resolved.spareParts.isEmpty else { return nil }
        let today = day(resolved.resolvedAt)
        let contract = contracts.contract(account: resolved.account, on: today)
        let coverage: String? = {
            guard let contract, contract.isValid(on: today) else { return "no valid contract on \(today)" }
            if !contract.products.contains(resolved.product.line) {
                return "contract \(contract.id) does not cover \(resolved.product.line)"
            }
            if catalogue.package(contract.package)?.offerings.contains(rules.partsCoveringOffering) != true {
                return "package \(contract.package) has no \(rules.partsCoveringOffering)"
            }
            return nil
        }()
        var units: [OpportunitySignal.Unit] = []
        var reasons: [String] = []
        for part in resolved.spareParts {
            let why: String
            switch part.inWarranty {
            case true?: continue
            case false?: why = "out of warranty"
            case nil:
                guard let coverage else { continue }
                why = "out of contract: \(coverage)"
            }
            let line = valuation.sparePart(partNumber: part.partNumber, quantity: part.quantity)
            units.append(.init(key: "part:\(resolved.ticketId):\(part.partNumber)", quantity: part.quantity, priceLine: line))
            reasons.append(
                "ticket \(resolved.ticketId) used \(part.quantity) x \(part.partNumber) \(why)"
                    + (line == nil ? " (part not in the price list)" : ""))
        }
        guard !units.isEmpty else { return nil }
        return OpportunitySignal(
            kind: .partsQuote, account: resolved.account, product: Self.productForKey(resolved.product),
            signal: rules.partsQuote.id, confidence: rules.partsQuote.confidence, reasons: reasons,
            ticketIds: [resolved.ticketId], units: units, suggestedOwner: contract?.region, at: resolved.resolvedAt)
    }

    // MARK: Expansion

    /// The observation a capacity or performance alarm makes (nil for other alarms or without a site).
    public func capacityObservation(_ ticket: TicketFacts, alarmCode: String, ref: String, at: Date) -> Observation? {
        guard rules.expansion.enabled, rules.isCapacityAlarm(alarmCode), let account = ticket.account,
            let product = ticket.product, let site = product.site
        else { return nil }
        return Observation(
            kind: .capacityAlarm, key: "\(account)|\(OpportunitySignal.productKey(product))|\(site)",
            ticketId: ticket.ticketId, ref: ref, unit: site, at: at)
    }

    /// Expansion when the site's capacity alarms within the window reach the threshold.
    public func expansion(_ ticket: TicketFacts, observations: [Observation], at: Date) -> OpportunitySignal? {
        guard let account = ticket.account, let product = ticket.product, let site = product.site,
            observations.count >= rules.expansionRecurrence.threshold
        else { return nil }
        let line = rules.expansionSKUs[product.line].flatMap { valuation.line(sku: $0, quantity: 1) }
        let tickets = orderedUnique(observations.sorted { $0.at < $1.at }.map(\.ticketId))
        let days = Int(rules.expansionRecurrence.window / 86_400)
        return OpportunitySignal(
            kind: .expansion, account: account, product: Self.productForKey(product), signal: rules.expansion.id,
            confidence: rules.expansion.confidence,
            reasons: ["\(observations.count) capacity/performance alarms at site \(site) within \(days) days"],
            ticketIds: tickets, units: [.init(key: "site:\(site)", quantity: 1, priceLine: line)],
            suggestedOwner: owner(account: account, at: at), at: at)
    }

    // MARK: Upgrade (end of support)

    /// The catalogue's end of support for the ticket's model and version, when reached on `at`.
    public func endOfSupport(_ product: Product, at: Date) -> LocalDate? {
        guard let model = product.model, let version = product.version else { return nil }
        let lines = catalogue.productLine(product.line).map { [$0] } ?? catalogue.productLines
        for line in lines {
            guard let entry = line.models.first(where: { $0.id == model }),
                let release = entry.versions.first(where: { $0.version == version }),
                let end = release.endOfSupport
            else { continue }
            return end <= day(at) ? end : nil
        }
        return nil
    }

    public func endOfSupportObservation(_ ticket: TicketFacts, at: Date) -> Observation? {
        guard rules.upgrade.enabled, let account = ticket.account, let product = ticket.product,
            let type = ticket.serviceType, rules.upgradeServiceTypes.contains(type), endOfSupport(product, at: at) != nil
        else { return nil }
        let unit = product.serial ?? product.site ?? "ticket:\(ticket.ticketId)"
        return Observation(
            kind: .endOfSupportIncident,
            key: "\(account)|\(OpportunitySignal.productKey(product))|\(product.version ?? "")",
            ticketId: ticket.ticketId, unit: unit, at: at)
    }

    public func upgrade(_ ticket: TicketFacts, observations: [Observation], at: Date) -> OpportunitySignal? {
        guard let account = ticket.account, let product = ticket.product, let end = endOfSupport(product, at: at)
        else { return nil }
        let tickets = orderedUnique(observations.sorted { $0.at < $1.at }.map(\.ticketId))
        guard tickets.count >= rules.upgradeRecurrence.threshold else { return nil }
        let devices = orderedUnique(observations.map(\.unit))
        let units = devices.map { device in
            OpportunitySignal.Unit(
                key: "device:\(device)", quantity: 1, priceLine: rules.upgradeSKU.flatMap { valuation.line(sku: $0, quantity: 1) })
        }
        let days = Int(rules.upgradeRecurrence.window / 86_400)
        return OpportunitySignal(
            kind: .upgrade, account: account,
            product: Product(line: product.line, model: product.model, version: product.version),
            signal: rules.upgrade.id, confidence: rules.upgrade.confidence,
            reasons: [
                "\(tickets.count) incidents within \(days) days on \(product.model ?? product.line) \(product.version ?? ""), "
                    + "out of support since \(end)"
            ],
            ticketIds: tickets, units: units, suggestedOwner: owner(account: account, at: at), at: at)
    }

    // MARK: Package upgrade

    /// The package the account is on (the event's, else its contract's) and the one to offer.
    public func upgradePath(account: String, package: String?, at: Date) -> (from: String, to: String)? {
        guard let from = package ?? contracts.contract(account: account, on: day(at))?.package,
            let to = rules.packageUpgradePaths[from]
        else { return nil }
        return (from, to)
    }

    /// A high-priority ticket (or an SLA breach) on a lower package.
    public func pressureObservation(
        ticketId: String, account: String, package: String?, priority: Priority?, breach: Bool, at: Date
    ) -> Observation? {
        guard rules.packageUpgrade.enabled, upgradePath(account: account, package: package, at: at) != nil else { return nil }
        if breach {
            guard rules.packageUpgradeCountsBreaches else { return nil }
        } else {
            guard let priority, rules.packageUpgradePriorities.contains(priority) else { return nil }
        }
        return Observation(
            kind: .packagePressure, key: account, ticketId: ticketId, ref: breach ? "breach" : "priority",
            unit: account, at: at)
    }

    public func packageUpgrade(account: String, package: String?, observations: [Observation], at: Date) -> OpportunitySignal? {
        guard let path = upgradePath(account: account, package: package, at: at) else { return nil }
        let tickets = orderedUnique(observations.sorted { $0.at < $1.at }.map(\.ticketId))
        guard tickets.count >= rules.packageUpgradeRecurrence.threshold else { return nil }
        let breaches = Set(observations.filter { $0.ref == "breach" }.map(\.ticketId)).count
        let urgent = Set(observations.filter { $0.ref == "priority" }.map(\.ticketId)).count
        let item = catalogue.prices.first { $0.kind == .packageUpgrade && $0.ref == "\(path.from)>\(path.to)" }
        let contract = contracts.contract(account: account, on: day(at))
        let days = Int(rules.packageUpgradeRecurrence.window / 86_400)
        var reasons = [
            "\(tickets.count) tickets on \(path.from) within \(days) days: \(urgent) high-priority, \(breaches) with an SLA breach; "
                + "offer \(path.to)"
        ]
        if item == nil { reasons.append("no price line for \(path.from)>\(path.to) in the catalogue") }
        return OpportunitySignal(
            kind: .packageUpgrade, account: account, product: nil, signal: rules.packageUpgrade.id,
            confidence: rules.packageUpgrade.confidence, reasons: reasons, ticketIds: tickets,
            units: [.init(
                key: "contract:\(contract?.id ?? account)", quantity: 1, priceLine: item.map { valuation.line($0, quantity: 1) })],
            suggestedOwner: contract?.region, at: at)
    }
}

func orderedUnique<T: Hashable>(_ values: [T]) -> [T] {
    var seen = Set<T>()
    return values.filter { seen.insert($0).inserted }
}
