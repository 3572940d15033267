import AMQPClient
import Foundation

/// CloudEvents over AMQP 0-9-1 (the RabbitMQ binding).
///
/// Reads binary mode (attributes in headers prefixed `ce-`, `cloudEvents_` or `cloudEvents:`,
/// data in the body, `datacontenttype` in the content-type property) and structured mode
/// (content-type `application/cloudevents+json`). Writes binary mode with `ce-` headers (or
/// structured on request), plus `message_id` = id, `type` = type, `timestamp`, delivery mode 2.
public enum AMQPCloudEventCodec {
    public enum Mode: String, Sendable, Hashable {
        case binary, structured
    }

    /// Header prefixes accepted on read, compared case-insensitively.
    public static let headerPrefixes = ["ce-", "cloudevents_", "cloudevents:"]

    /// The event in `message`, whichever mode it was written in.
    public static func decode(_ message: AMQPMessage) throws(CloudEventError) -> CloudEvent {
        if let contentType = message.properties.contentType,
            let format = HTTPCloudEventCodec.cloudEventsFormat(contentType)
        {
            guard format == .structured else {
                throw CloudEventError(
                    .unsupportedFormat, "content-type '\(contentType)' is not read from AMQP; use application/cloudevents+json",
                    attribute: "content-type")
            }
            let event = try CloudEventJSON.decode(message.body)
            // Headers are not where a structured event's attributes live, but one that names an
            // attribute of the body must agree with it.
            for (key, value) in message.properties.headers {
                guard let name = attributeName(key) else { continue }
                if name == "time" {
                    let date = try timeValue(value, header: key)
                    if let time = event.time, time != date {
                        throw CloudEventError.conflicting("time", RFC3339.format(time), RFC3339.format(date))
                    }
                } else {
                    try event.agrees(name, with: try stringValue(value, header: key, attribute: name))
                }
            }
            return event
        }
        return try decodeBinary(message)
    }

    /// Binary mode only. An attribute may come under more than one prefix (`ce-id` and
    /// `cloudEvents_id`) only with the same value; different values are `conflicting-attribute`
    /// (which one counted would depend on header order). Every value is checked against
    /// ``CloudEventLimits`` as it is read.
    public static func decodeBinary(_ message: AMQPMessage) throws(CloudEventError) -> CloudEvent {
        var attributes: [String: String] = [:]
        var time: Date?
        var sawAny = false
        for (key, value) in message.properties.headers {
            guard let name = attributeName(key) else { continue }
            sawAny = true
            if name == "time" {
                let date = try timeValue(value, header: key)
                if let time, time != date {
                    throw CloudEventError.conflicting("time", RFC3339.format(time), RFC3339.format(date))
                }
                time = date
                continue
            }
            let text = try stringValue(value, header: key, attribute: name)
            try CloudEventLimits.check(name, text, header: key)
            if let earlier = attributes.updateValue(text, forKey: name), earlier != text {
                throw CloudEventError.conflicting(name, earlier, text)
            }
        }
        guard sawAny else {
            throw CloudEventError(
                .notACloudEvent, "message has no CloudEvents headers (ce-*) and is not application/cloudevents+json")
        }
        var event = try CloudEvent(attributes: attributes, time: time)
        event.datacontenttype = try CloudEvent.bindingContentType(
            carried: message.properties.contentType, attribute: attributes["datacontenttype"], carrier: "content-type property")
        event.data = message.body.isEmpty ? nil : message.body
        return try event.validated()
    }

    /// The message for `event`. `now` stamps the AMQP timestamp when the event has no time.
    public static func encode(_ event: CloudEvent, mode: Mode = .binary, now: Date = Date()) -> AMQPMessage {
        var properties = AMQPProperties(deliveryMode: 2)
        properties.messageID = event.id
        properties.type = event.type
        properties.timestamp = UInt64(max(0, (event.time ?? now).timeIntervalSince1970.rounded(.down)))
        switch mode {
        case .binary:
            var headers: AMQPTable = [
                "ce-specversion": .string(event.specversion), "ce-id": .string(event.id),
                "ce-source": .string(event.source), "ce-type": .string(event.type),
            ]
            if let v = event.subject { headers["ce-subject"] = .string(v) }
            if let v = event.time { headers["ce-time"] = .string(RFC3339.format(v)) }
            if let v = event.dataschema { headers["ce-dataschema"] = .string(v) }
            for (name, value) in event.extensions { headers["ce-" + name] = .string(value) }
            properties.headers = headers
            properties.contentType = event.datacontenttype ?? "application/json"
            return AMQPMessage(body: event.data ?? Data(), properties: properties)
        case .structured:
            properties.contentType = CloudEventJSON.contentType
            return AMQPMessage(body: CloudEventJSON.encode(event), properties: properties)
        }
    }

    // MARK: Helpers

    /// `ce-id` / `cloudEvents_id` / `cloudEvents:id` → `id`; nil for other headers.
    static func attributeName(_ header: String) -> String? {
        guard let first = header.utf8.first, first == UInt8(ascii: "c") || first == UInt8(ascii: "C") else {
            return nil
        }
        let lower = header.lowercased()
        for prefix in headerPrefixes where lower.utf8.count > prefix.utf8.count && lower.hasPrefix(prefix) {
            return String(lower.dropFirst(prefix.count))
        }
        return nil
    }

    static func stringValue(_ value: AMQPFieldValue, header: String, attribute: String) throws(CloudEventError)
        -> String
    {
        switch value {
        case .string(let s): return s
        case .bytes(let b):
            guard let s = String(validating: b, as: UTF8.self) else {
                throw CloudEventError.invalid(attribute, "(header '\(CloudEventError.excerpt(header))') is not valid UTF-8")
            }
            return s
        case .bool(let b): return b ? "true" : "false"
        case .timestamp(let t):
            guard RFC3339.representable.contains(Double(t)) else {
                throw CloudEventError.invalid(attribute, "(header '\(CloudEventError.excerpt(header))') is a timestamp after the year 9999")
            }
            return RFC3339.format(Date(timeIntervalSince1970: Double(t)))
        case .float(let f): return "\(f)"
        case .double(let d): return "\(d)"
        default:
            if let i = value.intValue { return String(i) }
            throw CloudEventError.invalid(attribute, "(header '\(CloudEventError.excerpt(header))') must be a string")
        }
    }

    /// `time` from a header: an AMQP timestamp or integer (seconds since 1970) within years
    /// 0000-9999 (``RFC3339/representable``), or RFC 3339 text.
    static func timeValue(_ value: AMQPFieldValue, header: String) throws(CloudEventError) -> Date {
        func instant(_ seconds: Double) throws(CloudEventError) -> Date {
            guard RFC3339.representable.contains(seconds) else {
                throw CloudEventError(
                    .invalidTime, "attribute 'time' (header '\(CloudEventError.excerpt(header))') is a timestamp outside the years 0000-9999",
                    attribute: "time")
            }
            return Date(timeIntervalSince1970: seconds)
        }
        switch value {
        case .timestamp(let t): return try instant(Double(t))
        case .string, .bytes:
            let text = try stringValue(value, header: header, attribute: "time")
            try CloudEventLimits.check("time", text, header: header)
            guard let date = RFC3339.parse(text) else {
                throw CloudEventError(.invalidTime, "attribute 'time' (header '\(CloudEventError.excerpt(header))') is not RFC 3339: \(text)", attribute: "time")
            }
            return date
        default:
            if let seconds = value.intValue { return try instant(Double(seconds)) }
            throw CloudEventError(.invalidTime, "attribute 'time' (header '\(CloudEventError.excerpt(header))') must be a timestamp", attribute: "time")
        }
    }
}

extension CloudEvent {
    /// The `datacontenttype` of a binary-mode event: the binding's content type (`carried`), or a
    /// `datacontenttype` attribute; both may be given only with the same value. Checked against
    /// ``CloudEventLimits``.
    static func bindingContentType(carried: String?, attribute: String?, carrier: String) throws(CloudEventError) -> String? {
        if let carried {
            try CloudEventLimits.check("datacontenttype", carried, header: carrier)
            if let attribute, attribute != carried { throw CloudEventError.conflicting("datacontenttype", carried, attribute) }
        }
        return carried ?? attribute
    }

    /// Throws `conflicting-attribute` when the event has attribute `name` with another value than
    /// `value` (a binding header beside a structured event).
    func agrees(_ name: String, with value: String) throws(CloudEventError) {
        if let own = attribute(name), own != value { throw CloudEventError.conflicting(name, own, value) }
    }

    /// Builds an event from binding attributes (all but `time`, `datacontenttype` and data).
    init(attributes: [String: String], time: Date?) throws(CloudEventError) {
        guard let specversion = attributes["specversion"] else { throw .missing("specversion") }
        guard specversion == CloudEvent.specVersion else {
            throw CloudEventError(
                .unsupportedSpecVersion, "attribute 'specversion' must be 1.0, got '\(specversion)'",
                attribute: "specversion")
        }
        guard let id = attributes["id"] else { throw .missing("id") }
        guard let source = attributes["source"] else { throw .missing("source") }
        guard let type = attributes["type"] else { throw .missing("type") }
        self.init(
            id: id, source: source, type: type, subject: attributes["subject"], time: time,
            dataschema: attributes["dataschema"])
        for (name, value) in attributes {
            switch name {
            case "specversion", "id", "source", "type", "subject", "dataschema": continue
            case "datacontenttype": continue  // carried by the content type
            default:
                try CloudEvent.checkExtensionName(name)
                extensions[name] = value
            }
        }
    }
}
