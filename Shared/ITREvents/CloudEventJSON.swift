import Foundation

/// The CloudEvents JSON event format (structured mode, `application/cloudevents+json`) and the
/// JSON batch format (`application/cloudevents-batch+json`).
///
/// Reading walks the bytes once, strictly (RFC 8259, UTF-8, no member twice, nesting capped: see
/// `JSONScanner`), each attribute checked against ``CloudEventLimits``: attributes are decoded
/// as strings, `data` is kept as the exact bytes of its JSON value (no re-encoding, so non-ASCII
/// text is byte-identical), `data_base64` is base64-decoded. Writing emits `data` raw when the content type is JSON and the bytes are
/// well-formed JSON, `data_base64` otherwise. Non-ASCII is never escaped; nor is `/`.
public enum CloudEventJSON {
    public static let contentType = "application/cloudevents+json"
    public static let batchContentType = "application/cloudevents-batch+json"

    // MARK: Reading

    /// Parses one structured-mode event.
    public static func decode(_ body: Data) throws(CloudEventError) -> CloudEvent {
        let result: Result<CloudEvent, CloudEventError> = body.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            return Result { () throws(CloudEventError) in try decode(bytes: bytes) }
        }
        return try result.get()
    }

    /// Parses a batch: a JSON array of structured events. A malformed array throws; each element
    /// is then parsed on its own, so one bad element does not spoil the others.
    public static func decodeBatch(_ body: Data) throws(CloudEventError) -> [Result<CloudEvent, CloudEventError>] {
        let result: Result<[Result<CloudEvent, CloudEventError>], CloudEventError> = body.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var scanner = JSONScanner(bytes)
            // Each element is read again on its own, member names checked there: an element that
            // names a member twice is refused alone.
            scanner.refusesDuplicateNames = false
            let elements: [JSONScanner.Value]
            do {
                elements = try scanner.arrayElements()
            } catch let error as JSONScanner.Failure {
                return .failure(CloudEventError(error, in: "batch"))
            } catch {
                return .failure(CloudEventError(.malformedJSON, "batch is not a JSON array of events"))
            }
            return .success(
                elements.enumerated().map { index, element in
                    guard element.kind == .object else {
                        return .failure(CloudEventError(.malformedJSON, "batch element \(index) is not a JSON object"))
                    }
                    let slice = UnsafeBufferPointer(rebasing: bytes[element.range])
                    return Result { () throws(CloudEventError) in try decode(bytes: slice) }
                })
        }
        return try result.get()
    }

    static func decode(bytes: UnsafeBufferPointer<UInt8>) throws(CloudEventError) -> CloudEvent {
        var scanner = JSONScanner(bytes)
        var specversion: String?
        var id: String?
        var source: String?
        var type: String?
        var event = CloudEvent(id: "", source: "", type: "", time: nil)
        var dataValue: JSONScanner.Value?
        var dataBase64: String?

        /// An attribute's string (nil for null), checked against ``CloudEventLimits``.
        func string(_ name: String, _ value: JSONScanner.Value, _ s: JSONScanner) throws -> String? {
            switch value.kind {
            case .string:
                let text = try s.decodeString(value)
                try CloudEventLimits.check(name, text)
                return text
            case .literal where s.rawText(value) == "null": return nil
            default: throw CloudEventError.invalid(name, "must be a string")
            }
        }

        do {
            let s = scanner
            try scanner.forEachMember { name, value in
                switch name {
                case "specversion": specversion = try string(name, value, s)
                case "id": id = try string(name, value, s)
                case "source": source = try string(name, value, s)
                case "type": type = try string(name, value, s)
                case "subject": event.subject = try string(name, value, s)
                case "datacontenttype": event.datacontenttype = try string(name, value, s)
                case "dataschema": event.dataschema = try string(name, value, s)
                case "time":
                    if let text = try string(name, value, s) {
                        guard let date = RFC3339.parse(text) else {
                            throw CloudEventError(.invalidTime, "attribute 'time' is not RFC 3339: \(text)", attribute: "time")
                        }
                        event.time = date
                    }
                case "data": dataValue = value
                case "data_base64":
                    // The data, not an attribute: bounded by the body's limit only.
                    guard value.kind == .string else {
                        if value.kind == .literal, s.rawText(value) == "null" { break }
                        throw CloudEventError.invalid(name, "must be a string")
                    }
                    dataBase64 = try s.decodeString(value)
                default:
                    try CloudEvent.checkExtensionName(name)
                    switch value.kind {
                    case .string: event.extensions[name] = try string(name, value, s)
                    case .number:
                        let text = s.rawText(value)
                        try CloudEventLimits.check(name, text)
                        event.extensions[name] = text
                    case .literal:
                        let text = s.rawText(value)
                        if text != "null" { event.extensions[name] = text }
                    case .object, .array:
                        throw CloudEventError.invalid(name, "must be a string, number or boolean")
                    }
                }
            }
        } catch let error as CloudEventError {
            throw error
        } catch let error as JSONScanner.Failure {
            throw CloudEventError(error, in: "structured event")
        } catch {
            throw CloudEventError(.malformedJSON, "\(error)")
        }

        guard let specversion else { throw .missing("specversion") }
        guard specversion == CloudEvent.specVersion else {
            throw CloudEventError(
                .unsupportedSpecVersion, "attribute 'specversion' must be 1.0, got '\(specversion)'",
                attribute: "specversion")
        }
        guard let id else { throw .missing("id") }
        guard let source else { throw .missing("source") }
        guard let type else { throw .missing("type") }
        event.id = id
        event.source = source
        event.type = type

        if let dataValue, dataBase64 != nil, !(dataValue.kind == .literal && scanner.rawText(dataValue) == "null") {
            throw CloudEventError.invalid("data_base64", "must not appear together with 'data'")
        }
        if let dataBase64 {
            guard let decoded = Data(base64Encoded: dataBase64, options: .ignoreUnknownCharacters) else {
                throw CloudEventError(.invalidBase64, "attribute 'data_base64' is not valid base64", attribute: "data_base64")
            }
            event.data = decoded
        } else if let dataValue {
            if dataValue.kind == .literal, scanner.rawText(dataValue) == "null" {
                event.data = nil
            } else if dataValue.kind == .string, !CloudEvent.isJSONContentType(event.datacontenttype) {
                // Non-JSON content carried as a JSON string: the data is the string's text.
                do {
                    event.data = Data(try scanner.decodeString(dataValue).utf8)
                } catch {
                    throw CloudEventError.invalid("data", "is not a valid JSON string")
                }
            } else {
                event.data = Data(UnsafeBufferPointer(rebasing: bytes[dataValue.range]))
            }
        }
        return try event.validated()
    }

    // MARK: Writing

    /// The structured-mode body of `event`.
    public static func encode(_ event: CloudEvent) -> Data {
        var writer = JSONWriter(capacity: 256 + (event.data?.count ?? 0) * 4 / 3)
        write(event, into: &writer)
        return Data(writer.bytes)
    }

    /// A batch body: a JSON array of structured events.
    public static func encodeBatch(_ events: [CloudEvent]) -> Data {
        var writer = JSONWriter(capacity: events.reduce(2) { $0 + 256 + ($1.data?.count ?? 0) * 4 / 3 })
        writer.raw("[")
        for (i, event) in events.enumerated() {
            if i > 0 { writer.raw(",") }
            write(event, into: &writer)
        }
        writer.raw("]")
        return Data(writer.bytes)
    }

    static func write(_ event: CloudEvent, into w: inout JSONWriter) {
        w.raw("{")
        var first = true
        w.member("specversion", event.specversion, first: &first)
        w.member("id", event.id, first: &first)
        w.member("source", event.source, first: &first)
        w.member("type", event.type, first: &first)
        if let v = event.subject { w.member("subject", v, first: &first) }
        if let v = event.time { w.member("time", RFC3339.format(v), first: &first) }
        if let v = event.datacontenttype { w.member("datacontenttype", v, first: &first) }
        if let v = event.dataschema { w.member("dataschema", v, first: &first) }
        for name in event.extensions.keys.sorted() {
            w.member(name, event.extensions[name]!, first: &first)
        }
        if let data = event.data {
            let embedRaw =
                event.hasJSONData
                && data.withUnsafeBytes { JSONScanner.isWellFormed($0.bindMemory(to: UInt8.self)) }
            if embedRaw {
                w.raw(",\"data\":")
                w.raw(data)
            } else {
                w.member("data_base64", data.base64EncodedString(), first: &first)
            }
        }
        w.raw("}")
    }
}
