#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A swift-log backend writing one JSON object per line:
///
///     {"ts":"2025-03-01T08:15:30.123Z","level":"info","service":"intake","logger":"amqp","msg":"connected","ticket_id":"T-1"}
///
/// Metadata is flattened into the object (conventional keys: `ticket_id`, `event_id`,
/// `trace_id`); keys that collide with the fixed ones are prefixed with `_`. Nested
/// dictionaries and arrays become JSON objects and arrays.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public let label: String
    public let service: String
    /// `ITR_INSTANCE`, when several instances of the service run (the `instance` field).
    public let instance: String?
    private let sink: any LogLineSink

    public init(
        label: String, service: String, instance: String? = nil, level: Logger.Level = .info,
        sink: any LogLineSink = FileDescriptorLogSink.standardOutput,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.service = service
        self.instance = instance
        self.logLevel = level
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata {
            merged.merge(explicit) { _, new in new }
        }
        var line = "{\"ts\":\""
        line += Self.timestamp()
        line += "\",\"level\":\""
        line += event.level.rawValue
        line += "\",\"service\":"
        Self.appendString(service, to: &line)
        if let instance {
            line += ",\"instance\":"
            Self.appendString(instance, to: &line)
        }
        line += ",\"logger\":"
        Self.appendString(label, to: &line)
        line += ",\"msg\":"
        Self.appendString(event.message.description, to: &line)
        for key in merged.keys.sorted() {
            line += ","
            Self.appendString(Self.reservedKeys.contains(key) ? "_" + key : key, to: &line)
            line += ":"
            Self.appendValue(merged[key]!, to: &line)
        }
        if event.level >= .error {
            line += ",\"source_location\":"
            Self.appendString("\(event.file):\(event.line)", to: &line)
        }
        line += "}"
        sink.write(line: line)
    }

    static let reservedKeys: Set<String> = ["ts", "level", "service", "instance", "logger", "msg", "source_location"]

    /// Current time as RFC 3339 UTC with milliseconds: `2025-03-01T08:15:30.123Z`.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000)
    }

    static func format(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
            + "." + pad(Int32(milliseconds), 3) + "Z"
    }

    static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &line)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &line)
        case .dictionary(let dictionary):
            line += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                appendValue(dictionary[key]!, to: &line)
            }
            line += "}"
        case .array(let array):
            line += "["
            for (index, element) in array.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        }
    }

    /// Appends `string` as a JSON string literal (RFC 8259 escaping; non-ASCII kept as UTF-8).
    static func appendString(_ string: String, to line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}

private let loggingBootstrapped = Mutex(false)

/// Bootstraps swift-log with ``JSONLogHandler`` on stdout for `service` at `level`.
/// Only the first call in a process has an effect (swift-log may be bootstrapped once).
/// Returns a logger labelled with the service name.
@discardableResult
public func bootstrapLogging(
    service: String, instance: String? = nil, level: Logger.Level, sink: any LogLineSink = FileDescriptorLogSink.standardOutput
) -> Logger {
    let first = loggingBootstrapped.withLock { done in
        defer { done = true }
        return !done
    }
    if first {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, service: service, instance: instance, level: level, sink: sink)
        }
    }
    var logger = Logger(label: service)
    logger.logLevel = level
    return logger
}
