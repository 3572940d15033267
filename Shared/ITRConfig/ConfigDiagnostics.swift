/// Collects located errors while one configuration bundle is decoded.
///
/// A reference type on purpose: every `ConfigNode` of one load shares it. It is used
/// by one task at a time and never escapes a load.
public final class ConfigDiagnostics {
    public private(set) var errors: [ConfigError] = []

    public init() {}

    public func report(_ error: ConfigError) {
        errors.append(error)
    }

    public func report(file: String, line: Int = 0, column: Int = 0, field: String = "", _ message: String) {
        errors.append(ConfigError(file: file, line: line, column: column, field: field, message: message))
    }
}
