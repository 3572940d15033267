import Foundation

/// Parsers for the small value syntaxes used in the configuration files.
public enum ConfigValues {
    /// Parses `4h`, `30m`, `1h30m`, `2d`, `45s` (units d = 24 h, h, m, s) into seconds.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return nil }
        var total: TimeInterval = 0
        var number = ""
        var sawUnit = false
        for character in trimmed {
            if character.isASCII, character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            let unit: TimeInterval
            switch character {
            case "w": unit = 7 * 86_400
            case "d": unit = 86_400
            case "h": unit = 3_600
            case "m": unit = 60
            case "s": unit = 1
            default: return nil
            }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    /// Formats seconds as `1h30m` (the inverse of `parseDuration` for whole minutes).
    public static func formatDuration(_ seconds: TimeInterval) -> String {
        var rest = Int(seconds.rounded())
        if rest == 0 { return "0m" }
        var parts: [String] = []
        if rest < 0 { parts.append("-"); rest = -rest }
        let hours = rest / 3_600
        let minutes = (rest % 3_600) / 60
        let secs = rest % 60
        if hours > 0 { parts.append("\(hours)h") }
        if minutes > 0 { parts.append("\(minutes)m") }
        if secs > 0 { parts.append("\(secs)s") }
        return parts.joined()
    }

    /// Parses `75%` or `0.75` into 0.75.
    public static func parseShare(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            return Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)).map { $0 / 100 }
        }
        return Double(trimmed)
    }

    /// Parses `09:00` (or `24:00`) into minutes after midnight.
    public static func parseTimeOfDay(_ text: String) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard parts.count == 2, parts[1].count == 2,
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0..<60).contains(minute) else { return nil }
        let total = hour * 60 + minute
        return total <= 24 * 60 ? total : nil
    }
}
