/// One problem found in a configuration file, located by file, line, column and field path.
///
/// Printed as `deploy/config/catalogue.yaml:42:7: packages[1].targets.P2.response: expected a duration like "4h", got "soon"`.
public struct ConfigError: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file path as it was given to the loader (directory + file name).
    public var file: String
    /// Line number starting from 1 (0 when the error concerns the whole file or bundle).
    public var line: Int
    /// Column number starting from 1 (0 when unknown).
    public var column: Int
    /// Dotted field path inside the file, e.g. `packages[1].targets.P2.response` (empty for the document).
    public var field: String
    public var message: String

    public init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line > 0 ? "\(file):\(line):\(column)" : file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }

    public static func < (lhs: ConfigError, rhs: ConfigError) -> Bool {
        (lhs.file, lhs.line, lhs.column, lhs.field, lhs.message)
            < (rhs.file, rhs.line, rhs.column, rhs.field, rhs.message)
    }
}

/// Every problem found while loading a configuration directory: loading never stops at the first one.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// Sorted by file, line, column.
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors.sorted()
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
