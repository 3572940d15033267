import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport

/// One malformed or oversized message for `itr.ingress`, and where it must end up.
struct HostileInput: Sendable {
    enum Kind: String, Sendable, CaseIterable { case report, ticket, defect, unrouted }

    /// The test's name for it: header `x-hostile` and the AMQP message id.
    var tag: String
    var kind: Kind
    /// What is wrong with it (the primary defect; decorations come on top).
    var category: String
    var exchange: String
    var routingKey: String
    var message: AMQPMessage
    /// The kept-input queue it must end in (nil: the `itr.unrouted` stream).
    var keptIn: String?
    /// The reason code it must be kept with, when one is certain.
    var expectedCode: String?
    /// Published with pika (headers the project's client refuses to send): nesting depth of
    /// a header table, or the size of one header value.
    var pikaDeep: Int?
    var pikaHuge: Int?
}

/// The hostile AMQP inputs of ``HostileInputTests``, generated from a seed with variety on
/// every ingress kind: broken JSON, wrong types, missing attributes, unknown types, huge
/// values, over-long and many headers, spoofed reason headers, deep nesting (via pika),
/// bodies over the services' `AMQP_MAX_MESSAGE_SIZE`, Chinese text, and routing keys no
/// binding takes.
///
/// Every input of a service kind is invalid by construction: its primary defect makes the
/// service refuse it (a report's base is valid, so each primary defect alone must fail it; a
/// ticket action's or defect status's base already names a ticket or defect that does not
/// exist). Decorations (headers) never make an input acceptable.
enum HostileInputs {
    static let tagHeader = "x-hostile"
    static let rejectedQueue = "itr.rejected"
    static let routerDLQ = "itr-router.inbox.dlq"
    static let ipdDLQ = "ipd-feedback.inbox.dlq"

    struct Counts {
        var report = 420
        var ticket = 330
        var defect = 300
        var unrouted = 36
        /// Per service kind, published with pika: header depths, then huge header sizes.
        var pikaDepths = [17, 40, 1000, 15000]
        var pikaHugeHeaders = [70_000, 100_000]
        /// Bodies over the services' AMQP_MAX_MESSAGE_SIZE (per service kind).
        var oversizedBodies: [Int] = []
    }

    static func generate(seed: UInt64, counts: Counts) -> [HostileInput] {
        var rng = SplitMix64(seed: seed)
        var inputs: [HostileInput] = []
        for kind in [HostileInput.Kind.report, .ticket, .defect] {
            let n = kind == .report ? counts.report : kind == .ticket ? counts.ticket : counts.defect
            for i in 0..<n {
                inputs.append(make(kind, index: i, rng: &rng))
            }
            for (j, size) in counts.oversizedBodies.enumerated() {
                var input = make(kind, index: n + j, rng: &rng, primary: "oversized-body")
                input.message.body = Data(repeating: UInt8(ascii: "{"), count: size)
                input.expectedCode = "message-too-large"
                inputs.append(input)
            }
            var next = n + counts.oversizedBodies.count
            for depth in counts.pikaDepths {
                var input = make(kind, index: next, rng: &rng, primary: "broken-json", decorate: false)
                input.category = "deep-headers-\(depth)"
                input.pikaDeep = depth
                input.expectedCode = "headers-too-deep"
                inputs.append(input)
                next += 1
            }
            for size in counts.pikaHugeHeaders {
                var input = make(kind, index: next, rng: &rng, primary: "broken-json", decorate: false)
                input.category = "huge-header-\(size)"
                input.pikaHuge = size
                inputs.append(input)
                next += 1
            }
        }
        for i in 0..<counts.unrouted {
            inputs.append(unrouted(index: i, rng: &rng))
        }
        return inputs
    }

    // MARK: Service kinds

    static let reportPrimaries = [
        "broken-json", "random-bytes", "invalid-utf8", "wrong-type", "missing-field", "missing-attribute",
        "unknown-type", "bad-specversion", "huge-value", "too-large-event", "structured-broken", "bad-time",
        "wrong-content-type", "channel-mismatch", "unknown-value", "future-occurred-at", "empty-body",
    ]
    /// A ticket action or defect status is refused even as it is (unknown ticket / defect).
    static let otherPrimaries = reportPrimaries.filter { $0 != "channel-mismatch" } + ["as-is", "as-is", "unknown-action-or-status"]

    static func make(
        _ kind: HostileInput.Kind, index: Int, rng: inout SplitMix64, primary forced: String? = nil,
        decorate: Bool = true
    ) -> HostileInput {
        let tag = "h-\(kind.rawValue)-\(index)"
        let primary = forced ?? (kind == .report ? reportPrimaries : otherPrimaries).randomElement(using: &rng)!
        var object = baseObject(kind, index: index, rng: &rng)
        var routingKey = baseRoutingKey(kind, object: object)
        var headers: AMQPTable = [
            "ce-specversion": .string("1.0"), "ce-id": .string("hostile-\(tag)"),
            "ce-source": .string(kind == .report ? "crm://hostile/\(index % 7)" : kind == .ticket ? "servicedesk://hostile" : "rnd://hostile"),
            "ce-type": .string(eventType(kind)),
        ]
        var contentType: String? = "application/json"
        var body: Data?
        var code: String?

        func json(_ value: Any) -> Data { (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{".utf8) }
        let requiredFields: [String] =
            switch kind {
            case .report: ["summary", "channel", "customer", "product", "occurredAt", "language", "upstreamId", "sourceSystem"]
            case .ticket: ["ticketId", "action"]
            default: ["defectId", "status"]
            }
        switch primary {
        case "broken-json":
            let full = json(object)
            body = full.prefix(Int.random(in: 1..<(full.count - 1), using: &rng))
        case "random-bytes":
            body = Data((0..<Int.random(in: 2...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            // never a bare JSON value by chance
            body![0] = UInt8(ascii: "#")
        case "invalid-utf8":
            var bytes = [UInt8](json(object))
            bytes.insert(contentsOf: [0xFF, 0xFE, 0xC3], at: bytes.count / 2)
            body = Data(bytes)
        case "wrong-type":
            let field = requiredFields.randomElement(using: &rng)!
            let wrong: [Any] = [42, [1, 2, 3], true, NSNull(), ["嵌套": "对象"], 3.14159, [] as [Any]]
            var value = wrong.randomElement(using: &rng)!
            // a string field given a string is no defect: always a non-string
            if field == "customer" || field == "product" { value = "不是对象 not an object" }
            object[field] = value
        case "missing-field":
            object[requiredFields.randomElement(using: &rng)!] = nil
        case "missing-attribute":
            headers[["ce-id", "ce-source", "ce-type", "ce-specversion"].randomElement(using: &rng)!] = nil
        case "unknown-type":
            let types = [
                "com.example.hostile.\(index)", "\(eventType(kind)).v2", "工单.提交", "", " \(eventType(kind))",
                eventType(kind).uppercased(), "itr.report.submitted\u{0}", String(repeating: "t", count: 250),
            ]
            var type = types.randomElement(using: &rng)!
            if type == eventType(kind) { type = "x." + type }
            if kind != .report, type == "itr.report.submitted\u{0}" { type = "itr.opportunity.status" }
            headers["ce-type"] = .string(type)
        case "bad-specversion":
            headers["ce-specversion"] = .string(["0.3", "1.0.0", "１.０", "", "2.0", "1"].randomElement(using: &rng)!)
        case "huge-value":
            // over the schema's text limits, under the body limit
            let field = kind == .report ? "summary" : kind == .ticket ? "note" : "note"
            object[field] = String(repeating: ["长", "x", "😀", "é"].randomElement(using: &rng)!, count: Int.random(in: 40_001...60_000, using: &rng))
            if kind == .report { object["description"] = String(repeating: "描述", count: 30_000) }
        case "too-large-event":
            object["description"] = String(repeating: "大", count: Int.random(in: 100_000...300_000, using: &rng))
            if kind == .report { code = "too-large" }
        case "structured-broken":
            contentType = "application/cloudevents+json"
            let variants: [Data] = [
                Data("{\"specversion\":\"1.0\",\"id\":".utf8), Data("[1,2,3]".utf8), Data("\"一个字符串\"".utf8),
                json(["specversion": "1.0", "id": "hostile-\(tag)", "source": "crm://hostile", "data": object]),
                json(["specversion": "1.0", "id": "hostile-\(tag)", "source": "crm://hostile", "type": eventType(kind), "data": "不是对象"]),
                json(["specversion": 1.0, "id": 7, "source": ["x"], "type": eventType(kind), "data": object]),
            ]
            body = variants.randomElement(using: &rng)!
            headers = [:]
        case "bad-time":
            headers["ce-time"] = .string(["昨天", "2026-13-45T99:99:99Z", "yesterday", "0"].randomElement(using: &rng)!)
        case "wrong-content-type":
            let types = [
                "application/xml", "image/png", "text/html; charset=gbk",
                "application/xml;" + String(repeating: "p", count: 255 - 16),
            ]
            contentType = types.randomElement(using: &rng)!
            if contentType == "application/xml" { body = Data("<report><summary>光模块告警</summary></report>".utf8) }
        case "channel-mismatch":
            routingKey = routingKey == "report.email" ? "report.phone" : "report.email"
        case "unknown-value", "unknown-action-or-status":
            let field = kind == .report ? ["channel", "language"].randomElement(using: &rng)! : kind == .ticket ? "action" : "status"
            object[field] = ["fax", "传真", "fr", "删除", "fly", "fixed-maybe", "ACCEPTED"].randomElement(using: &rng)!
        case "future-occurred-at":
            object[kind == .report ? "occurredAt" : "at"] = RFC3339.format(Date().addingTimeInterval(86_400 * 30))
            if kind != .report { object["ticketId"] = kind == .ticket ? 12345 : nil; object["defectId"] = kind == .defect ? 678 : nil }
        case "empty-body":
            body = Data()
        case "oversized-body":
            body = Data("{".utf8)  // replaced by the caller
        default:  // "as-is": refused for the ticket or defect it names
            break
        }
        var properties = AMQPProperties(
            contentType: contentType, headers: headers, deliveryMode: 2, messageID: tag)
        properties.headers[tagHeader] = .string(tag)
        if decorate, Int.random(in: 0..<10, using: &rng) < 4 {
            decorateHeaders(&properties.headers, rng: &rng)
        }
        return HostileInput(
            tag: tag, kind: kind, category: primary, exchange: EventRouting.ingressExchange, routingKey: routingKey,
            message: AMQPMessage(body: body ?? json(object), properties: properties),
            keptIn: kind == .report ? rejectedQueue : kind == .ticket ? routerDLQ : ipdDLQ, expectedCode: code)
    }

    /// Headers that make a message awkward but never acceptable: long values (within what the
    /// project's client sends), many headers, Chinese, spoofed reason headers, nesting within
    /// the cap, odd value types.
    static func decorateHeaders(_ headers: inout AMQPTable, rng: inout SplitMix64) {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:
            headers["x-junk"] = .string(String(repeating: ["a", "长", "🚨"].randomElement(using: &rng)!, count: Int.random(in: 1000...9000, using: &rng)))
        case 1:
            for j in 0..<200 { headers["x-many-\(j)"] = .string("值-\(j)") }
        case 2:
            headers["x-itr-reason-code"] = .string("spoofed")
            headers["x-itr-service"] = .string("evil")
            headers["x-itr-truncated"] = .bool(true)
        case 3:
            headers["ce-subject"] = .string(String(repeating: "主题", count: 1500))
            headers["ce-traceparent"] = .string("不是-trace")
        case 4:
            var value: AMQPFieldValue = .string("叶子")
            for _ in 0..<10 { value = .table(["n": value]) }
            headers["x-nested"] = value
        default:
            headers["x-numbers"] = .array((0..<100).map { .int64(Int64($0)) })
            headers["x-bytes"] = .bytes((0..<512).map { UInt8($0 % 256) })
        }
    }

    static func eventType(_ kind: HostileInput.Kind) -> String {
        switch kind {
        case .report: EventType.reportSubmitted.rawValue
        case .ticket: EventType.ticketAction.rawValue
        default: EventType.defectStatus.rawValue
        }
    }

    static func baseRoutingKey(_ kind: HostileInput.Kind, object: [String: Any]) -> String {
        switch kind {
        case .report: "report.\(object["channel"] as? String ?? "portal")"
        case .ticket: "ticket.\(object["action"] as? String ?? "note")"
        default: "defect.\(object["status"] as? String ?? "accepted")"
        }
    }

    /// A report that would be accepted as it is; a ticket action on, and a defect status of,
    /// something that does not exist.
    static func baseObject(_ kind: HostileInput.Kind, index: Int, rng: inout SplitMix64) -> [String: Any] {
        let encoded: Data
        switch kind {
        case .report:
            let channel = [Channel.phone, .portal, .email, .field].randomElement(using: &rng)!
            encoded = try! EventCoding.encode(ReportSubmitted(
                sourceSystem: "crm-\(channel.rawValue)", channel: channel, upstreamId: "HOSTILE-\(index)",
                customer: Customer(account: "ACC-1001", name: "中国联通北京分公司"),
                product: Product(line: "optical", model: "OSN 8800", version: "V100R012"),
                summary: ["光模块告警 optical module alarm", "主控板反复重启", "link flapping"].randomElement(using: &rng)!,
                description: "hostile input \(index)", occurredAt: Date().addingTimeInterval(-120), language: .zh))
        case .ticket:
            let action = [TicketActionKind.note, .acknowledge, .pause, .resolve, .escalate].randomElement(using: &rng)!
            let ticketId = ["TKT-HOSTILE-\(index)", "工单-不存在-\(index)", "T-\(index)-' OR 1=1 --"].randomElement(using: &rng)!
            encoded = try! EventCoding.encode(TicketAction(
                ticketId: ticketId, action: action, actor: Actor(id: "eng-\(index)", name: "王工", role: "engineer"), note: "备注 \(index)"))
        default:
            let status = [DefectDecision.accepted, .rejected].randomElement(using: &rng)!
            encoded = try! EventCoding.encode(DefectStatus(
                defectId: ["DEF-HOSTILE-\(index)", "缺陷-\(index)"].randomElement(using: &rng)!, status: status,
                note: "研发意见 \(index)", actor: Actor(id: "rd-\(index)", role: "rnd")))
        }
        return (try! JSONSerialization.jsonObject(with: encoded)) as! [String: Any]
    }

    // MARK: Unrouted

    static func unrouted(index: Int, rng: inout SplitMix64) -> HostileInput {
        let tag = "h-unrouted-\(index)"
        let keys = [
            "reports.phone", "tickets.note", "defects.accepted", "", "报告.电话", "REPORT.PHONE",
            String(repeating: "x.", count: 127), "hostile.nowhere.\(index)", "#", "*.*",
        ]
        let routingKey = keys.randomElement(using: &rng)!
        // itr.events is not used: the suite's observer takes everything there.
        let exchange = index % 6 == 5 ? "itr.dlx" : EventRouting.ingressExchange
        let body = Data("{\"hostile\": \(index), \"文本\": \"无人接收\"}".utf8)
        var properties = AMQPProperties(contentType: "application/json", headers: [tagHeader: .string(tag)], deliveryMode: 2, messageID: tag)
        properties.headers["ce-type"] = .string("com.example.unrouted")
        return HostileInput(
            tag: tag, kind: .unrouted, category: "unroutable-key", exchange: exchange,
            routingKey: exchange == "itr.dlx" ? "hostile.unbound.\(index)" : routingKey,
            message: AMQPMessage(body: body, properties: properties), keptIn: nil, expectedCode: nil)
    }

    /// The pika spec of the inputs that must be published by pika.
    static func pikaSpec(_ inputs: [HostileInput]) -> Data {
        let spec: [[String: Any]] = inputs.filter { $0.pikaDeep != nil || $0.pikaHuge != nil }.map { input in
            var headers: [String: String] = [:]
            for (key, value) in input.message.properties.headers {
                if case .string(let s) = value { headers[key] = s }
            }
            var entry: [String: Any] = [
                "exchange": input.exchange, "routing_key": input.routingKey,
                "body_b64": input.message.body.base64EncodedString(), "message_id": input.tag, "headers": headers,
            ]
            if let contentType = input.message.properties.contentType { entry["content_type"] = contentType }
            if let deep = input.pikaDeep { entry["deep"] = deep }
            if let huge = input.pikaHuge { entry["huge"] = huge }
            return entry
        }
        return try! JSONSerialization.data(withJSONObject: spec)
    }
}
