/// A setting (environment variable or command-line flag) that could not be accepted.
///
/// The description names the variable and says what was expected, e.g.
/// `HTTP_PORT: expected a port 1-65535, got "80a"`.
public struct ServiceSettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A value does not have the expected form.
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// A command-line flag is not known.
        public static let unknownFlag = Code(rawValue: "unknown-flag")
        /// A command-line flag was given without its value.
        public static let missingValue = Code(rawValue: "missing-value")
        /// `--help` was asked for; `message` holds the usage text.
        public static let helpRequested = Code(rawValue: "help-requested")
    }

    public var code: Code
    /// The environment variable the problem is about (`HTTP_PORT`), or the flag when unknown.
    public var variable: String
    public var message: String

    public init(code: Code, variable: String, message: String) {
        self.code = code
        self.variable = variable
        self.message = message
    }

    public var description: String {
        code == .helpRequested ? message : "\(variable): \(message)"
    }
}
