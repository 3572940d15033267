import Foundation
import Logging

/// The settings every ITR service reads at start-up (see the contract's table).
///
/// Values come from the environment; command-line flags with the same names
/// (`--amqp-url`, `--http-host`, `--http-port`, `--data-dir`, `--config-dir`, `--log-level`,
/// either `--flag value` or `--flag=value`) override them.
public struct ServiceSettings: Sendable, Hashable {
    /// The product (executable) name: `intake`, `itr-router`, `ltc-extractor`, `ipd-feedback`.
    public var product: String
    public var amqpURL: String
    public var httpHost: String
    public var httpPort: Int
    public var dataDirectory: String
    public var configDirectory: String
    public var logLevel: Logger.Level

    public static let defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/%2f"
    public static let defaultHTTPHost = "127.0.0.1"
    public static let defaultConfigDirectory = "./deploy/config"

    /// The default HTTP port of each product; other products default to 8080.
    public static let defaultHTTPPorts: [String: Int] = [
        "intake": 8080, "itr-router": 8081, "ltc-extractor": 8082, "ipd-feedback": 8083,
    ]

    /// The settings with every default for `product`.
    public init(product: String) {
        self.product = product
        self.amqpURL = Self.defaultAMQPURL
        self.httpHost = Self.defaultHTTPHost
        self.httpPort = Self.defaultHTTPPorts[product] ?? 8080
        self.dataDirectory = "./data/\(product)"
        self.configDirectory = Self.defaultConfigDirectory
        self.logLevel = .info
    }

    /// Reads the settings from `environment`, then applies the flags in `arguments`
    /// (the first element is the program name, as in `CommandLine.arguments`).
    public init(
        product: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        arguments: [String] = CommandLine.arguments
    ) throws(ServiceSettingsError) {
        self.init(product: product)
        var values: [Variable: String] = [:]
        for variable in Variable.allCases {
            if let value = environment[variable.rawValue] { values[variable] = value }
        }
        var index = arguments.index(after: arguments.startIndex)
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                throw ServiceSettingsError(code: .helpRequested, variable: "--help", message: Self.usage(product: product))
            }
            var flag = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                flag = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let variable = Variable.allCases.first(where: { $0.flag == flag }) else {
                throw ServiceSettingsError(
                    code: .unknownFlag, variable: argument,
                    message: "unknown argument; expected one of \(Variable.allCases.map(\.flag).joined(separator: ", "))")
            }
            if let inlineValue {
                values[variable] = inlineValue
            } else {
                guard index < arguments.endIndex else {
                    throw ServiceSettingsError(
                        code: .missingValue, variable: variable.rawValue, message: "flag \(flag) needs a value")
                }
                values[variable] = arguments[index]
                index += 1
            }
        }
        for (variable, value) in values {
            try apply(variable, value)
        }
    }

    /// The usage text printed for `--help`.
    public static func usage(product: String) -> String {
        let defaults = ServiceSettings(product: product)
        return """
            usage: \(product) [--amqp-url URL] [--http-host HOST] [--http-port PORT] [--data-dir DIR] [--config-dir DIR] [--log-level LEVEL]
            Each flag overrides the environment variable of the same name:
              AMQP_URL    broker URL (default \(defaults.amqpURL))
              HTTP_HOST   HTTP listener address (default \(defaults.httpHost))
              HTTP_PORT   HTTP listener port (default \(defaults.httpPort))
              DATA_DIR    SQLite directory (default \(defaults.dataDirectory))
              CONFIG_DIR  rules and catalogue (default \(defaults.configDirectory))
              LOG_LEVEL   debug, info, warning or error (default info)
            """
    }

    /// The path of the product's SQLite database: `DATA_DIR/<product>.sqlite`.
    public var databasePath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(product).sqlite").path
    }

    enum Variable: String, CaseIterable {
        case amqpURL = "AMQP_URL"
        case httpHost = "HTTP_HOST"
        case httpPort = "HTTP_PORT"
        case dataDirectory = "DATA_DIR"
        case configDirectory = "CONFIG_DIR"
        case logLevel = "LOG_LEVEL"

        var flag: String { "--" + rawValue.lowercased().replacingOccurrences(of: "_", with: "-") }
    }

    private mutating func apply(_ variable: Variable, _ raw: String) throws(ServiceSettingsError) {
        func invalid(_ expected: String) -> ServiceSettingsError {
            // Never echo a broker password into logs.
            let shown = variable == .amqpURL ? raw.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression) : raw
            return ServiceSettingsError(code: .invalidValue, variable: variable.rawValue, message: "expected \(expected), got \"\(shown)\"")
        }
        let value = raw.trimmingCharacters(in: .whitespaces)
        switch variable {
        case .amqpURL:
            guard let components = URLComponents(string: value),
                let scheme = components.scheme?.lowercased(), scheme == "amqp" || scheme == "amqps",
                let host = components.host, !host.isEmpty
            else { throw invalid("an amqp:// or amqps:// URL with a host") }
            if let port = components.port, !(1...65535).contains(port) { throw invalid("an amqp:// or amqps:// URL with a port 1-65535") }
            amqpURL = value
        case .httpHost:
            guard !value.isEmpty, !value.contains(where: \.isWhitespace) else { throw invalid("a host name or address") }
            httpHost = value
        case .httpPort:
            guard let port = Int(value), (1...65535).contains(port) else { throw invalid("a port 1-65535") }
            httpPort = port
        case .dataDirectory:
            guard !value.isEmpty else { throw invalid("a directory path") }
            dataDirectory = value
        case .configDirectory:
            guard !value.isEmpty else { throw invalid("a directory path") }
            configDirectory = value
        case .logLevel:
            switch value.lowercased() {
            case "debug": logLevel = .debug
            case "info": logLevel = .info
            case "warning": logLevel = .warning
            case "error": logLevel = .error
            default: throw invalid("one of debug, info, warning, error")
            }
        }
    }
}
