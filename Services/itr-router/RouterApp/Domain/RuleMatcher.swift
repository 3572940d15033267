import ITRConfig
import TextClassifier

/// Evaluates a `RuleCondition` against a report.
///
/// Keywords are matched case-insensitively (full-width forms as ASCII) in title + description. A keyword made only of
/// ASCII letters must stand as a whole word (so `hang` does not match `change`, `bug` not
/// `debug`); any other keyword (Chinese) matches as a substring.
///
/// Hot path: a report is prepared once (`PreparedFacts`: text folded once, as UTF-8) and
/// each rule's keywords once per rules snapshot (`KeywordSet`); matching is then a byte search.
/// `containsKeyword` is the reference (String) implementation the tests compare it with.
public enum RuleMatcher {
    public static func matches(_ condition: RuleCondition, _ facts: ReportFacts, serviceType: ServiceType? = nil) -> Bool {
        matches(condition, KeywordSet(condition.keywords), PreparedFacts(facts), serviceType: serviceType)
    }

    static func matches(
        _ condition: RuleCondition, _ keywords: KeywordSet, _ prepared: PreparedFacts, serviceType: ServiceType?
    ) -> Bool {
        let facts = prepared.facts
        if !condition.categoryHints.isEmpty {
            guard let hint = prepared.categoryHint, condition.categoryHints.contains(hint) else { return false }
        }
        if !condition.channels.isEmpty {
            guard let channel = prepared.channel, condition.channels.contains(channel) else { return false }
        }
        if !condition.alarmCodePrefixes.isEmpty {
            guard let code = prepared.alarmCode, condition.alarmCodePrefixes.contains(where: code.hasPrefix)
            else { return false }
        }
        if !condition.productLines.isEmpty {
            guard let line = facts.productLine, condition.productLines.contains(line) else { return false }
        }
        if !condition.regions.isEmpty {
            guard let region = facts.region, condition.regions.contains(region) else { return false }
        }
        if !condition.severities.isEmpty {
            guard let severity = facts.severity, condition.severities.contains(severity) else { return false }
        }
        if !condition.serviceTypes.isEmpty {
            guard let serviceType, condition.serviceTypes.contains(serviceType) else { return false }
        }
        if let minimum = condition.minAffectedUsers {
            guard let users = facts.affectedUsers, users >= minimum else { return false }
        }
        if let minimum = condition.minAffectedSites {
            guard let sites = facts.affectedSites, sites >= minimum else { return false }
        }
        if !condition.keywords.isEmpty {
            guard keywords.matches(prepared.text) else { return false }
        }
        return true
    }

    /// Whether lower-cased `text` contains lower-cased `keyword` (whole word for ASCII keywords).
    /// The reference implementation (String search); the rules use `KeywordSet`.
    public static func containsKeyword(_ text: String, _ keyword: String) -> Bool {
        guard !keyword.isEmpty else { return false }
        let asciiWord = keyword.unicodeScalars.allSatisfy { $0.isASCII }
        guard asciiWord else { return text.contains(keyword) }
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: keyword, range: searchRange) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            if !isWordCharacter(before), !isWordCharacter(after) { return true }
            searchRange = text.index(after: found.lowerBound)..<text.endIndex
        }
        return false
    }

    private static func isWordCharacter(_ character: Character?) -> Bool {
        guard let character, character.isASCII else { return false }
        return character.isLetter || character.isNumber
    }
}

/// A report's fields as the rules compare them, normalised once per report.
struct PreparedFacts {
    let facts: ReportFacts
    /// Folded (lower case, full-width as ASCII) title + "\n" + description, as UTF-8.
    let text: [UInt8]
    let categoryHint: String?
    let channel: String?
    let alarmCode: String?

    init(_ facts: ReportFacts) {
        self.facts = facts
        text = Array(FeatureExtractor.folded(facts.title + "\n" + facts.description).utf8)
        categoryHint = facts.categoryHint?.lowercased()
        channel = facts.channel?.lowercased()
        alarmCode = facts.alarmCode?.uppercased()
    }
}

/// A rule's keywords, folded like the text (lower case, full-width forms as ASCII:
/// `FeatureExtractor.fold`), prepared once as UTF-8: true when any
/// occurs in the text, ASCII ones as whole words (neighbours not ASCII letters or digits).
struct KeywordSet: Sendable {
    private let keywords: [(bytes: [UInt8], wholeWord: Bool)]

    init(_ keywords: [String]) {
        self.keywords = keywords.filter { !$0.isEmpty }.map { keyword in
            let folded = FeatureExtractor.folded(keyword)
            return (Array(folded.utf8), folded.utf8.allSatisfy { $0 < 0x80 })
        }
    }

    var isEmpty: Bool { keywords.isEmpty }

    func matches(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { text in
            keywords.contains { keyword in
                keyword.bytes.withUnsafeBufferPointer { Self.occurs($0, in: text, wholeWord: keyword.wholeWord) }
            }
        }
    }

    private static func occurs(_ needle: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, wholeWord: Bool) -> Bool {
        let n = needle.count
        guard n > 0, n <= text.count else { return false }
        let first = needle[0]
        var i = 0
        let last = text.count - n
        while i <= last {
            if text[i] == first {
                var j = 1
                while j < n, text[i + j] == needle[j] { j += 1 }
                if j == n {
                    if !wholeWord { return true }
                    let before = i == 0 ? nil : text[i - 1]
                    let after = i + n == text.count ? nil : text[i + n]
                    if !isWordByte(before), !isWordByte(after) { return true }
                }
            }
            i += 1
        }
        return false
    }

    /// An ASCII letter or digit (bytes of non-ASCII characters are never word characters).
    private static func isWordByte(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
