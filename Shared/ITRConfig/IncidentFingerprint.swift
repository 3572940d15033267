import Foundation

/// What makes two incidents "the same": product line, model, version, component (or alarm code)
/// and the normalized symptom. Shared by the router (problem detection) and intake (known-error
/// matching), so both compute the same fingerprint for the same report.
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

    /// From a report's fields: the component, else the alarm code; the symptom from title +
    /// description via `SymptomNormalizer` with the synonym table of `problems.yaml`
    /// (`ProblemsSection.synonyms`; the router and intake must pass the same one so that their
    /// digests agree). Identifiers are trimmed and lower-cased.
    public init(
        productLine: String?, model: String?, version: String?, component: String?, alarmCode: String?,
        title: String, description: String, synonyms: SymptomSynonyms
    ) {
        func clean(_ text: String?) -> String { (text ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
        self.init(
            productLine: clean(productLine), model: clean(model), version: clean(version),
            component: clean(component ?? alarmCode),
            symptom: SymptomNormalizer.normalize(title + " " + description, synonyms: synonyms))
    }

    /// A stable key for storage and indexing: the fields joined with `|`.
    public var key: String { [productLine, model, version, component, symptom].joined(separator: "|") }

    /// A compact stable hash of ``key`` (FNV-1a 64, 16 lower-case hex digits), for the
    /// `fingerprint` field of problem events.
    public var digest: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public var description: String { key }
}
