import Foundation
import ITRConfig

/// What makes two incidents "the same": product line, model, version, component (or alarm code)
/// and the normalized symptom.
public struct IncidentFingerprint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var productLine: String
    public var model: String
    public var version: String
    public var component: String
    public var symptom: String

    public init(productLine: String, model: String, version: String, component: String, symptom: String) {
        self.productLine = productLine
        self.model = model
        self.version = version
        self.component = component
        self.symptom = symptom
    }

    /// From a report: the component, else the alarm code; the symptom from title + description
    /// via `SymptomNormalizer`. Identifiers are trimmed and lower-cased.
    public init(_ facts: ReportFacts) {
        func clean(_ text: String?) -> String { (text ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
        self.init(
            productLine: clean(facts.productLine), model: clean(facts.model), version: clean(facts.version),
            component: clean(facts.component ?? facts.alarmCode),
            symptom: SymptomNormalizer.normalize(facts.title + " " + facts.description))
    }

    /// A stable key for storage and indexing: the fields joined with `|`.
    public var key: String { [productLine, model, version, component, symptom].joined(separator: "|") }

    public var description: String { key }
}
