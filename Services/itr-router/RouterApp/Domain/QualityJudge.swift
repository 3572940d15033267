import ITRConfig

/// Who caused an issue, decided from its resolution code.
public struct QualityJudgement: Sendable, Hashable, Codable {
    public var responsibility: QualityResponsibility
    /// The resolution code (the rule id of this mapping).
    public var ruleId: String
    public var rulesVersion: String
    /// True when the cause is in the product: the problem goes to IPD as a defect.
    public var feedsIPD: Bool { responsibility.isProductCause }
}

/// Maps resolution codes to quality responsibility (`quality.yaml`).
public struct QualityJudge: Sendable {
    public var rules: QualitySection
    public var rulesVersion: String

    public init(rules: QualitySection, rulesVersion: String) {
        self.rules = rules
        self.rulesVersion = rulesVersion
    }

    public init(_ bundle: ConfigBundle) {
        self.init(rules: bundle.quality, rulesVersion: bundle.rulesVersion)
    }

    /// Nil for a code not in `quality.yaml` (the caller should refuse such a resolution).
    public func judge(resolutionCode code: String) -> QualityJudgement? {
        guard let entry = rules.resolutionCode(code) else { return nil }
        return QualityJudgement(responsibility: entry.responsibility, ruleId: entry.code, rulesVersion: rulesVersion)
    }
}
