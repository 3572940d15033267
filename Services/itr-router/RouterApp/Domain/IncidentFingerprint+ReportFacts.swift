import ITRConfig

extension IncidentFingerprint {
    /// From a report: the component, else the alarm code; the symptom from title + description
    /// via `SymptomNormalizer` with `synonyms` (the router passes `problems.yaml`'s table, as
    /// intake does for known errors). Identifiers are trimmed and lower-cased.
    public init(_ facts: ReportFacts, synonyms: SymptomSynonyms = .none) {
        self.init(
            productLine: facts.productLine, model: facts.model, version: facts.version, component: facts.component,
            alarmCode: facts.alarmCode, title: facts.title, description: facts.description, synonyms: synonyms)
    }
}
