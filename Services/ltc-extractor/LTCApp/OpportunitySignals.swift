import Foundation
import ITRConfig
import ITREvents

/// `ltc.yaml`: which ticket facts become sales opportunities, with their thresholds, windows
/// and confidence. Every SKU and package named here is checked against `catalogue.yaml`.
public struct OpportunitySignals: ConfigSection, Sendable, Hashable {
    public static let fileName = "ltc.yaml"

    /// A signal's common knobs.
    public struct Rule: Sendable, Hashable {
        /// The signal id written in `signals` of the opportunity (e.g. `out-of-warranty-repair`).
        public var id: String
        public var enabled: Bool
        /// Confidence of a first signal (0...1).
        public var confidence: Double
        public init(id: String, enabled: Bool = true, confidence: Double) {
            self.id = id
            self.enabled = enabled
            self.confidence = confidence
        }
    }

    /// A signal that fires when `threshold` observations fall within `window`.
    public struct Recurrence: Sendable, Hashable {
        public var threshold: Int
        public var window: TimeInterval
        public init(threshold: Int, window: TimeInterval) {
            self.threshold = threshold
            self.window = window
        }
    }

    /// Time zone in which event instants become calendar days (contract validity).
    public var timeZone: TimeZone
    /// Later signals for the same account, kind and product within this window update the
    /// opportunity instead of opening a new one.
    public var mergeWindow: TimeInterval
    /// Confidence added per ticket an update brings, up to `maximumConfidence`.
    public var confidencePerTicket: Double
    public var maximumConfidence: Double
    /// `itr.opportunity.updated` from new signals is coalesced: a changed opportunity is marked and
    /// gets one update carrying its latest state once this long has passed since its first unsent
    /// change (0 = every change emitted at once). Sales status changes are always emitted at once.
    public var updateInterval: TimeInterval = Self.defaultUpdateInterval
    public static let defaultUpdateInterval: TimeInterval = 30

    public var newRequirement: Rule
    /// SKU valuing one new-requirement ticket (optional: sales estimates it otherwise).
    public var newRequirementSKU: String?

    public var partsQuote: Rule
    /// A contract whose package includes this offering covers spare parts.
    public var partsCoveringOffering: String

    public var expansion: Rule
    /// Capacity / performance alarms: alarm codes starting with one of these (case-insensitive).
    public var expansionAlarmPrefixes: [String]
    public var expansionRecurrence: Recurrence
    /// SKU per product line (catalogue id) valuing one site's expansion.
    public var expansionSKUs: [String: String]

    public var renewal: Rule
    /// Confidence when the contract has already expired (else `renewal.confidence`).
    public var renewalExpiredConfidence: Double
    /// "Expiring" = the contract ends within this many days of the report.
    public var renewalWithinDays: Int

    public var upgrade: Rule
    public var upgradeRecurrence: Recurrence
    /// Service types that count as incidents for the end-of-support signal.
    public var upgradeServiceTypes: Set<ServiceType>
    /// SKU valuing one device's upgrade (optional).
    public var upgradeSKU: String?

    public var packageUpgrade: Rule
    public var packageUpgradeRecurrence: Recurrence
    public var packageUpgradePriorities: Set<Priority>
    public var packageUpgradeCountsBreaches: Bool
    /// Lower package → the package to offer (`silver` → `gold`).
    public var packageUpgradePaths: [String: String]

    /// Every fact in one place for unit tests and defaults.
    public init(
        timeZone: TimeZone, mergeWindow: TimeInterval, confidencePerTicket: Double, maximumConfidence: Double,
        newRequirement: Rule, newRequirementSKU: String?, partsQuote: Rule, partsCoveringOffering: String,
        expansion: Rule, expansionAlarmPrefixes: [String], expansionRecurrence: Recurrence,
        expansionSKUs: [String: String], renewal: Rule, renewalExpiredConfidence: Double, renewalWithinDays: Int,
        upgrade: Rule, upgradeRecurrence: Recurrence, upgradeServiceTypes: Set<ServiceType>, upgradeSKU: String?,
        packageUpgrade: Rule, packageUpgradeRecurrence: Recurrence, packageUpgradePriorities: Set<Priority>,
        packageUpgradeCountsBreaches: Bool, packageUpgradePaths: [String: String]
    ) {
        self.timeZone = timeZone
        self.mergeWindow = mergeWindow
        self.confidencePerTicket = confidencePerTicket
        self.maximumConfidence = maximumConfidence
        self.newRequirement = newRequirement
        self.newRequirementSKU = newRequirementSKU
        self.partsQuote = partsQuote
        self.partsCoveringOffering = partsCoveringOffering
        self.expansion = expansion
        self.expansionAlarmPrefixes = expansionAlarmPrefixes.map { $0.uppercased() }
        self.expansionRecurrence = expansionRecurrence
        self.expansionSKUs = expansionSKUs
        self.renewal = renewal
        self.renewalExpiredConfidence = renewalExpiredConfidence
        self.renewalWithinDays = renewalWithinDays
        self.upgrade = upgrade
        self.upgradeRecurrence = upgradeRecurrence
        self.upgradeServiceTypes = upgradeServiceTypes
        self.upgradeSKU = upgradeSKU
        self.packageUpgrade = packageUpgrade
        self.packageUpgradeRecurrence = packageUpgradeRecurrence
        self.packageUpgradePriorities = packageUpgradePriorities
        self.packageUpgradeCountsBreaches = packageUpgradeCountsBreaches
        self.packageUpgradePaths = packageUpgradePaths
    }

    /// Whether `code` is a capacity or performance alarm.
    public func isCapacityAlarm(_ code: String) -> Bool {
        let upper = code.uppercased()
        return expansionAlarmPrefixes.contains { upper.hasPrefix($0) }
    }

    public static func decode(_ root: ConfigNode, core: ConfigBundle) -> OpportunitySignals? {
        root.checkKeys([
            "timeZone", "mergeWindow", "confidencePerTicket", "maximumConfidence", "updateInterval", "newRequirement", "partsQuote",
            "expansion", "renewal", "upgrade", "packageUpgrade",
        ])
        let catalogue = core.catalogue
        func sku(_ node: ConfigNode?) -> String? {
            guard let node, let text = node.identifier() else { return nil }
            if catalogue.price(sku: text) == nil {
                node.error("unknown sku \"\(text)\" (not in \(CatalogueSection.fileName) priceList)")
                return nil
            }
            return text
        }
        func rule(_ node: ConfigNode?, defaultId: String, extra: Set<String>) -> Rule {
            var rule = Rule(id: defaultId, confidence: 0.5)
            guard let node else { return rule }
            node.checkKeys(Set(["id", "enabled", "confidence"]).union(extra))
            if let id = node["id"]?.identifier() { rule.id = id }
            if let enabled = node["enabled"]?.bool() { rule.enabled = enabled }
            if let share = node.required("confidence")?.share() { rule.confidence = share }
            return rule
        }
        func recurrence(_ node: ConfigNode?) -> Recurrence {
            Recurrence(
                threshold: node?.required("threshold")?.int(in: 1...10_000) ?? 3,
                window: node?.required("window")?.duration() ?? 30 * 86_400)
        }

        var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        if let node = root["timeZone"], let text = node.identifier() {
            if let zone = TimeZone(identifier: text) { timeZone = zone } else { node.error("unknown time zone \"\(text)\"") }
        }
        let mergeWindow = root.required("mergeWindow")?.duration() ?? 30 * 86_400
        let perTicket = root["confidencePerTicket"]?.decimal(minimum: 0) ?? 0.05
        let maximum = root["maximumConfidence"]?.share() ?? 0.95
        if perTicket > 1 { root["confidencePerTicket"]?.error("expected a number in 0...1, got \(perTicket)") }
        var updateInterval = Self.defaultUpdateInterval
        if let node = root["updateInterval"], let text = node.string() {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed == "0" {
                updateInterval = 0
            } else if let value = ConfigValues.parseDuration(trimmed), value >= 0, value <= 86_400 {
                updateInterval = value
            } else {
                node.error("expected 0 or a duration up to 1d like \"30s\", got \"\(text)\"")
            }
        }

        let newRequirementNode = root.required("newRequirement")
        let newRequirement = rule(newRequirementNode, defaultId: "new-requirement", extra: ["sku"])
        let newRequirementSKU = sku(newRequirementNode?["sku"])

        let partsNode = root.required("partsQuote")
        let parts = rule(partsNode, defaultId: "out-of-warranty-repair", extra: ["coveringOffering"])
        var covering = "spare-parts-nbd"
        if let node = partsNode?.required("coveringOffering"), let id = node.identifier() {
            if !catalogue.offerings.contains(where: { $0.id == id }) {
                node.error("unknown offering \"\(id)\" (not in \(CatalogueSection.fileName) offerings)")
            }
            covering = id
        }

        let expansionNode = root.required("expansion")
        let expansion = rule(expansionNode, defaultId: "capacity-alarms-recurring", extra: ["alarmCodePrefixes", "threshold", "window", "skus"])
        let alarmPrefixes = (expansionNode?.required("alarmCodePrefixes")?.stringList() ?? []).filter { !$0.isEmpty }
        if let node = expansionNode?["alarmCodePrefixes"], alarmPrefixes.isEmpty {
            node.error("expected at least one alarm code prefix")
        }
        let expansionRecurrence = recurrence(expansionNode)
        var expansionSKUs: [String: String] = [:]
        for (line, node) in expansionNode?["skus"]?.entries() ?? [] {
            if catalogue.productLine(line) == nil {
                node.error("unknown product line \"\(line)\" (defined in \(CatalogueSection.fileName))")
            }
            if let value = sku(node) { expansionSKUs[line] = value }
        }

        let renewalNode = root.required("renewal")
        let renewal = rule(renewalNode, defaultId: "contract-expiring", extra: ["expiredConfidence", "expiringWithinDays"])
        let expiredConfidence = renewalNode?["expiredConfidence"]?.share() ?? renewal.confidence
        let within = renewalNode?.required("expiringWithinDays")?.int(in: 0...3650) ?? 90

        let upgradeNode = root.required("upgrade")
        let upgrade = rule(upgradeNode, defaultId: "end-of-support-incidents", extra: ["threshold", "window", "serviceTypes", "sku"])
        let upgradeRecurrence = recurrence(upgradeNode)
        let upgradeTypes = upgradeNode?["serviceTypes"]?.oneOfList(ServiceType.self) ?? [.hardwareFault, .softwareFault]
        let upgradeSKU = sku(upgradeNode?["sku"])

        let packageNode = root.required("packageUpgrade")
        let packageUpgrade = rule(
            packageNode, defaultId: "package-under-pressure", extra: ["threshold", "window", "priorities", "countBreaches", "paths"])
        let packageRecurrence = recurrence(packageNode)
        let priorities = packageNode?.required("priorities")?.oneOfList(Priority.self) ?? [.p1, .p2]
        let countBreaches = packageNode?["countBreaches"]?.bool() ?? true
        var paths: [String: String] = [:]
        for (from, node) in packageNode?.required("paths")?.entries() ?? [] {
            guard let to = node.identifier() else { continue }
            for (id, at) in [(from, node), (to, node)] where catalogue.package(id) == nil {
                at.error("unknown package \"\(id)\" (defined in \(CatalogueSection.fileName))")
            }
            if from == to { node.error("a package cannot be upgraded to itself") }
            paths[from] = to
        }

        var signals = OpportunitySignals(
            timeZone: timeZone, mergeWindow: mergeWindow, confidencePerTicket: perTicket, maximumConfidence: maximum,
            newRequirement: newRequirement, newRequirementSKU: newRequirementSKU, partsQuote: parts,
            partsCoveringOffering: covering, expansion: expansion, expansionAlarmPrefixes: alarmPrefixes,
            expansionRecurrence: expansionRecurrence, expansionSKUs: expansionSKUs, renewal: renewal,
            renewalExpiredConfidence: expiredConfidence, renewalWithinDays: within, upgrade: upgrade,
            upgradeRecurrence: upgradeRecurrence, upgradeServiceTypes: Set(upgradeTypes), upgradeSKU: upgradeSKU,
            packageUpgrade: packageUpgrade, packageUpgradeRecurrence: packageRecurrence,
            packageUpgradePriorities: Set(priorities), packageUpgradeCountsBreaches: countBreaches,
            packageUpgradePaths: paths)
        signals.updateInterval = updateInterval
        return signals
    }
}
