import Foundation
import ITRConfig
import ITREvents

/// `ipd.yaml`: how product-caused problems become defects (fingerprint recipe), when a defect is
/// reported to R&D, when it is updated (materiality, debounce), and how its impact is scored.
public struct IPDRules: ConfigSection, Hashable {
    public static let fileName = "ipd.yaml"

    /// The fields a fingerprint may use. The version is never one: one defect spans versions.
    public enum FingerprintField: String, Sendable, Hashable, CaseIterable {
        case productLine, model, component, code, symptom
    }

    /// When the symptom text is part of the fingerprint.
    public enum SymptomUse: String, Sendable, Hashable, CaseIterable {
        /// Always (when `symptom` is among the fields).
        case always
        /// Only when the problem has no error or alarm code: codes are language-neutral, texts are not.
        case whenNoCode = "when-no-code"
    }

    public struct Fingerprint: Sendable, Hashable {
        public var fields: [FingerprintField]
        public var symptomUse: SymptomUse
        /// Term → canonical token, applied before normalizing, so that Chinese and English
        /// reports of one symptom meet (`宕机` → `down`): the shared table of `problems.yaml`
        /// (`ProblemsSection.synonyms`) plus any `fingerprint.synonyms` of `ipd.yaml` (which win),
        /// less the terms listed in ``ignoreWords`` (so an ignored word such as `故障` is dropped,
        /// not turned into a token).
        public var synonyms: SymptomSynonyms
        /// Tokens dropped from the signature after normalizing (`issue`, `故障`).
        public var ignoreWords: Set<String>
        public init(
            fields: [FingerprintField] = FingerprintField.allCases, symptomUse: SymptomUse = .whenNoCode,
            synonyms: SymptomSynonyms = .none, ignoreWords: Set<String> = []
        ) {
            self.fields = fields
            self.symptomUse = symptomUse
            self.synonyms = synonyms
            self.ignoreWords = ignoreWords
        }
    }

    /// A defect is reported once ANY of these holds.
    public struct ReportThreshold: Sendable, Hashable {
        /// Any incident of these priorities (e.g. P1).
        public var priorities: Set<Priority>
        /// At least this many distinct customers.
        public var customers: Int
        /// At least this many incidents.
        public var incidents: Int
        /// At least this impact score.
        public var score: Double
        public init(priorities: Set<Priority> = [.p1], customers: Int = 2, incidents: Int = 5, score: Double = 100) {
            self.priorities = priorities
            self.customers = customers
            self.incidents = incidents
            self.score = score
        }
    }

    /// When a reported defect's change is worth an `itr.defect.updated`.
    public struct UpdatePolicy: Sendable, Hashable {
        /// At most one update per defect per this interval; changes in between are coalesced.
        public var debounce: TimeInterval
        /// Incidents grew by at least this share since the last event (0.5 = +50 %).
        public var incidentGrowth: Double
        /// Score grew by at least this share since the last event.
        public var scoreGrowth: Double
        public init(debounce: TimeInterval = 300, incidentGrowth: Double = 0.5, scoreGrowth: Double = 0.2) {
            self.debounce = debounce
            self.incidentGrowth = incidentGrowth
            self.scoreGrowth = scoreGrowth
        }
    }

    /// Weights of the impact score (see `ImpactScore`).
    public struct ScoreWeights: Sendable, Hashable {
        public var customer: Double
        public var incident: Double
        public var slaBreach: Double
        public var priority: [Priority: Double]
        /// By contract package id; unknown packages weigh 0.
        public var packages: [String: Double]
        public init(
            customer: Double = 10, incident: Double = 5, slaBreach: Double = 5,
            priority: [Priority: Double] = [.p1: 40, .p2: 20, .p3: 8, .p4: 3, .p5: 1], packages: [String: Double] = [:]
        ) {
            self.customer = customer
            self.incident = incident
            self.slaBreach = slaBreach
            self.priority = priority
            self.packages = packages
        }
    }

    public var fingerprint: Fingerprint
    public var report: ReportThreshold
    public var update: UpdatePolicy
    public var score: ScoreWeights

    public init(
        fingerprint: Fingerprint = Fingerprint(), report: ReportThreshold = ReportThreshold(),
        update: UpdatePolicy = UpdatePolicy(), score: ScoreWeights = ScoreWeights()
    ) {
        self.fingerprint = fingerprint
        self.report = report
        self.update = update
        self.score = score
    }

    public static func decode(_ root: ConfigNode, core: ConfigBundle) -> IPDRules? {
        root.checkKeys(["fingerprint", "report", "update", "score"])
        var rules = IPDRules()
        if let node = root.required("fingerprint") {
            node.checkKeys(["fields", "symptom", "synonyms", "ignoreWords"])
            if let fields = node.required("fields") {
                let list = fields.oneOfList(FingerprintField.self) ?? []
                if list.isEmpty { fields.error("expected at least one fingerprint field") }
                if !list.contains(.productLine) { fields.error("a fingerprint must include productLine") }
                if Set(list).count != list.count { fields.error("a field is listed twice") }
                rules.fingerprint.fields = list
            }
            if let use = node["symptom"]?.oneOf(SymptomUse.self) { rules.fingerprint.symptomUse = use }
            // Still accepted for compatibility (term → token); the shared table lives in problems.yaml.
            var own: [String: String] = [:]
            if let synonyms = node["synonyms"]?.entries() {
                for (term, value) in synonyms {
                    guard let token = value.identifier() else { continue }
                    let key = term.trimmingCharacters(in: .whitespaces).lowercased()
                    if key.isEmpty { value.error("empty synonym term") }
                    if SymptomNormalizer.tokens(token).count != 1 {
                        value.error("a canonical token must normalize to exactly one word, got \"\(token)\"")
                    }
                    own[key] = token.lowercased()
                }
            }
            if let words = node["ignoreWords"]?.stringList() {
                rules.fingerprint.ignoreWords = Set(words.map { $0.lowercased() })
            }
            rules.fingerprint.synonyms = core.problems.synonyms.merging(SymptomSynonyms(own))
                .removing(terms: Set(rules.fingerprint.ignoreWords.map(SymptomSynonyms.fold)))
        }
        if let node = root.required("report") {
            node.checkKeys(["priorities", "customers", "incidents", "score"])
            rules.report.priorities = Set(node["priorities"]?.oneOfList(Priority.self) ?? [])
            rules.report.customers = node.required("customers")?.int(in: 1...100_000) ?? rules.report.customers
            rules.report.incidents = node.required("incidents")?.int(in: 1...1_000_000) ?? rules.report.incidents
            rules.report.score = node["score"]?.decimal(minimum: 0) ?? rules.report.score
        }
        if let node = root.required("update") {
            node.checkKeys(["debounce", "incidentGrowth", "scoreGrowth"])
            rules.update.debounce = node.required("debounce")?.duration() ?? rules.update.debounce
            rules.update.incidentGrowth = node.required("incidentGrowth")?.share(maximum: 100) ?? rules.update.incidentGrowth
            rules.update.scoreGrowth = node.required("scoreGrowth")?.share(maximum: 100) ?? rules.update.scoreGrowth
        }
        if let node = root.required("score") {
            node.checkKeys(["customer", "incident", "slaBreach", "priority", "packages"])
            rules.score.customer = node.required("customer")?.decimal() ?? rules.score.customer
            rules.score.incident = node.required("incident")?.decimal() ?? rules.score.incident
            rules.score.slaBreach = node.required("slaBreach")?.decimal() ?? rules.score.slaBreach
            if let priorities = node.required("priority")?.entries() {
                var map: [Priority: Double] = [:]
                for (name, value) in priorities {
                    guard let priority = Priority(rawValue: name) else {
                        value.error("unknown priority \"\(name)\" (expected P1...P5)")
                        continue
                    }
                    map[priority] = value.decimal()
                }
                for priority in Priority.allCases where map[priority] == nil {
                    node.error(field: "priority.\(priority.rawValue)", "missing weight")
                }
                rules.score.priority = map
            }
            if let packages = node["packages"]?.entries() {
                let known = Set(core.catalogue.packages.map(\.id))
                var map: [String: Double] = [:]
                for (name, value) in packages {
                    if !known.isEmpty, !known.contains(name) {
                        value.error("unknown contract package \"\(name)\" (not in catalogue.yaml)")
                    }
                    map[name] = value.decimal()
                }
                rules.score.packages = map
            }
        }
        return rules
    }
}
