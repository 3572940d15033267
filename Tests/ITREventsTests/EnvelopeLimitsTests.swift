import AMQPClient
import Foundation
import ITREvents
import Testing

/// Item 2 of issue 12: limits on everything an envelope may hold, one attribute given twice,
/// long extension names; in every binding (AMQP binary under each prefix and structured, HTTP
/// binary, structured and batch).
@Suite struct EnvelopeLimitsTests {
    static let base: [String: String] = ["specversion": "1.0", "id": "evt-1", "source": "//nms/东区", "type": "itr.report.submitted"]
    static let data = Data(#"{"summary":"光模块温度过高"}"#.utf8)

    /// `count` bytes of UTF-8 made of Chinese characters (3 bytes each) and ASCII to make up the rest.
    static func text(bytes count: Int) -> String {
        String(repeating: "工", count: count / 3) + String(repeating: "a", count: count % 3)
    }

    /// Every way an event with `attributes` can be read, each giving its result.
    static func everyBinding(_ attributes: [String: String]) -> [(String, Result<CloudEvent, CloudEventError>)] {
        var out: [(String, Result<CloudEvent, CloudEventError>)] = []
        for prefix in ["ce-", "cloudEvents_", "cloudEvents:"] {
            var headers: AMQPTable = [:]
            for (name, value) in attributes where name != "datacontenttype" { headers[prefix + name] = .string(value) }
            let message = AMQPMessage(
                body: data, properties: AMQPProperties(contentType: attributes["datacontenttype"] ?? "application/json", headers: headers))
            out.append(("AMQP binary \(prefix)", Result { () throws(CloudEventError) in try AMQPCloudEventCodec.decode(message) }))
        }
        var httpHeaders: [String: String] = ["Content-Type": attributes["datacontenttype"] ?? "application/json"]
        for (name, value) in attributes where name != "datacontenttype" {
            httpHeaders["ce-" + name] = HTTPCloudEventCodec.percentEncode(value)
        }
        out.append((
            "HTTP binary",
            Result { () throws(CloudEventError) in
                guard case .single(let event) = try HTTPCloudEventCodec.decode(headers: httpHeaders, body: data) else {
                    throw CloudEventError(.malformedJSON, "not a single event")
                }
                return event
            }))
        var object: [String: Any] = attributes
        object["data"] = try! JSONSerialization.jsonObject(with: data)
        let structured = try! JSONSerialization.data(withJSONObject: object)
        out.append((
            "AMQP structured",
            Result { () throws(CloudEventError) in
                try AMQPCloudEventCodec.decode(
                    AMQPMessage(body: structured, properties: AMQPProperties(contentType: CloudEventJSON.contentType)))
            }))
        out.append((
            "HTTP structured",
            Result { () throws(CloudEventError) in
                guard case .single(let event) = try HTTPCloudEventCodec.decode(
                    headers: ["content-type": CloudEventJSON.contentType], body: structured)
                else { throw CloudEventError(.malformedJSON, "not a single event") }
                return event
            }))
        let batch = Data("[".utf8) + structured + Data("]".utf8)
        out.append((
            "HTTP batch",
            Result { () throws(CloudEventError) in
                guard case .batch(let results) = try HTTPCloudEventCodec.decode(
                    headers: ["content-type": CloudEventJSON.batchContentType], body: batch), results.count == 1
                else { throw CloudEventError(.malformedJSON, "not a batch of one") }
                return try results[0].get()
            }))
        return out
    }

    static let limited: [(String, Int)] = [
        ("id", 255), ("source", 255), ("type", 255), ("subject", 255), ("datacontenttype", 255), ("dataschema", 2048),
        ("traceparent", 256), ("tracestate", 2048), ("correlationid", 2048), ("comexamplevendorattribute", 2048),
    ]

    @Test(arguments: limited)
    func overLongAttributeIsRejectedInEveryBinding(attribute: String, max: Int) {
        #expect(CloudEventLimits.maxBytes(ofAttribute: attribute) == max)
        var atLimit = Self.base
        atLimit[attribute] = attribute == "datacontenttype" ? "application/json;" + Self.text(bytes: max - 17) : Self.text(bytes: max)
        #expect(atLimit[attribute]!.utf8.count == max)
        var over = atLimit
        over[attribute]! += "x"
        for (binding, result) in Self.everyBinding(atLimit) {
            #expect((try? result.get())?.attribute(attribute) == atLimit[attribute], "\(binding): \(result)")
        }
        for (binding, result) in Self.everyBinding(over) {
            guard case .failure(let error) = result else {
                Issue.record("\(binding) accepted \(attribute) of \(max + 1) bytes")
                continue
            }
            #expect(error.code == .attributeTooLong, "\(binding): \(error)")
            #expect(error.attribute == attribute, "\(binding): \(error)")
            #expect(error.message.contains("\(max + 1) bytes long, more than \(max)"), "\(binding): \(error)")
        }
    }

    @Test func overLongTimeTextIsRejectedBeforeItIsParsed() {
        var over = Self.base
        over["time"] = "2025-03-01T08:30:00." + String(repeating: "1", count: 40) + "+08:00"
        #expect(over["time"]!.utf8.count > CloudEventLimits.maxTimeBytes)
        for (binding, result) in Self.everyBinding(over) {
            guard case .failure(let error) = result else {
                Issue.record("\(binding) accepted a time of \(over["time"]!.utf8.count) bytes")
                continue
            }
            #expect(error.code == .attributeTooLong && error.attribute == "time", "\(binding): \(error)")
        }
    }

    @Test func sameAttributeUnderTwoPrefixesMustAgree() throws {
        let prefixes = ["ce-", "cloudEvents_", "cloudEvents:", "CE-"]
        for first in prefixes {
            for second in prefixes where second.lowercased() != first.lowercased() {
                var headers: AMQPTable = ["ce-specversion": "1.0", "ce-source": "//a", "ce-type": "t"]
                headers[first + "id"] = "a"
                headers[second + "id"] = "b"
                let conflicting = AMQPMessage(body: Self.data, properties: AMQPProperties(contentType: "application/json", headers: headers))
                #expect(throws: CloudEventError.self, "\(first)id and \(second)id") {
                    try AMQPCloudEventCodec.decode(conflicting)
                }
                do {
                    _ = try AMQPCloudEventCodec.decode(conflicting)
                } catch {
                    #expect(error.code == .conflictingAttribute && error.attribute == "id")
                    #expect(error.message.contains("'a'") && error.message.contains("'b'"))
                }
                headers[second + "id"] = "a"
                let agreeing = AMQPMessage(body: Self.data, properties: AMQPProperties(contentType: "application/json", headers: headers))
                #expect(try AMQPCloudEventCodec.decode(agreeing).id == "a")
            }
        }
        // Extensions and time too; a timestamp and its RFC 3339 text are the same instant.
        var headers: AMQPTable = ["ce-specversion": "1.0", "ce-id": "1", "ce-source": "//a", "ce-type": "t"]
        headers["ce-correlationid"] = "T-1"
        headers["cloudEvents_correlationid"] = "T-2"
        #expect(Self.code(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))) == .conflictingAttribute)
        headers["cloudEvents_correlationid"] = nil
        headers["ce-time"] = .timestamp(1_740_000_000)
        headers["cloudEvents:time"] = .string("2025-02-19T21:20:00Z")
        #expect(try AMQPCloudEventCodec.decode(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))).time
            == Date(timeIntervalSince1970: 1_740_000_000))
        headers["cloudEvents:time"] = .string("2025-02-19T21:20:01Z")
        #expect(Self.code(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))) == .conflictingAttribute)
        headers["cloudEvents:time"] = nil
        // datacontenttype as a header and as the content type.
        headers["ce-datacontenttype"] = "text/plain"
        #expect(Self.code(AMQPMessage(body: Self.data, properties: AMQPProperties(contentType: "application/json", headers: headers)))
            == .conflictingAttribute)
        headers["ce-datacontenttype"] = "application/json"
        #expect(try AMQPCloudEventCodec.decode(
            AMQPMessage(body: Self.data, properties: AMQPProperties(contentType: "application/json", headers: headers))).datacontenttype
            == "application/json")
    }

    @Test func headersBesideAStructuredEventMustAgreeWithIt() throws {
        let body = Data(#"{"specversion":"1.0","id":"a","source":"//a","type":"t","correlationid":"T-1","time":"2025-02-19T21:20:00Z"}"#.utf8)
        for (header, value, agrees) in [
            ("ce-id", "a", true), ("ce-id", "b", false), ("cloudEvents_correlationid", "T-2", false), ("ce-subject", "only here", true),
            ("cloudEvents:time", "2025-02-19T21:20:00Z", true), ("ce-time", "2025-02-19T21:20:01Z", false),
        ] {
            let amqp = AMQPMessage(
                body: body, properties: AMQPProperties(contentType: CloudEventJSON.contentType, headers: [header: .string(value)]))
            #expect(Self.code(amqp) == (agrees ? nil : .conflictingAttribute), "AMQP \(header): \(value)")
            guard header.hasPrefix("ce-") else { continue }  // HTTP knows only ce-
            let http = Result { () throws(CloudEventError) in
                try HTTPCloudEventCodec.decode(headers: ["content-type": CloudEventJSON.contentType, header: value], body: body)
            }
            switch http {
            case .success: #expect(agrees, "HTTP accepted \(header): \(value)")
            case .failure(let error): #expect(!agrees && error.code == .conflictingAttribute, "HTTP \(header): \(value): \(error)")
            }
        }
    }

    @Test func repeatedHTTPFieldsMustAgree() throws {
        let base = [("ce-specversion", "1.0"), ("ce-source", "//a"), ("ce-type", "t"), ("Content-Type", "application/json")]
        func decode(_ extra: [(String, String)]) -> Result<HTTPCloudEventCodec.Body, CloudEventError> {
            Result { () throws(CloudEventError) in
                try HTTPCloudEventCodec.decode(fields: (base + extra).map { (name: $0.0, value: $0.1) }, body: Self.data)
            }
        }
        for extra in [[("ce-id", "a"), ("ce-id", "b")], [("ce-id", "a"), ("CE-ID", "b")], [("ce-id", "a"), ("ce-id", "%62")]] {
            guard case .failure(let error) = decode(extra) else {
                Issue.record("accepted \(extra)")
                continue
            }
            #expect(error.code == .conflictingAttribute && error.attribute == "id")
        }
        // The same value twice (percent-encoded or not) is one value.
        guard case .success(.single(let event)) = decode([("ce-id", "工单"), ("Ce-Id", "%E5%B7%A5%E5%8D%95")]) else {
            Issue.record("the same id twice was refused")
            return
        }
        #expect(event.id == "工单")
        guard case .failure(let error) = decode([("Content-Type", "text/plain"), ("ce-id", "1")]) else {
            Issue.record("two content types accepted")
            return
        }
        #expect(error.code == .conflictingAttribute && error.attribute == "datacontenttype")
        guard case .failure(let error) = decode([("ce-id", "1"), ("ce-datacontenttype", "text/plain")]) else {
            Issue.record("Content-Type and a different ce-datacontenttype accepted")
            return
        }
        #expect(error.code == .conflictingAttribute)
    }

    @Test func percentDecodedHeaderMustBeUTF8() {
        let headers = ["ce-specversion": "1.0", "ce-id": "1", "ce-source": "//a", "ce-type": "t", "ce-subject": "%FF%FE"]
        #expect(throws: CloudEventError.self) { try HTTPCloudEventCodec.decode(headers: headers, body: Self.data) }
        do {
            _ = try HTTPCloudEventCodec.decode(headers: headers, body: Self.data)
        } catch {
            #expect(error.code == .invalidAttribute && error.attribute == "subject")
        }
        #expect(HTTPCloudEventCodec.percentDecode(validating: "%E5%B7%A5") == "工")
        #expect(HTTPCloudEventCodec.percentDecode(validating: "%FF") == nil)
    }

    @Test func longExtensionNamesAreReadUpToTheLimit() throws {
        let longest = String(repeating: "x", count: CloudEventLimits.maxExtensionNameLength)
        for name in ["comexampleothervalue1", "knativearrivaltimeextension", longest] {
            #expect(name.count > 20)
            var attributes = Self.base
            attributes[name] = "值"
            for (binding, result) in Self.everyBinding(attributes) {
                #expect((try? result.get())?.extensions[name] == "值", "\(binding): \(result)")
            }
        }
        var event = CloudEvent(source: "//a", type: "t")
        try event.setExtension("comexampleothervalue1", "v")
        #expect(throws: CloudEventError.self) { try event.setExtension(longest + "x", "v") }
        for bad in [longest + "x", "UpperCase", "under_score", "dash-ed", "中文"] {
            var attributes = Self.base
            attributes[bad] = "v"
            for (binding, result) in Self.everyBinding(attributes) {
                // Header names are case-insensitive: in binary mode "UpperCase" arrives as "uppercase".
                if bad == "UpperCase", binding.contains("binary") {
                    #expect((try? result.get())?.extensions["uppercase"] == "v", "\(binding): \(result)")
                    continue
                }
                guard case .failure(let error) = result else {
                    Issue.record("\(binding) accepted extension name \(bad)")
                    continue
                }
                #expect(error.code == .invalidExtensionName, "\(binding) \(bad): \(error)")
            }
        }
    }

    @Test func hugeHeaderNamesAreQuotedInPart() {
        let name = String(repeating: "名", count: 100_000)
        var headers: AMQPTable = ["ce-specversion": "1.0", "ce-id": "1", "ce-source": "//a", "ce-type": "t"]
        for (header, value) in [("ce-" + name, AMQPFieldValue.bytes([0xFF])), ("ce-" + name, .string("v")), ("ce-" + name + "x", .string("v"))] {
            headers[header] = value
            defer { headers[header] = nil }
            do {
                _ = try AMQPCloudEventCodec.decode(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers)))
                Issue.record("a header named with 100,000 characters was accepted")
            } catch {
                #expect(error.message.utf8.count < 1_000 && (error.attribute?.count ?? 0) <= 65, "\(error.code): \(error.message.prefix(200))")
                #expect(error.code == .invalidAttribute || error.code == .invalidExtensionName)
            }
        }
    }

    /// An AMQP timestamp is 64 bits: most of its values are instants no RFC 3339 text can write
    /// (formatting one used to trap, crashing the service that read it).
    @Test func timestampsBeyondTheYear9999AreRefusedNotFormatted() {
        let base: AMQPTable = ["ce-specversion": "1.0", "ce-id": "1", "ce-source": "//a", "ce-type": "t"]
        for (header, value, code) in [
            ("ce-time", AMQPFieldValue.timestamp(UInt64.max), CloudEventError.Code.invalidTime),
            ("ce-time", .timestamp(253_402_300_800), .invalidTime), ("ce-time", .int64(Int64.min), .invalidTime),
            ("ce-subject", .timestamp(UInt64.max), .invalidAttribute), ("ce-expires", .timestamp(UInt64.max), .invalidAttribute),
        ] {
            var headers = base
            headers[header] = value
            #expect(Self.code(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))) == code, "\(header) \(value)")
            headers["cloudEvents:" + header.dropFirst(3)] = .timestamp(1)
            #expect(Self.code(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))) == code, "\(header) \(value) twice")
        }
        var headers = base
        headers["ce-time"] = .timestamp(253_402_300_799)
        #expect((try? AMQPCloudEventCodec.decode(AMQPMessage(body: Self.data, properties: AMQPProperties(headers: headers))))?.time
            == RFC3339.parse("9999-12-31T23:59:59Z"))
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1e30)) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1e30)) == "0000-01-01T00:00:00Z")
    }

    @Test func tooManyExtensionsAreRejected() {
        var attributes = Self.base
        for i in 0..<CloudEventLimits.maxExtensions { attributes["ext\(i)"] = "v" }
        for (binding, result) in Self.everyBinding(attributes) {
            #expect((try? result.get())?.extensions.count == CloudEventLimits.maxExtensions, "\(binding)")
        }
        attributes["onemore"] = "v"
        for (binding, result) in Self.everyBinding(attributes) {
            guard case .failure(let error) = result else {
                Issue.record("\(binding) accepted \(CloudEventLimits.maxExtensions + 1) extensions")
                continue
            }
            #expect(error.code == .tooManyExtensions, "\(binding): \(error)")
        }
    }

    @Test func structuredMemberGivenTwiceIsRejected() {
        for body in [
            #"{"specversion":"1.0","id":"a","id":"b","source":"//a","type":"t"}"#,
            #"{"specversion":"1.0","id":"a","id":"a","source":"//a","type":"t"}"#,
            #"{"specversion":"1.0","id":"a","i\u0064":"a","source":"//a","type":"t"}"#,
            #"{"specversion":"1.0","id":"a","source":"//a","type":"t","data":{"summary":"一","summary":"二"}}"#,
        ] {
            let message = AMQPMessage(body: Data(body.utf8), properties: AMQPProperties(contentType: CloudEventJSON.contentType))
            #expect(Self.code(message) == .duplicateKey, "\(body)")
            #expect(throws: CloudEventError.self) {
                try HTTPCloudEventCodec.decode(headers: ["content-type": CloudEventJSON.contentType], body: Data(body.utf8))
            }
        }
        // In a batch, the element that names a member twice is refused alone.
        let batch = Data(#"""
            [{"specversion":"1.0","id":"a","source":"//a","type":"t","type":"u"},
             {"specversion":"1.0","id":"b","source":"//a","type":"t","data":{"k":1,"k":2}},
             {"specversion":"1.0","id":"c","source":"//a","type":"t","data":{"k":1}}]
            """#.utf8)
        guard case .batch(let results) = try? HTTPCloudEventCodec.decode(headers: ["content-type": CloudEventJSON.batchContentType], body: batch)
        else {
            Issue.record("batch not read")
            return
        }
        #expect(results.count == 3)
        for result in results.prefix(2) {
            if case .failure(let error) = result { #expect(error.code == .duplicateKey) } else { Issue.record("batch element accepted") }
        }
        #expect((try? results[2].get())?.id == "c")
    }

    @Test func structuredNestingIsCapped() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let body = Data(#"{"specversion":"1.0","id":"a","source":"//a","type":"t","data":\#(deep)}"#.utf8)
        #expect(Self.code(AMQPMessage(body: body, properties: AMQPProperties(contentType: CloudEventJSON.contentType))) == .tooDeep)
    }

    @Test func payloadDataIsReadStrictly() throws {
        func problems(_ json: String) -> [ValidationProblem] {
            let event = CloudEvent(
                source: "//a", type: EventType.defectStatus.rawValue, datacontenttype: "application/json", data: Data(json.utf8))
            switch event.decodePayload(DefectStatus.self) {
            case .success: return []
            case .failure(let failure): return failure.problems
            }
        }
        let good = #"{"defectId":"DEF-1","status":"accepted"}"#
        #expect(problems(good).isEmpty)
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted","status":"rejected"}"#).map(\.code) == [.duplicateKey])
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted","note":"\q"}"#).map(\.code) == [.malformedJSON])
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted","x":01}"#).map(\.code) == [.malformedJSON])
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted","x":"\ud800"}"#).map(\.code) == [.malformedJSON])
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted"} x"#).map(\.code) == [.malformedJSON])
        let nested = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(problems(#"{"defectId":"DEF-1","status":"accepted","x":\#(nested)}"#).map(\.code) == [.tooDeep])
        var invalidUTF8 = Data(#"{"defectId":"DEF-1","status":"accepted","x":""#.utf8)
        invalidUTF8 += Data([0xE5, 0xB7]) + Data(#""}"#.utf8)
        let event = CloudEvent(source: "//a", type: EventType.defectStatus.rawValue, data: invalidUTF8)
        guard case .failure(let failure) = event.decodePayload(DefectStatus.self) else {
            Issue.record("truncated UTF-8 accepted")
            return
        }
        #expect(failure.problems.map(\.code) == [.invalidUTF8])
        #expect(failure.problems.first?.path == "data")
    }

    static func code(_ message: AMQPMessage) -> CloudEventError.Code? {
        do {
            _ = try AMQPCloudEventCodec.decode(message)
            return nil
        } catch {
            return error.code
        }
    }
}
