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
    /// `ITR_CLOCK_SPEED`: 1 (default) is wall time; above 1 every real second is that many
    /// seconds on the deployment's clock (demonstrations: breaches happen during a replay).
    public var clockSpeed: Double
    /// `ITR_CLOCK_EPOCH`: Unix seconds from which the accelerated clock runs ahead. Required
    /// with a speed above 1 and the same for every service of the deployment.
    public var clockEpoch: Double?
    /// `ITR_CLOCK_START`: what the clock reads at the epoch (RFC 3339 or Unix seconds; default
    /// the epoch itself). Pins the deployment to a date, e.g. for a reproducible test.
    public var clockStart: Double?
    /// `ITR_SQLITE_CACHE_KIB`: the SQLite page cache of the service's writer connection, in KiB
    /// (default 2,000, SQLite's own default). Resident memory grows by up to this much; a larger
    /// cache keeps more of a big store's index pages in memory.
    public var sqliteCacheKiB: Int
    /// `ITR_INBOX_RETENTION_DAYS`: how long de-duplication records are kept (default 30 days,
    /// 1 to 3650). A duplicate arriving later is processed again (see ``RetentionService``), so
    /// keep it beyond any redelivery or replay horizon.
    public var inboxRetentionDays: Int
    /// `ITR_CONFIG_WATCH_SECONDS`: how often the configuration directory (and its `models/`) is
    /// checked for changed files, which are then reloaded as on SIGHUP (default 2; 0: only SIGHUP).
    public var configWatchSeconds: Double
    /// `HTTP_IDLE_TIMEOUT_SECONDS`: a connection that sends nothing for this long (between
    /// requests, or in the middle of a request's head: a slow client) is closed (default 30).
    public var httpIdleTimeoutSeconds: Double
    /// `HTTP_RATE_LIMIT`: requests per second per credential (bearer token; one shared bucket
    /// for requests without one), bursts of twice that; beyond, 429 with `Retry-After`.
    /// `/healthz`, `/readyz` and `/metrics` are not counted. Default 1000; 0 turns it off.
    public var httpRateLimit: Double
    /// `METRICS_HOST`: the address of the metrics listener, which serves `/metrics`, `/healthz`
    /// and `/readyz` without a token (default 127.0.0.1: only this host can read it).
    public var metricsHost: String
    /// `METRICS_PORT`: its port (default the HTTP port + 1000: intake 9080, itr-router 9081, ...;
    /// 0 = no metrics listener, `/metrics` then only on the main listener with `metrics:read`).
    public var metricsPortSetting: Int?
    /// `ITR_INSTANCE`: this instance's name (one of several of a service) in its logs, its
    /// `itr_instance_info` metric, its broker connection names and consumer tags; default the
    /// host name and the process id.
    public var instance: String
    /// `DATABASE_URL` (or `DATABASE_URL_FILE`): the service stores in PostgreSQL, in a schema
    /// named after the product; nil: SQLite in `DATA_DIR`. Checked when read; never logged (it
    /// may hold a password). Only a service whose store is written for both engines takes it
    /// (``ITRServiceHost`` refuses it, with a reason, for the others).
    public var databaseURL: String?
    /// `ITR_OUTBOX_OWNER_TIMEOUT_SECONDS`: on PostgreSQL, how long an instance may say nothing
    /// before another adopts its outbox rows (it says it is alive every sixth of that).
    public var outboxOwnerTimeoutSeconds: Double

    public static let defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/%2f"
    /// The host name and the process id, e.g. `worker-3-4711`.
    public static var defaultInstance: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host.isEmpty ? "host" : host)-\(getpid())"
    }
    public static let defaultHTTPHost = "127.0.0.1"
    public static let defaultConfigDirectory = "./deploy/config"
    public static let defaultInboxRetentionDays = 30

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
        self.clockSpeed = 1
        self.clockEpoch = nil
        self.clockStart = nil
        self.sqliteCacheKiB = ServiceStore.defaultWriterCacheKiB
        self.inboxRetentionDays = Self.defaultInboxRetentionDays
        self.configWatchSeconds = 2
        self.instance = Self.defaultInstance
        self.httpIdleTimeoutSeconds = 30
        self.httpRateLimit = 1000
        self.outboxOwnerTimeoutSeconds = 30
        self.metricsHost = Self.defaultHTTPHost
        self.metricsPortSetting = nil
    }

    /// The metrics listener's port, nil when there is none (see ``metricsPortSetting``).
    public var metricsPort: Int? {
        if let metricsPortSetting { return metricsPortSetting == 0 ? nil : metricsPortSetting }
        return httpPort + 1000 <= 65535 ? httpPort + 1000 : nil
    }

    /// ``inboxRetentionDays`` in seconds (days of 86,400 seconds on the deployment's clock).
    public var inboxRetention: TimeInterval { TimeInterval(inboxRetentionDays) * 86_400 }

    /// Reads the settings from `environment`, then applies the flags in `arguments`
    /// (the first element is the program name, as in `CommandLine.arguments`).
    public init(
        product: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        arguments: [String] = CommandLine.arguments
    ) throws(ServiceSettingsError) {
        self.init(product: product)
        let environment = try SecretFiles.resolve(environment)
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
        if clockSpeed > 1 || clockStart != nil, clockEpoch == nil {
            throw ServiceSettingsError(
                code: .missingValue, variable: Variable.clockEpoch.rawValue,
                message: "an accelerated or pinned clock (ITR_CLOCK_SPEED/ITR_CLOCK_START) needs ITR_CLOCK_EPOCH, the same Unix seconds for every service")
        }
        if metricsPort == httpPort {
            throw ServiceSettingsError(
                code: .invalidValue, variable: Variable.metricsPort.rawValue,
                message: "the metrics listener needs a port of its own, not HTTP_PORT \(httpPort) (0 = no metrics listener)")
        }
    }

    /// The deployment's clock: wall time, or the ``ScaledClock`` of `ITR_CLOCK_SPEED`,
    /// `ITR_CLOCK_EPOCH` and `ITR_CLOCK_START`.
    public var clock: any ServiceClock {
        guard clockSpeed > 1 || clockStart != nil, let clockEpoch else { return SystemClock() }
        return ScaledClock(
            epoch: Date(timeIntervalSince1970: clockEpoch), speed: clockSpeed,
            start: clockStart.map { Date(timeIntervalSince1970: $0) })
    }

    /// The usage text printed for `--help`.
    public static func usage(product: String) -> String {
        let defaults = ServiceSettings(product: product)
        return """
            usage: \(product) [--amqp-url URL] [--http-host HOST] [--http-port PORT] [--data-dir DIR] [--config-dir DIR] [--log-level LEVEL]
            Each flag overrides the environment variable of the same name:
              AMQP_URL    broker URL, or a cluster's node URLs comma-separated (default \(defaults.amqpURL))
              HTTP_HOST   HTTP listener address (default \(defaults.httpHost))
              HTTP_PORT   HTTP listener port (default \(defaults.httpPort))
              DATA_DIR    SQLite directory (default \(defaults.dataDirectory))
              CONFIG_DIR  rules and catalogue (default \(defaults.configDirectory))
              LOG_LEVEL   debug, info, warning or error (default info)
              ITR_CLOCK_SPEED  1 = wall time (default); N > 1 runs the deployment's clock N times faster (demonstrations)
              ITR_CLOCK_EPOCH  Unix seconds the accelerated clock starts from; required with a speed > 1, the same for every service
              ITR_CLOCK_START  what the clock reads at the epoch (RFC 3339 or Unix seconds; default the epoch): pins a date
              ITR_SQLITE_CACHE_KIB  SQLite page cache of the writer connection in KiB (default \(defaults.sqliteCacheKiB))
              ITR_INBOX_RETENTION_DAYS  days de-duplication records are kept, 1-3650 (default \(defaults.inboxRetentionDays)); later duplicates are processed again
              ITR_CONFIG_WATCH_SECONDS  how often CONFIG_DIR is checked for changed files, reloaded as on SIGHUP (default 2; 0 = SIGHUP only)
              HTTP_IDLE_TIMEOUT_SECONDS  a connection silent this long (idle, or a slow request head) is closed (default 30)
              HTTP_RATE_LIMIT  requests per second per bearer token, bursts of twice that, else 429 (default 1000; 0 = off)
              METRICS_HOST, METRICS_PORT  the open /metrics listener (default 127.0.0.1, HTTP_PORT + 1000; port 0 = none)
              API_TOKENS, API_TOKENS_FILE  bearer tokens: SHA-256, identity and scopes (see README "Who may do what")
              AMQP_URL_FILE, AMQP_PASSWORD(_FILE), DATABASE_URL_FILE  secrets as files; the password goes into AMQP_URL's user
              DATABASE_URL  postgres://user:pass@host:port/db[?sslmode=require]: store in PostgreSQL, schema named after the product (default: SQLite in DATA_DIR)
              ITR_INSTANCE  this instance's name in logs, metrics, connection names, consumer tags (default host-pid)
              ITR_OUTBOX_OWNER_TIMEOUT_SECONDS  on PostgreSQL, silence after which another instance relays this one's outbox (default 30)
            """
    }

    static func isHost(_ value: String) -> Bool { !value.isEmpty && !value.contains(where: \.isWhitespace) }

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
        case clockSpeed = "ITR_CLOCK_SPEED"
        case clockEpoch = "ITR_CLOCK_EPOCH"
        case clockStart = "ITR_CLOCK_START"
        case sqliteCacheKiB = "ITR_SQLITE_CACHE_KIB"
        case inboxRetentionDays = "ITR_INBOX_RETENTION_DAYS"
        case configWatchSeconds = "ITR_CONFIG_WATCH_SECONDS"
        case httpIdleTimeoutSeconds = "HTTP_IDLE_TIMEOUT_SECONDS"
        case httpRateLimit = "HTTP_RATE_LIMIT"
        case metricsHost = "METRICS_HOST"
        case metricsPort = "METRICS_PORT"
        case databaseURL = "DATABASE_URL"
        case instance = "ITR_INSTANCE"
        case outboxOwnerTimeoutSeconds = "ITR_OUTBOX_OWNER_TIMEOUT_SECONDS"

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
            // One URL, or a cluster's nodes comma-separated (AMQPConfiguration checks that they agree).
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let components = URLComponents(string: part.trimmingCharacters(in: .whitespaces)),
                    let scheme = components.scheme?.lowercased(), scheme == "amqp" || scheme == "amqps",
                    let host = components.host, !host.isEmpty
                else { throw invalid("an amqp:// or amqps:// URL with a host (or several, comma-separated)") }
                if let port = components.port, !(1...65535).contains(port) { throw invalid("an amqp:// or amqps:// URL with a port 1-65535") }
            }
            amqpURL = value
        case .httpHost:
            guard Self.isHost(value) else { throw invalid("a host name or address") }
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
        case .clockSpeed:
            guard let speed = Double(value), speed.isFinite, speed >= 1, speed <= 100_000 else {
                throw invalid("a number from 1 to 100000")
            }
            clockSpeed = speed
        case .clockEpoch:
            guard !value.isEmpty else { clockEpoch = nil; return }
            guard let seconds = Double(value), seconds.isFinite, seconds >= 0 else { throw invalid("Unix seconds") }
            clockEpoch = seconds
        case .sqliteCacheKiB:
            guard let kib = Int(value), (64...1_048_576).contains(kib) else { throw invalid("KiB from 64 to 1048576") }
            sqliteCacheKiB = kib
        case .inboxRetentionDays:
            guard let days = Int(value), (1...3650).contains(days) else { throw invalid("whole days from 1 to 3650") }
            inboxRetentionDays = days
        case .configWatchSeconds:
            guard let seconds = Double(value), seconds.isFinite, seconds == 0 || (0.1...3600).contains(seconds) else {
                throw invalid("0 (off) or seconds from 0.1 to 3600")
            }
            configWatchSeconds = seconds
        case .httpIdleTimeoutSeconds:
            guard let seconds = Double(value), seconds.isFinite, (0.1...3600).contains(seconds) else {
                throw invalid("seconds from 0.1 to 3600")
            }
            httpIdleTimeoutSeconds = seconds
        case .outboxOwnerTimeoutSeconds:
            guard let seconds = Double(value), seconds.isFinite, (1...3600).contains(seconds) else {
                throw invalid("seconds from 1 to 3600")
            }
            outboxOwnerTimeoutSeconds = seconds
        case .httpRateLimit:
            guard let rate = Double(value), rate.isFinite, rate == 0 || (0.1...1_000_000).contains(rate) else {
                throw invalid("0 (off) or requests per second from 0.1 to 1000000")
            }
            httpRateLimit = rate
        case .databaseURL:
            // Checked now, so a deployment learns at start what is wrong with it; the reasons
            // never echo the password.
            guard !value.isEmpty else { break }
            do {
                _ = try PostgresStoreSettings(url: value, schema: product)
            } catch {
                let why: String = if case .invalidURL(let why) = error { why } else { "\(error)" }
                throw ServiceSettingsError(code: .invalidValue, variable: variable.rawValue, message: why)
            }
            databaseURL = value
        case .metricsHost:
            guard Self.isHost(value) else { throw invalid("a host name or address") }
            metricsHost = value
        case .metricsPort:
            guard let port = Int(value), (0...65535).contains(port) else { throw invalid("0 (none) or a port 1-65535") }
            metricsPortSetting = port
        case .instance:
            guard (1...64).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else { throw invalid("1-64 letters, digits, '.', '_' or '-'") }
            instance = value
        case .clockStart:
            guard !value.isEmpty else { clockStart = nil; return }
            if let seconds = Double(value), seconds.isFinite, seconds >= 0 {
                clockStart = seconds
            } else if let date = ISO8601DateFormatter().date(from: value) {
                clockStart = date.timeIntervalSince1970
            } else {
                throw invalid("an RFC 3339 time (2026-11-23T06:00:00Z) or Unix seconds")
            }
        }
    }
}
