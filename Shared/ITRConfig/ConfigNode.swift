import Foundation
import Yams

/// A located view of one YAML node that decodes typed values and records every
/// problem in the shared `ConfigDiagnostics` instead of stopping at the first.
///
/// Accessors return `nil` (and record an error) when a value is missing or malformed,
/// so section decoders keep going and report everything at once.
public struct ConfigNode {
    let node: Node
    /// Dotted path from the document root, e.g. `packages[1].targets.P2`.
    public let path: String
    /// The file as given to the loader.
    public let file: String
    public let diagnostics: ConfigDiagnostics

    init(node: Node, path: String, file: String, diagnostics: ConfigDiagnostics) {
        self.node = node
        self.path = path
        self.file = file
        self.diagnostics = diagnostics
    }

    public var line: Int { node.mark?.line ?? 0 }
    public var column: Int { node.mark?.column ?? 0 }

    /// Records an error located at this node.
    public func error(_ message: String) {
        diagnostics.report(file: file, line: line, column: column, field: path, message)
    }

    /// Records an error located at this node but naming a child field.
    public func error(field: String, _ message: String) {
        diagnostics.report(file: file, line: line, column: column, field: childPath(field), message)
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Structure

    /// The raw scalar text, without recording an error.
    public var scalarText: String? { node.scalar?.string }

    /// True when the node is an explicit YAML null (`~`, `null` or empty).
    public var isNull: Bool { node.null != nil && node.scalar != nil && node.scalar?.style == .plain }

    /// A child of a mapping, or nil when absent (no error unless this node is not a mapping).
    public subscript(key: String) -> ConfigNode? {
        guard let mapping = node.mapping else {
            error("expected a mapping, got \(kindName)")
            return nil
        }
        guard let child = mapping[key] else { return nil }
        return ConfigNode(node: child, path: childPath(key), file: file, diagnostics: diagnostics)
    }

    /// A child that must be present; records `missing required field` at this mapping otherwise.
    public func required(_ key: String) -> ConfigNode? {
        guard node.mapping != nil else {
            error("expected a mapping, got \(kindName)")
            return nil
        }
        guard let child = self[key] else {
            error(field: key, "missing required field")
            return nil
        }
        return child
    }

    /// Records an error for every key not in `allowed` (catches typos such as `resolutoin`).
    public func checkKeys(_ allowed: Set<String>) {
        guard let mapping = node.mapping else { return }
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "?"
            if !allowed.contains(name) {
                let child = ConfigNode(node: key, path: childPath(name), file: file, diagnostics: diagnostics)
                _ = value
                child.error("unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// Elements of a sequence; records an error and returns nil when this is not a sequence.
    public func list() -> [ConfigNode]? {
        guard let sequence = node.sequence else {
            error("expected a list, got \(kindName)")
            return nil
        }
        return sequence.enumerated().map { index, child in
            ConfigNode(node: child, path: "\(path)[\(index)]", file: file, diagnostics: diagnostics)
        }
    }

    /// Key/value pairs of a mapping in document order.
    public func entries() -> [(key: String, value: ConfigNode)]? {
        guard let mapping = node.mapping else {
            error("expected a mapping, got \(kindName)")
            return nil
        }
        return mapping.map { key, value in
            let name = key.scalar?.string ?? "?"
            return (name, ConfigNode(node: value, path: childPath(name), file: file, diagnostics: diagnostics))
        }
    }

    var kindName: String {
        switch node {
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: Scalars

    public func string() -> String? {
        guard let scalar = node.scalar else {
            error("expected a text value, got \(kindName)")
            return nil
        }
        return scalar.string
    }

    /// A non-empty string.
    public func identifier() -> String? {
        guard let text = string() else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            error("expected a non-empty value")
            return nil
        }
        return trimmed
    }

    /// A single string or a list of strings.
    public func stringList() -> [String]? {
        if node.scalar != nil { return string().map { [$0] } }
        guard let items = list() else { return nil }
        return items.compactMap { $0.string() }
    }

    public func int(in range: ClosedRange<Int> = Int.min...Int.max) -> Int? {
        guard let text = string() else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            error("expected a whole number, got \"\(text)\"")
            return nil
        }
        guard range.contains(value) else {
            error("expected a number in \(range.lowerBound)...\(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    public func decimal(minimum: Double = 0) -> Double? {
        guard let text = string() else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            error("expected a number, got \"\(text)\"")
            return nil
        }
        guard value >= minimum else {
            error("expected a number >= \(minimum), got \(text)")
            return nil
        }
        return value
    }

    public func bool() -> Bool? {
        guard let text = string() else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error("expected true or false, got \"\(text)\"")
            return nil
        }
    }

    /// A duration like `4h`, `30m`, `1h30m`, `2d` (24 h), `45s`.
    public func duration() -> TimeInterval? {
        guard let text = string() else { return nil }
        guard let value = ConfigValues.parseDuration(text), value > 0 else {
            error("expected a duration like \"4h\", got \"\(text)\"")
            return nil
        }
        return value
    }

    /// A share like `75%` or `0.75`, returned as a fraction in 0...maximum.
    public func share(maximum: Double = 1) -> Double? {
        guard let text = string() else { return nil }
        guard let value = ConfigValues.parseShare(text), value > 0, value <= maximum else {
            error("expected a share like \"75%\" (at most \(Int(maximum * 100))%), got \"\(text)\"")
            return nil
        }
        return value
    }

    /// A calendar date `YYYY-MM-DD`.
    public func localDate() -> LocalDate? {
        guard let text = string() else { return nil }
        guard let value = LocalDate(text) else {
            error("expected a date like \"2026-10-01\", got \"\(text)\"")
            return nil
        }
        return value
    }

    /// One of the raw values of `E`.
    public func oneOf<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> E? where E.RawValue == String {
        guard let text = string() else { return nil }
        guard let value = E(rawValue: text) else {
            let options = E.allCases.map(\.rawValue).joined(separator: ", ")
            error("expected one of \(options), got \"\(text)\"")
            return nil
        }
        return value
    }

    /// A list of raw values of `E` (a single value is accepted as a one-element list).
    public func oneOfList<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> [E]? where E.RawValue == String {
        if node.scalar != nil { return oneOf(type).map { [$0] } }
        guard let items = list() else { return nil }
        return items.compactMap { $0.oneOf(type) }
    }
}
