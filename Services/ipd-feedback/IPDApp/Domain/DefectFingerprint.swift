import Foundation
import ITRConfig

/// What makes product-caused problems "one root cause": the fields of the recipe in `ipd.yaml`
/// (product line, model, component, error or alarm code, normalized symptom), never the
/// version, so one defect spans every version it affects.
///
/// Identifiers are trimmed and lower-cased; the symptom is a ``SymptomSignature``. The ``key``
/// lists only the recipe's fields, so two problems with equal keys are the same defect.
public struct DefectFingerprint: Sendable, Hashable, Codable {
    public var productLine: String
    public var model: String
    public var component: String
    public var code: String
    /// The normalized symptom signature (always computed, also when not part of the key).
    public var symptom: String
    /// `field=value` pairs of the recipe's fields, joined with `|`.
    public var key: String

    public init(
        productLine: String?, model: String?, component: String?, code: String?, symptomText: String?,
        recipe: IPDRules.Fingerprint
    ) {
        func clean(_ text: String?) -> String { (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        self.productLine = clean(productLine)
        self.model = clean(model)
        self.component = clean(component)
        self.code = clean(code)
        self.symptom = SymptomSignature.make(symptomText ?? "", recipe: recipe)
        var parts: [String] = []
        for field in recipe.fields {
            switch field {
            case .productLine: parts.append("productLine=\(self.productLine)")
            case .model: parts.append("model=\(self.model)")
            case .component: parts.append("component=\(self.component)")
            case .code: parts.append("code=\(self.code)")
            case .symptom:
                if recipe.symptomUse == .always || self.code.isEmpty { parts.append("symptom=\(self.symptom)") }
            }
        }
        self.key = parts.joined(separator: "|")
    }

    /// FNV-1a 64 of ``key``, 16 lower-case hex digits: the `fingerprint` field of defect events.
    public var digest: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The id of the defect first opened for this fingerprint: `DEF-` + the digest's first 12 digits.
    public var defectId: String { "DEF-" + digest.prefix(12).uppercased() }
}

/// The symptom part of a defect fingerprint, in Chinese or English.
///
/// Recipe: `SymptomNormalizer` (ITRConfig, shared with the router) with the recipe's synonym
/// table (`problems.yaml`'s shared table plus `ipd.yaml`'s own, see `IPDRules.Fingerprint.synonyms`):
/// every term becomes its canonical token (`端口宕机` → `port down`; Chinese as substrings,
/// English as whole words), then numbers, ids, stop words and Chinese function characters are
/// dropped and the unique tokens sorted; finally the recipe's `ignoreWords` are dropped. Word
/// order, repetitions, numbers and the language of covered terms do not matter.
public enum SymptomSignature {
    public static func make(_ text: String, recipe: IPDRules.Fingerprint) -> String {
        SymptomNormalizer.tokens(text, synonyms: recipe.synonyms).filter { !recipe.ignoreWords.contains($0) }.joined(separator: " ")
    }
}
