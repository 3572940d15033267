import ITRConfig

/// Evaluates a `RuleCondition` against a report.
///
/// Keywords are matched case-insensitively in title + description. A keyword made only of
/// ASCII letters must stand as a whole word (so `hang` does not match `change`, `bug` not
/// `debug`); any other keyword (Chinese) matches as a substring.
public enum RuleMatcher {
    public static func matches(_ condition: RuleCondition, _ facts: ReportFacts, serviceType: ServiceType? = nil) -> Bool {
        if !condition.categoryHints.isEmpty {
            guard let hint = facts.categoryHint?.lowercased(), condition.categoryHints.contains(hint) else { return false }
        }
        if !condition.channels.isEmpty {
            guard let channel = facts.channel?.lowercased(), condition.channels.contains(channel) else { return false }
        }
        if !condition.alarmCodePrefixes.isEmpty {
            guard let code = facts.alarmCode?.uppercased(), condition.alarmCodePrefixes.contains(where: code.hasPrefix)
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
            let text = (facts.title + "\n" + facts.description).lowercased()
            guard condition.keywords.contains(where: { containsKeyword(text, $0) }) else { return false }
        }
        return true
    }

    /// Whether lower-cased `text` contains lower-cased `keyword` (whole word for ASCII keywords).
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
