import AMQPClient
import Foundation
import ITREvents

/// At least thirty distinct kinds of bad input, each with the reason intake must give.
struct BadInput {
    var name: String
    var message: AMQPMessage
    var routingKey: String
    var reasonCode: String
    /// Must appear in the `x-itr-reason` header (a field path, a problem code, an attribute).
    var reasonFragment: String
}

enum BadInputs {
    static func binary(
        _ name: String, id: String? = nil, source: String? = "crm://test", type: String? = "itr.report.submitted",
        specversion: String = "1.0", body: Data, contentType: String? = "application/json", extra: AMQPTable = [:]
    ) -> AMQPMessage {
        var headers: AMQPTable = ["ce-specversion": .string(specversion), "x-test-case": .string(name)]
        if let id { headers["ce-id"] = .string(id) } else if id == nil { headers["ce-id"] = .string("bad-\(name)") }
        if let source { headers["ce-source"] = .string(source) }
        if let type { headers["ce-type"] = .string(type) }
        for (key, value) in extra { headers[key] = value }
        return AMQPMessage(body: body, properties: AMQPProperties(contentType: contentType, headers: headers, deliveryMode: 2))
    }

    static func goodJSON(_ channel: Channel = .phone) -> [String: Any] {
        let data = try! EventCoding.encode(makeReport(channel: channel, upstreamId: "BAD"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    static func mutated(_ channel: Channel = .phone, _ change: (inout [String: Any]) -> Void) -> Data {
        var object = goodJSON(channel)
        change(&object)
        return json(object)
    }

    static func all() -> [BadInput] {
        var cases: [BadInput] = []
        func add(_ name: String, _ message: AMQPMessage, _ code: String, _ fragment: String, key: String = "report.phone") {
            var message = message
            message.properties.headers["x-test-case"] = .string(name)
            cases.append(BadInput(name: name, message: message, routingKey: key, reasonCode: code, reasonFragment: fragment))
        }
        let good = json(goodJSON())
        let malformed = "malformed-event", failed = "validation-failed"

        // The envelope.
        add("no-cloudevent-headers", AMQPMessage(body: good, properties: AMQPProperties(contentType: "application/json", deliveryMode: 2)), malformed, "not-a-cloudevent")
        var noID = binary("missing-id", body: good)
        noID.properties.headers["ce-id"] = nil
        add("missing-id", noID, malformed, "'id'")
        add("missing-source", binary("missing-source", source: nil, body: good), malformed, "'source'")
        add("missing-type", binary("missing-type", type: nil, body: good), malformed, "'type'")
        add("wrong-specversion", binary("wrong-specversion", specversion: "0.3", body: good), malformed, "specversion")
        add("empty-id", binary("empty-id", id: "", body: good), malformed, "'id'")
        add("bad-time-header", binary("bad-time-header", body: good, extra: ["ce-time": .string("yesterday")]), malformed, "time")
        add("bad-extension-name", binary("bad-extension-name", body: good, extra: ["ce-trace_id": .string("x")]), malformed, "trace_id")
        add("structured-not-json", AMQPMessage(body: Data("{not json".utf8), properties: AMQPProperties(contentType: "application/cloudevents+json", deliveryMode: 2)), malformed, "malformed-json")
        add("structured-array", AMQPMessage(body: Data("[1,2]".utf8), properties: AMQPProperties(contentType: "application/cloudevents+json", deliveryMode: 2)), malformed, "malformed-json")
        add("batch-over-amqp", AMQPMessage(body: Data("[]".utf8), properties: AMQPProperties(contentType: "application/cloudevents-batch+json", deliveryMode: 2)), malformed, "unsupported-format")
        // Limits and ambiguity (issue 12): each with its own code in the reason.
        add("id-too-long", binary("id-too-long", id: String(repeating: "工", count: 86), body: good), malformed, "attribute-too-long")
        add("extension-too-long", binary("extension-too-long", body: good, extra: ["ce-tracestate": .string(String(repeating: "v", count: 2049))]), malformed, "attribute-too-long")
        add("id-under-two-prefixes", binary("id-under-two-prefixes", body: good, extra: ["cloudEvents_id": .string("another-id")]), malformed, "conflicting-attribute")
        add("structured-id-twice", AMQPMessage(body: Data(#"{"specversion":"1.0","id":"a","id":"b","source":"crm://test","type":"itr.report.submitted"}"#.utf8), properties: AMQPProperties(contentType: "application/cloudevents+json", deliveryMode: 2)), malformed, "duplicate-key")
        add("data-member-twice", binary("data-member-twice", body: Data(#"{"summary":"另一个摘要","#.utf8) + good.dropFirst()), "malformed-data", "duplicate-key")
        add("data-too-deep", binary("data-too-deep", body: Data((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)), "malformed-data", "too-deep")
        add("data-number-01", binary("data-number-01", body: Data(#"{"n":01}"#.utf8)), "malformed-data", "malformed number")
        // The type.
        add("ticket-action-type", binary("ticket-action-type", type: "itr.ticket.action", body: good), "unknown-type", "itr.ticket.action")
        add("foreign-type", binary("foreign-type", type: "com.example.thing", body: good), "unknown-type", "com.example.thing")
        // Size and encoding.
        add("too-large", binary("too-large", body: Data(repeating: UInt8(ascii: " "), count: 300 * 1024)), "too-large", "262144")
        add("invalid-utf8", binary("invalid-utf8", body: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D])), "invalid-utf8", "invalid-utf8")
        add("data-not-json", binary("data-not-json", body: Data("hello 你好".utf8)), "malformed-data", "malformed-json")
        add("data-truncated", binary("data-truncated", body: truncatedAtHalf(good)), "malformed-data", "malformed-json")
        add("data-xml", binary("data-xml", body: Data("<report/>".utf8), contentType: "application/xml"), failed, "datacontenttype")
        add("no-data", binary("no-data", body: Data()), failed, "data: missing")
        add("data-is-array", binary("data-is-array", body: Data("[]".utf8)), failed, "data: wrong-type")
        // The schema, each problem named by its path.
        add("missing-summary", binary("missing-summary", body: mutated { $0["summary"] = nil }), failed, "data.summary: missing")
        add("blank-summary", binary("blank-summary", body: mutated { $0["summary"] = "   " }), failed, "data.summary: empty")
        add("long-summary", binary("long-summary", body: mutated { $0["summary"] = String(repeating: "长", count: 600) }), failed, "data.summary: too-long")
        add("long-description", binary("long-description", body: mutated { $0["description"] = String(repeating: "d", count: 40_000) }), failed, "data.description: too-long")
        add("summary-is-number", binary("summary-is-number", body: mutated { $0["summary"] = 42 }), failed, "data.summary: wrong-type")
        add("unknown-channel", binary("unknown-channel", body: mutated { $0["channel"] = "fax" }), failed, "data.channel: unknown-value")
        add("unknown-language", binary("unknown-language", body: mutated { $0["language"] = "fr" }), failed, "data.language: unknown-value")
        add("future-occurred-at", binary("future-occurred-at", body: mutated { $0["occurredAt"] = RFC3339.format(Date().addingTimeInterval(86_400)) }), failed, "data.occurredAt: future-timestamp")
        add("absurd-occurred-at", binary("absurd-occurred-at", body: mutated { $0["occurredAt"] = "1990-01-01T00:00:00Z" }), failed, "data.occurredAt: absurd-timestamp")
        add("occurred-at-not-a-date", binary("occurred-at-not-a-date", body: mutated { $0["occurredAt"] = "next tuesday" }), failed, "data.occurredAt: invalid-format")
        add("missing-account", binary("missing-account", body: mutated { object in
            var customer = object["customer"] as! [String: Any]
            customer["account"] = nil
            object["customer"] = customer
        }), failed, "data.customer.account: missing")
        add("bad-contact-email", binary("bad-contact-email", body: mutated { object in
            var customer = object["customer"] as! [String: Any]
            customer["contact"] = ["email": "not-an-email"]
            object["customer"] = customer
        }), failed, "data.customer.contact.email: invalid-format")
        add("too-many-attachments", binary("too-many-attachments", body: mutated { object in
            object["attachments"] = (0..<25).map { ["uri": "https://files.example.cn/\($0)"] }
        }), failed, "data.attachments: too-many")
        add("attachment-bad-uri", binary("attachment-bad-uri", body: mutated { $0["attachments"] = [["uri": "not a uri"]] }), failed, "data.attachments[0].uri")
        add("monitoring-without-alarm", binary("monitoring-without-alarm", body: mutated(.monitoring) { $0["alarm"] = nil }), failed, "data.alarm: missing", key: "report.monitoring")
        add("alarm-on-phone-report", binary("alarm-on-phone-report", body: mutated { $0["alarm"] = ["code": "X-1", "state": "raised"] }), failed, "data.alarm: inconsistent")
        add("unknown-alarm-state", binary("unknown-alarm-state", body: mutated(.monitoring) { $0["alarm"] = ["code": "X-1", "state": "blinking"] }), failed, "data.alarm.state: unknown-value", key: "report.monitoring")
        add("channel-routing-mismatch", binary("channel-routing-mismatch", body: good), failed, "data.channel: inconsistent", key: "report.email")
        add("event-time-in-future", binary("event-time-in-future", body: good, extra: ["ce-time": .string(RFC3339.format(Date().addingTimeInterval(86_400)))]), failed, "time: future-timestamp")
        return cases
    }
}

/// The first half of a JSON text, cut between characters (a cut inside a multi-byte character
/// would be an invalid-utf8 case, which has a test of its own).
private func truncatedAtHalf(_ json: Data) -> Data {
    let text = String(decoding: json, as: UTF8.self)
    return Data(text.prefix(text.count / 2).utf8)
}
