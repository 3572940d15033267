import Foundation

/// CloudEvents over HTTP: binary mode (`ce-` headers, percent-encoded values, data in the body,
/// `Content-Type` = datacontenttype), structured mode (`application/cloudevents+json`) and
/// batch mode (`application/cloudevents-batch+json`).
public enum HTTPCloudEventCodec {
    /// What an HTTP request body held.
    public enum Body: Sendable, Hashable {
        /// One event (binary or structured mode).
        case single(CloudEvent)
        /// A batch; each element parsed on its own.
        case batch([Result<CloudEvent, CloudEventError>])
    }

    enum Format { case structured, batch, other }

    /// The CloudEvents format a content type names, or nil when it is not a CloudEvents format.
    static func cloudEventsFormat(_ contentType: String) -> Format? {
        let media = mediaType(contentType)
        if media == CloudEventJSON.contentType { return .structured }
        if media == CloudEventJSON.batchContentType { return .batch }
        if media.hasPrefix("application/cloudevents") { return .other }
        return nil
    }

    /// The lowercased media type without parameters: `Application/JSON; charset=utf-8` → `application/json`.
    static func mediaType(_ contentType: String) -> String {
        // Already bare and lower-case (what this project writes): nothing to cut, trim or fold.
        if contentType.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") && !(0x41...0x5A).contains($0) }) {
            return contentType
        }
        let end = contentType.firstIndex(of: ";") ?? contentType.endIndex
        return contentType[..<end].trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Parses a request (or response). Header names are matched case-insensitively.
    public static func decode(headers: [String: String], body: Data) throws(CloudEventError) -> Body {
        try decode(fields: headers.map { (name: $0.key, value: $0.value) }, body: body)
    }

    /// Parses a request (or response) from its header fields as they came, repeated names
    /// included. Names are matched case-insensitively; an attribute given twice (two `ce-id`
    /// fields, or `Content-Type` and `ce-datacontenttype`) must have the same value both times,
    /// else `conflicting-attribute`. Values are percent-decoded, must be UTF-8 then, and are
    /// checked against ``CloudEventLimits``.
    public static func decode<Fields: Sequence<(name: String, value: String)>>(fields: Fields, body: Data)
        throws(CloudEventError) -> Body
    {
        var contentType: String?
        var attributes: [String: String] = [:]
        for (name, value) in fields {
            let lower = name.lowercased()
            if lower == "content-type" {
                if let contentType, contentType != value {
                    throw CloudEventError.conflicting("datacontenttype", contentType, value)
                }
                contentType = value
            } else if lower.hasPrefix("ce-"), lower.utf8.count > 3 {
                let attribute = String(lower.dropFirst(3))
                guard let text = percentDecode(validating: value) else {
                    throw CloudEventError.invalid(
                        attribute, "(header '\(CloudEventError.excerpt(name))') is not UTF-8 once percent-decoded")
                }
                try CloudEventLimits.check(attribute, text, header: name)
                if let earlier = attributes.updateValue(text, forKey: attribute), earlier != text {
                    throw CloudEventError.conflicting(attribute, earlier, text)
                }
            }
        }
        if let contentType, let format = cloudEventsFormat(contentType) {
            switch format {
            case .structured:
                let event = try CloudEventJSON.decode(body)
                // A ce- header beside a structured event must agree with the body.
                for (name, value) in attributes {
                    if name == "time" {
                        if let time = event.time, RFC3339.parse(value) != time {
                            throw CloudEventError.conflicting("time", RFC3339.format(time), value)
                        }
                    } else {
                        try event.agrees(name, with: value)
                    }
                }
                return .single(event)
            case .batch: return .batch(try CloudEventJSON.decodeBatch(body))
            case .other:
                throw CloudEventError(
                    .unsupportedFormat, "content-type '\(CloudEventError.excerpt(contentType))' is not a supported CloudEvents format",
                    attribute: "content-type")
            }
        }
        guard !attributes.isEmpty else {
            throw CloudEventError(
                .notACloudEvent,
                "request has no ce- headers and is neither application/cloudevents+json nor a batch")
        }
        var time: Date?
        if let text = attributes.removeValue(forKey: "time") {
            guard let date = RFC3339.parse(text) else {
                throw CloudEventError(.invalidTime, "attribute 'time' (header 'ce-time') is not RFC 3339: \(text)", attribute: "time")
            }
            time = date
        }
        var event = try CloudEvent(attributes: attributes, time: time)
        event.datacontenttype = try CloudEvent.bindingContentType(
            carried: contentType, attribute: attributes["datacontenttype"], carrier: "Content-Type")
        event.data = body.isEmpty ? nil : body
        return .single(try event.validated())
    }

    /// Binary mode: headers (values percent-encoded where needed) and the data as body.
    public static func encodeBinary(_ event: CloudEvent) -> (headers: [String: String], body: Data) {
        var headers: [String: String] = [
            "ce-specversion": event.specversion, "ce-id": percentEncode(event.id),
            "ce-source": percentEncode(event.source), "ce-type": percentEncode(event.type),
        ]
        if let v = event.subject { headers["ce-subject"] = percentEncode(v) }
        if let v = event.time { headers["ce-time"] = RFC3339.format(v) }
        if let v = event.dataschema { headers["ce-dataschema"] = percentEncode(v) }
        for (name, value) in event.extensions { headers["ce-" + name] = percentEncode(value) }
        if let ct = event.datacontenttype {
            headers["Content-Type"] = ct
        } else if event.data != nil {
            headers["Content-Type"] = "application/json"
        }
        return (headers, event.data ?? Data())
    }

    /// Structured mode.
    public static func encodeStructured(_ event: CloudEvent) -> (headers: [String: String], body: Data) {
        (["Content-Type": CloudEventJSON.contentType + "; charset=utf-8"], CloudEventJSON.encode(event))
    }

    /// Batch mode.
    public static func encodeBatch(_ events: [CloudEvent]) -> (headers: [String: String], body: Data) {
        (["Content-Type": CloudEventJSON.batchContentType + "; charset=utf-8"], CloudEventJSON.encodeBatch(events))
    }

    // MARK: Percent-encoding (CloudEvents HTTP binding 3.1.3.2)

    /// Encodes space, `"`, `%`, and everything outside printable ASCII as UTF-8 percent escapes.
    public static func percentEncode(_ value: String) -> String {
        let utf8 = value.utf8
        if utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x25 }) { return value }
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(utf8.count * 3)
        for b in utf8 {
            if b > 0x20, b < 0x7F, b != 0x22, b != 0x25 {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (as UTF-8); malformed escapes are kept literally, and bytes that
    /// are not UTF-8 once decoded become U+FFFD (``percentDecode(validating:)`` refuses them).
    public static func percentDecode(_ value: String) -> String {
        percentDecodedBytes(value).map { String(decoding: $0, as: UTF8.self) } ?? value
    }

    /// Decodes `%XX` escapes like ``percentDecode(_:)``; nil when the result is not UTF-8.
    public static func percentDecode(validating value: String) -> String? {
        guard let bytes = percentDecodedBytes(value) else { return value }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes `value` stands for, or nil when it holds no `%` (nothing to decode).
    private static func percentDecodedBytes(_ value: String) -> [UInt8]? {
        guard value.utf8.contains(0x25) else { return nil }
        let bytes = Array(value.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x25, i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
