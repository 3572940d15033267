import AMQPClient
import Foundation
import ITREvents
import Testing

@Suite struct CodecTests {
    static let chinese = "光模块温度过高，业务中断 / 上海"

    func sampleEvent() throws -> CloudEvent {
        var event = try CloudEvent(
            source: "//nms-east", payload: Samples.report, id: "evt-1", subject: "ALM-1",
            time: RFC3339.parse("2025-03-01T08:30:00.123456+08:00"))
        event.correlationID = "T-1"
        event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        return event
    }

    @Test func structuredRoundTripKeepsChineseBytes() throws {
        let data = Data("{\"summary\":\"\(Self.chinese)\",\"n\":1}".utf8)
        let event = CloudEvent(id: "1", source: "//a", type: "itr.x", time: nil, datacontenttype: "application/json", data: data)
        let body = CloudEventJSON.encode(event)
        // non-ASCII and "/" are written as is, never escaped
        #expect(body.range(of: Data(Self.chinese.utf8)) != nil)
        #expect(!String(decoding: body, as: UTF8.self).contains("\\u"))
        #expect(String(decoding: body, as: UTF8.self).hasPrefix("{\"specversion\":\"1.0\",\"id\":\"1\""))
        let back = try CloudEventJSON.decode(body)
        #expect(back == event)
        #expect(back.data == data)  // byte for byte
    }

    @Test func structuredEscapesAndBase64() throws {
        let body = Data(#"""
            {"specversion":"1.0","id":"a\"b","source":"\/x","type":"t","subject":"\u5de5\u5355 \ud83d\ude00",
             "comexampleext":42,"flag":true,"datacontenttype":"application/octet-stream","data_base64":"AAEC/w=="}
            """#.utf8)
        let event = try CloudEventJSON.decode(body)
        #expect(event.id == "a\"b")
        #expect(event.source == "/x")
        #expect(event.subject == "工单 😀")
        #expect(event.extensions == ["comexampleext": "42", "flag": "true"])
        #expect(event.data == Data([0, 1, 2, 255]))
        let again = try CloudEventJSON.decode(CloudEventJSON.encode(event))
        #expect(again == event)
    }

    @Test func timeKeepsFractionalSeconds() throws {
        let date = try #require(RFC3339.parse("2025-03-01T08:30:00.123456+08:00"))
        #expect(RFC3339.format(date) == "2025-03-01T00:30:00.123456Z")
        #expect(RFC3339.format(RFC3339.parse("2024-02-29T23:59:59.5Z")!) == "2024-02-29T23:59:59.500Z")
        #expect(RFC3339.format(RFC3339.parse("1999-12-31t10:00:00z")!) == "1999-12-31T10:00:00Z")
        #expect(RFC3339.parse("2025-02-30T00:00:00Z") == nil)
        #expect(RFC3339.parse("2025-03-01 08:30") == nil)
        #expect(RFC3339.parse("yesterday") == nil)
    }

    @Test func amqpBinaryWriteAndRead() throws {
        let event = try sampleEvent()
        let message = AMQPCloudEventCodec.encode(event)
        let p = message.properties
        #expect(p.headers["ce-id"] == .string("evt-1"))
        #expect(p.headers["ce-specversion"] == .string("1.0"))
        #expect(p.headers["ce-type"] == .string("itr.report.submitted"))
        #expect(p.headers["ce-correlationid"] == .string("T-1"))
        #expect(p.headers["ce-time"] == .string("2025-03-01T00:30:00.123456Z"))
        #expect(p.messageID == "evt-1")
        #expect(p.type == "itr.report.submitted")
        #expect(p.deliveryMode == 2)
        #expect(p.contentType == "application/json")
        #expect(p.timestamp == UInt64(event.time!.timeIntervalSince1970))
        #expect(message.body == event.data)
        let back = try AMQPCloudEventCodec.decode(message)
        #expect(back == event)
        #expect(try back.decodeData(ReportSubmitted.self) == Samples.report)
    }

    @Test func amqpTimestampDefaultsToNow() {
        let event = CloudEvent(id: "1", source: "//a", type: "t", time: nil)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let message = AMQPCloudEventCodec.encode(event, now: now)
        #expect(message.properties.timestamp == 1_700_000_000)
        #expect(message.properties.contentType == "application/json")
    }

    @Test(arguments: ["cloudEvents_", "cloudEvents:", "CE-", "ce-"])
    func amqpAcceptsPrefixesAndValueKinds(prefix: String) throws {
        let headers: AMQPTable = [
            prefix + "specversion": .bytes(Array("1.0".utf8)),
            prefix + "id": .int64(12345),
            prefix + "source": .string("//nms/东区"),
            prefix + "type": .bytes(Array("itr.report.submitted".utf8)),
            prefix + "time": .timestamp(1_740_000_000),
            prefix + "correlationid": .string("T-9"),
            prefix + "retries": .int32(3),
            "x-other": .string("ignored"),
        ]
        let body = Data("{\"summary\":\"\(Self.chinese)\"}".utf8)
        let message = AMQPMessage(body: body, properties: AMQPProperties(contentType: "application/json", headers: headers))
        let event = try AMQPCloudEventCodec.decode(message)
        #expect(event.id == "12345")
        #expect(event.source == "//nms/东区")
        #expect(event.type == "itr.report.submitted")
        #expect(event.time == Date(timeIntervalSince1970: 1_740_000_000))
        #expect(event.correlationID == "T-9")
        #expect(event.extensions["retries"] == "3")
        #expect(event.extensions["x-other"] == nil)
        #expect(event.datacontenttype == "application/json")
        #expect(event.data == body)
    }

    @Test func amqpStructuredMode() throws {
        let event = try sampleEvent()
        let message = AMQPCloudEventCodec.encode(event, mode: .structured)
        #expect(message.properties.contentType == "application/cloudevents+json")
        #expect(message.properties.messageID == event.id)
        var withCharset = message
        withCharset.properties.contentType = "Application/CloudEvents+JSON; charset=utf-8"
        #expect(try AMQPCloudEventCodec.decode(withCharset) == event)
    }

    @Test func amqpErrorsNameTheAttribute() {
        func error(_ headers: AMQPTable, contentType: String? = nil) -> CloudEventError? {
            let m = AMQPMessage(body: Data("{}".utf8), properties: AMQPProperties(contentType: contentType, headers: headers))
            do { _ = try AMQPCloudEventCodec.decode(m); return nil } catch { return error }
        }
        let base: AMQPTable = ["ce-specversion": "1.0", "ce-id": "1", "ce-source": "//a", "ce-type": "t"]
        var noID = base
        noID["ce-id"] = nil
        #expect(error(noID)?.code == .missingAttribute)
        #expect(error(noID)?.attribute == "id")
        var v03 = base
        v03["ce-specversion"] = "0.3"
        #expect(error(v03)?.code == .unsupportedSpecVersion)
        var badExt = base
        badExt["ce-Bad_Name"] = "x"
        #expect(error(badExt)?.code == .invalidExtensionName)
        var badTime = base
        badTime["ce-time"] = "tomorrow"
        #expect(error(badTime)?.code == .invalidTime)
        var badBytes = base
        badBytes["ce-subject"] = .bytes([0xFF, 0xFE])
        #expect(error(badBytes)?.attribute == "subject")
        var table = base
        table["ce-subject"] = .table([:])
        #expect(error(table)?.code == .invalidAttribute)
        #expect(error(["x-foo": "bar"])?.code == .notACloudEvent)
        #expect(error([:], contentType: "application/cloudevents+avro")?.code == .unsupportedFormat)
        var empty = base
        empty["ce-source"] = ""
        #expect(error(empty)?.code == .invalidAttribute)
    }

    @Test func structuredErrors() {
        func error(_ json: String) -> CloudEventError? {
            do { _ = try CloudEventJSON.decode(Data(json.utf8)); return nil } catch { return error }
        }
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\"}")?.attribute == "type")
        #expect(error("{\"specversion\":\"1.0\",\"id\":1,\"source\":\"//a\",\"type\":\"t\"}")?.attribute == "id")
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",")?.code == .malformedJSON)
        #expect(error("[1]")?.code == .malformedJSON)
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",\"data\":{},\"data_base64\":\"AA==\"}")?.attribute == "data_base64")
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",\"data_base64\":\"!!\"}")?.code == .invalidBase64)
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",\"time\":\"3pm\"}")?.code == .invalidTime)
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",\"ext\":{}}")?.attribute == "ext")
        #expect(error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//a\",\"type\":\"t\",\"data\":{\"a\":[1,2}}")?.code == .malformedJSON)
    }

    @Test func httpBinaryRoundTripWithPercentEncoding() throws {
        var event = try sampleEvent()
        event.subject = "工单 \"100%\""
        let (headers, body) = HTTPCloudEventCodec.encodeBinary(event)
        #expect(headers["ce-subject"] == "%E5%B7%A5%E5%8D%95%20%22100%25%22")
        #expect(headers["Content-Type"] == "application/json")
        // header names are case-insensitive on read
        var mixed: [String: String] = [:]
        for (k, v) in headers { mixed[k.uppercased()] = v }
        guard case .single(let back) = try HTTPCloudEventCodec.decode(headers: mixed, body: body) else {
            Issue.record("expected a single event")
            return
        }
        #expect(back == event)
    }

    @Test func httpStructuredAndBatch() throws {
        let event = try sampleEvent()
        let (h1, b1) = HTTPCloudEventCodec.encodeStructured(event)
        guard case .single(let one) = try HTTPCloudEventCodec.decode(headers: h1, body: b1) else {
            Issue.record("expected single")
            return
        }
        #expect(one == event)

        let good = String(decoding: CloudEventJSON.encode(event), as: UTF8.self)
        let batch = "[\(good), {\"specversion\":\"1.0\",\"id\":\"2\"}, 7, \(good)]"
        guard case .batch(let results) = try HTTPCloudEventCodec.decode(
            headers: ["content-type": "application/cloudevents-batch+json"], body: Data(batch.utf8))
        else {
            Issue.record("expected batch")
            return
        }
        #expect(results.count == 4)
        #expect(try results[0].get() == event)
        #expect(try results[3].get() == event)
        #expect(throws: CloudEventError.self) { try results[1].get() }
        #expect(throws: CloudEventError.self) { try results[2].get() }

        let (hb, bb) = HTTPCloudEventCodec.encodeBatch([event, event])
        guard case .batch(let again) = try HTTPCloudEventCodec.decode(headers: hb, body: bb) else {
            Issue.record("expected batch")
            return
        }
        #expect(again.count == 2)
        #expect(throws: CloudEventError.self) {
            try HTTPCloudEventCodec.decode(headers: ["Content-Type": "application/cloudevents-batch+json"], body: Data("{".utf8))
        }
        #expect(throws: CloudEventError.self) {
            try HTTPCloudEventCodec.decode(headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
        }
    }

    @Test func causationCopiesCorrelationAndTrace() throws {
        var cause = try sampleEvent()
        cause.tracestate = "vendor=1"
        let opened = try CloudEvent.caused(
            by: cause, source: "//itr/intake",
            payload: TicketOpened(ticketId: "T-7", report: Samples.report, event: cause, accountKnown: true, openedAt: Samples.t1),
            correlationID: "T-7")
        #expect(opened.causationID == "evt-1")
        #expect(opened.correlationID == "T-7")
        #expect(opened.traceparent == cause.traceparent)
        #expect(opened.tracestate == "vendor=1")
        #expect(opened.type == "itr.ticket.opened")
        #expect(opened.dataschema == EventType.ticketOpened.dataschema)
        let next = CloudEvent.caused(by: opened, source: "//itr/router", type: EventType.ticketClassified.rawValue)
        #expect(next.correlationID == "T-7")
        #expect(next.causationID == opened.id)
        var plain = CloudEvent(source: "//a", type: "t")
        #expect(throws: CloudEventError.self) { try plain.setExtension("Not-Valid", "x") }
        // Longer than CloudEvents' recommended 20 is read and written (issue 12); longer than 64 is not.
        try plain.setExtension("abcdefghijklmnopqrstu", "x")
        #expect(throws: CloudEventError.self) { try plain.setExtension(String(repeating: "a", count: 65), "x") }
        #expect(throws: CloudEventError.self) { try plain.setExtension("source", "x") }
        try plain.setExtension("tenant1", "x")
        #expect(plain.extensions["tenant1"] == "x")
    }

    @Test func routingKeys() {
        #expect(EventRouting.ingressKey(for: Channel.monitoring) == "report.monitoring")
        #expect(EventRouting.ingressKey(for: TicketActionKind.escalate) == "ticket.escalate")
        #expect(EventRouting.ingressKey(for: DefectDecision.fixReleased) == "defect.fix-released")
        #expect(EventRouting.ingressKey(for: OpportunityState.won) == "opportunity.won")
        #expect(EventType.problemKnownError.eventsRoutingKey == "itr.problem.known-error")
        #expect(EventType.allCases.count == 26)
        #expect(Set(EventType.allCases).count == 26)
        #expect(EventType.allCases.allSatisfy { $0.payloadType != nil })
        #expect(EventType("itr.unknown").direction == nil)
    }

    /// The hot path of every stage (decode + re-encode a ~1 KiB event) is lossless in both
    /// modes. Its speed is measured by the stage benchmark (deploy/scripts/bench.sh), not here.
    @Test func hotPathRoundTripsAreLossless() throws {
        let event = try sampleEvent()
        let message = AMQPCloudEventCodec.encode(event)
        let structured = CloudEventJSON.encode(event)
        #expect(structured.count > 900)
        let a = try AMQPCloudEventCodec.decode(message)
        #expect(try AMQPCloudEventCodec.decode(AMQPCloudEventCodec.encode(a)) == a)
        let b = try CloudEventJSON.decode(structured)
        #expect(try CloudEventJSON.decode(CloudEventJSON.encode(b)) == b)
        #expect(a.data == event.data && b.data == event.data)
    }
}
