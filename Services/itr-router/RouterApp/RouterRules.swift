import Foundation
import ITRConfig
import Synchronization
import TextClassifier

/// Everything the router decides with, built from one validated `ConfigBundle`: one immutable
/// snapshot per rules version. A batch of events uses one snapshot from start to end.
public struct RouterRules: Sendable {
    public let bundle: ConfigBundle
    public let classifier: Classifier
    public let assigner: Assigner
    public let planner: EscalationPlanner
    public let detector: ProblemDetector
    public let judge: QualityJudge
    public let policy: TicketLifecycle.Policy
    /// `access.yaml`: the broker users whose AMQP ticket actions are accepted, as whom.
    public let brokerActors: BrokerActors
    private let calendars: [String: BusinessCalendar]

    /// `model`: the service-type model `classification.yaml` names (see ``load(directory:)``).
    public init(_ bundle: ConfigBundle, model: TextModel? = nil) {
        self.bundle = bundle
        classifier = Classifier(bundle, model: model)
        assigner = Assigner(bundle)
        planner = EscalationPlanner(bundle.assignment)
        detector = ProblemDetector(bundle)
        judge = QualityJudge(bundle)
        policy = TicketLifecycle.Policy(assignment: bundle.assignment, lifecycle: bundle.lifecycle)
        brokerActors = bundle.files[BrokerActors.fileName] == nil ? BrokerActors() : ((try? bundle.section(BrokerActors.self)) ?? BrokerActors())
        var calendars: [String: BusinessCalendar] = [:]
        for definition in bundle.calendars.calendars { calendars[definition.id] = BusinessCalendar(definition) }
        self.calendars = calendars
    }

    /// Loads and validates `directory` and the model file its `classification.yaml` names
    /// (errors name file, line and field).
    public static func load(directory: String) throws(ConfigErrors) -> RouterRules {
        let bundle = try ConfigBundle.load(directory: directory, sections: [BrokerActors.self])
        return RouterRules(bundle, model: try bundle.serviceTypeModel())
    }

    public var version: String { bundle.rulesVersion }
    /// The service-type model's version (nil: rules only).
    public var modelVersion: String? { classifier.model?.version }
    public var pausingReasons: Set<PendingReason> { bundle.lifecycle.pausingReasons }
    /// The zh↔en symptom synonyms of `problems.yaml`, applied to incident fingerprints.
    public var symptomSynonyms: SymptomSynonyms { bundle.problems.synonyms }

    /// The coverage calendar of a package (24x7 UTC when the package or calendar is unknown).
    public func calendar(package id: String?) -> BusinessCalendar {
        guard let id, let package = bundle.catalogue.package(id), let calendar = calendars[package.calendar] else {
            return .always()
        }
        return calendar
    }

    /// The package's targets for a priority (the uncontracted package's when unknown).
    public func targets(package id: String?, priority: Priority) -> SLATargets {
        let package = id.flatMap { bundle.catalogue.package($0) } ?? bundle.uncontractedPackage
        return package?.targets[priority] ?? SLATargets(response: 4 * 3_600, resolution: 72 * 3_600)
    }

    /// OLA budgets per tier for a priority.
    public func olaBudgets(priority: Priority) -> [String: TimeInterval] {
        var budgets: [String: TimeInterval] = [:]
        for (tier, perPriority) in bundle.assignment.olaBudgets { budgets[tier] = perPriority[priority] ?? 0 }
        return budgets
    }

    /// The contract deciding a ticket's package: the account's contract valid on the day it was
    /// opened (UTC), with the rule that decided it.
    public func contract(account: String, openedAt: Date) -> ContractDecision {
        let day = LocalDate(utc: openedAt)
        if let contract = bundle.contracts.contract(account: account, on: day), contract.isValid(on: day) {
            return ContractDecision(
                package: contract.package, contractId: contract.id, region: contract.region,
                ruleId: "contract.\(contract.id)")
        }
        let fallback = bundle.uncontractedPackage?.id
        return ContractDecision(package: fallback, contractId: nil, region: nil, ruleId: "lifecycle.uncontractedPackage")
    }
}

/// Which package applies to a ticket and why.
public struct ContractDecision: Sendable, Hashable {
    public var package: String?
    public var contractId: String?
    public var region: String?
    public var ruleId: String
}

/// The current rules, swapped atomically on reload; an invalid reload keeps the last good ones.
public final class RulesHolder: Sendable {
    private let state: Mutex<RouterRules>
    public let directory: String

    public init(_ rules: RouterRules, directory: String) {
        state = Mutex(rules)
        self.directory = directory
    }

    public var current: RouterRules { state.withLock { $0 } }

    /// Reloads from the directory. On error the previous rules stay and the errors are returned.
    @discardableResult
    public func reload() -> Result<String, ConfigErrors> {
        do {
            let rules = try RouterRules.load(directory: directory)
            state.withLock { $0 = rules }
            return .success(rules.version)
        } catch {
            return .failure(error)
        }
    }
}
