import Foundation

/// A CloudEvents 1.0 event: context attributes, extensions and the data as raw bytes.
///
/// The data stays as the bytes that arrived (or were encoded once), so a service that only
/// forwards or stores an event never re-encodes it. Use ``decodeData(_:)`` or
/// ``decodePayload(_:limits:)`` to read it, and ``init(source:payload:id:subject:time:extensions:)``
/// to build an event from a typed payload.
public struct CloudEvent: Sendable, Hashable {
    /// The only CloudEvents version this module reads and writes.
    public static let specVersion = "1.0"

    /// Attribute names that extensions may not use.
    public static let reservedAttributeNames: Set<String> = [
        "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data",
        "data_base64",
    ]

    public var specversion: String = CloudEvent.specVersion
    /// Unique within `source`; `source` + `id` identify the event (a repeat is a duplicate).
    public var id: String
    /// URI-reference of the producer, e.g. `//itr/intake` or `crm://cn-east/portal`.
    public var source: String
    /// The event type, e.g. `itr.report.submitted` (see ``EventType``).
    public var type: String
    public var subject: String?
    /// Occurrence time. Read from RFC 3339 with fractional seconds; written in UTC.
    public var time: Date?
    public var datacontenttype: String?
    public var dataschema: String?
    /// The data exactly as carried in the message body (binary mode) or the `data` member.
    public var data: Data?
    /// Extension attributes by name (1-64 characters of a-z, 0-9; see ``CloudEventLimits``). String-valued on the wire.
    public var extensions: [String: String]

    public init(
        id: String = CloudEvent.newID(), source: String, type: String, subject: String? = nil,
        time: Date? = Date(), datacontenttype: String? = nil, dataschema: String? = nil, data: Data? = nil,
        extensions: [String: String] = [:]
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.data = data
        self.extensions = extensions
    }

    /// An event whose data is `value` encoded as JSON (`datacontenttype` application/json).
    public init<T: Encodable>(
        id: String = CloudEvent.newID(), source: String, type: String, subject: String? = nil,
        time: Date? = Date(), dataschema: String? = nil, encoding value: T, extensions: [String: String] = [:]
    ) throws(CloudEventError) {
        let data: Data
        do {
            data = try EventCoding.encoder.encode(value)
        } catch {
            throw CloudEventError(.invalidData, "data could not be encoded as JSON: \(error)", attribute: "data")
        }
        self.init(
            id: id, source: source, type: type, subject: subject, time: time, datacontenttype: "application/json",
            dataschema: dataschema, data: data, extensions: extensions)
    }

    /// A fresh lowercase UUID, the id format this project writes.
    /// A random (version 4) UUID in lowercase. Built from `SystemRandomNumberGenerator`
    /// (getrandom) because Foundation's `UUID()` on Linux opens /dev/urandom on every call.
    public static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: a >> ($0 * 8)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> ($0 * 8)) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the data as JSON into `T`. Throws `invalid-data` naming the failing path.
    public func decodeData<T: Decodable>(_ type: T.Type = T.self) throws(CloudEventError) -> T {
        guard let data else { throw CloudEventError(.invalidData, "event has no data", attribute: "data") }
        switch EventCoding.decode(type, from: data) {
        case .success(let value): return value
        case .failure(let problems):
            throw CloudEventError(
                .invalidData, problems.description, attribute: "data")
        }
    }

    // MARK: Extensions

    /// Sets (or removes, with `nil`) an extension after checking its name.
    public mutating func setExtension(_ name: String, _ value: String?) throws(CloudEventError) {
        try Self.checkExtensionName(name)
        extensions[name] = value
    }

    /// Extension names are 1-64 characters of lowercase a-z and 0-9, and not a context attribute.
    /// CloudEvents asks producers for at most 20 (a SHOULD); longer names are read, since producers
    /// such as the Python SDK write them (``CloudEventLimits/maxExtensionNameLength``).
    public static func isValidExtensionName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= CloudEventLimits.maxExtensionNameLength else { return false }
        guard utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) else { return false }
        return !reservedAttributeNames.contains(name)
    }

    static func checkExtensionName(_ name: String) throws(CloudEventError) {
        guard isValidExtensionName(name) else {
            throw CloudEventError(
                .invalidExtensionName,
                "extension attribute '\(CloudEventError.excerpt(name))' must be 1-\(CloudEventLimits.maxExtensionNameLength) characters of a-z and 0-9 and not a context attribute",
                attribute: CloudEventError.excerpt(name))
        }
    }

    /// The string value of a context attribute other than `time`, or of an extension, by name.
    public func attribute(_ name: String) -> String? {
        switch name {
        case "specversion": specversion
        case "id": id
        case "source": source
        case "type": type
        case "subject": subject
        case "dataschema": dataschema
        case "datacontenttype": datacontenttype
        default: extensions[name]
        }
    }

    /// The id of the event that caused this one (`causationid`).
    public var causationID: String? {
        get { extensions[Extension.causationID] }
        set { extensions[Extension.causationID] = newValue }
    }

    /// The ticket this event belongs to (`correlationid`).
    public var correlationID: String? {
        get { extensions[Extension.correlationID] }
        set { extensions[Extension.correlationID] = newValue }
    }

    /// W3C trace context `traceparent`.
    public var traceparent: String? {
        get { extensions[Extension.traceparent] }
        set { extensions[Extension.traceparent] = newValue }
    }

    /// W3C trace context `tracestate`.
    public var tracestate: String? {
        get { extensions[Extension.tracestate] }
        set { extensions[Extension.tracestate] = newValue }
    }

    /// Names of the extensions this project uses.
    public enum Extension {
        public static let causationID = "causationid"
        public static let correlationID = "correlationid"
        public static let traceparent = "traceparent"
        public static let tracestate = "tracestate"
    }

    // MARK: Causation

    /// A new event caused by `cause`: `causationid` = the cause's id, `correlationid` copied from
    /// the cause (or `correlationID` when given, e.g. the ticket id intake just opened), and
    /// `traceparent` / `tracestate` copied when the cause carried them.
    public static func caused(
        by cause: CloudEvent, id: String = CloudEvent.newID(), source: String, type: String,
        subject: String? = nil, time: Date? = Date(), datacontenttype: String? = "application/json",
        dataschema: String? = nil, data: Data? = nil, correlationID: String? = nil
    ) -> CloudEvent {
        var event = CloudEvent(
            id: id, source: source, type: type, subject: subject, time: time, datacontenttype: datacontenttype,
            dataschema: dataschema, data: data)
        event.inheritContext(from: cause, correlationID: correlationID)
        return event
    }

    /// A new event with a typed payload, caused by `cause` (see ``caused(by:id:source:type:subject:time:datacontenttype:dataschema:data:correlationID:)``).
    public static func caused<P: EventPayload>(
        by cause: CloudEvent, source: String, payload: P, id: String = CloudEvent.newID(), subject: String? = nil,
        time: Date? = Date(), correlationID: String? = nil
    ) throws(CloudEventError) -> CloudEvent {
        var event = try CloudEvent(source: source, payload: payload, id: id, subject: subject, time: time)
        event.inheritContext(from: cause, correlationID: correlationID)
        return event
    }

    mutating func inheritContext(from cause: CloudEvent, correlationID: String?) {
        causationID = cause.id
        self.correlationID = correlationID ?? cause.correlationID
        if let tp = cause.traceparent {
            traceparent = tp
            tracestate = cause.tracestate
        }
    }

    // MARK: Validation

    /// Checks the required attributes, extension names and the number of extensions; throws the
    /// first violation. (Value lengths are checked by the codecs as they read each value.)
    public func validated() throws(CloudEventError) -> CloudEvent {
        guard specversion == Self.specVersion else {
            throw CloudEventError(
                .unsupportedSpecVersion, "attribute 'specversion' must be 1.0, got '\(specversion)'",
                attribute: "specversion")
        }
        if id.isEmpty { throw .invalid("id", "must be a non-empty string") }
        if source.isEmpty { throw .invalid("source", "must be a non-empty URI-reference") }
        if type.isEmpty { throw .invalid("type", "must be a non-empty string") }
        if let subject, subject.isEmpty { throw .invalid("subject", "must not be empty when present") }
        if let dataschema, dataschema.isEmpty { throw .invalid("dataschema", "must not be empty when present") }
        if let ct = datacontenttype, ct.isEmpty {
            throw .invalid("datacontenttype", "must not be empty when present")
        }
        for name in extensions.keys { try Self.checkExtensionName(name) }
        if extensions.count > CloudEventLimits.maxExtensions {
            throw CloudEventError(
                .tooManyExtensions, "the event carries \(extensions.count) extension attributes, more than \(CloudEventLimits.maxExtensions)")
        }
        return self
    }

    /// Every problem with the envelope, as paths from the event root (`id`, `time`, `data`, ...).
    public func validate(limits: ReportLimits = .default, now: Date = Date()) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        if specversion != Self.specVersion {
            problems.append(.init(path: "specversion", code: .unknownValue, message: "must be 1.0"))
        }
        for (name, value) in [("id", id), ("source", source), ("type", type)] {
            if value.isEmpty {
                problems.append(.init(path: name, code: .missing, message: "\(name) is required"))
            } else if value.utf8.count > CloudEventLimits.maxBytes(ofAttribute: name) {
                problems.append(
                    .init(path: name, code: .tooLong, message: "longer than \(CloudEventLimits.maxBytes(ofAttribute: name)) bytes"))
            }
        }
        if let time { Validator.checkTime(time, at: "time", limits: limits, now: now, into: &problems) }
        for name in extensions.keys.sorted() where !Self.isValidExtensionName(name) {
            problems.append(.init(path: name, code: .invalidFormat, message: "invalid extension attribute name"))
        }
        if let data, data.count > limits.maxBodyBytes {
            problems.append(.init(path: "data", code: .tooLarge, message: "larger than \(limits.maxBodyBytes) bytes"))
        }
        return problems
    }

    /// True when `datacontenttype` is absent or names JSON (`application/json`, `text/json`, `*+json`).
    public var hasJSONData: Bool { Self.isJSONContentType(datacontenttype) }

    static func isJSONContentType(_ contentType: String?) -> Bool {
        guard let contentType else { return true }
        if contentType == "application/json" { return true }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        return media == "application/json" || media == "text/json" || media.hasSuffix("+json")
    }
}
