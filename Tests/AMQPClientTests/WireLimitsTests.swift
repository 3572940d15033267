import AMQPClient
import Foundation
import ITRTestSupport
import Testing

/// The pre-publish check and the fitting of copies (no broker).
@Suite("AMQP wire limits")
struct WireLimitsTests {
    let limits = AMQPMessageLimits()

    func message(_ properties: AMQPProperties, body: Data = Data("{}".utf8)) -> AMQPMessage {
        AMQPMessage(body: body, properties: properties)
    }

    func refusal(_ m: AMQPMessage, exchange: String = "itr.events", routingKey: String = "itr.ticket.opened") -> AMQPError? {
        do {
            try AMQPWire.check(m, exchange: exchange, routingKey: routingKey, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    static let longText = String(repeating: "类", count: 86)  // 258 bytes

    static func set(_ name: String, _ value: String, in p: inout AMQPProperties) {
        switch name {
        case "content_type": p.contentType = value
        case "content_encoding": p.contentEncoding = value
        case "correlation_id": p.correlationID = value
        case "reply_to": p.replyTo = value
        case "expiration": p.expiration = value
        case "message_id": p.messageID = value
        case "type": p.type = value
        case "user_id": p.userID = value
        default: p.appID = value
        }
    }

    @Test(arguments: [
        "content_type", "content_encoding", "correlation_id", "reply_to", "expiration", "message_id", "type", "user_id", "app_id",
    ])
    func everyShortStringPropertyIsCheckedAtItsByteLength(_ property: String) throws {
        var p = AMQPProperties.persistent
        Self.set(property, String(repeating: "a", count: 255), in: &p)
        #expect(refusal(message(p)) == nil, "255 bytes fit")
        Self.set(property, Self.longText, in: &p)
        let error = try #require(refusal(message(p)))
        #expect(error.code == .unencodable)
        #expect(error.message.contains("258 bytes") && error.message.contains(property))
    }

    @Test func exchangeRoutingKeyAndHeaderNamesAreShortStrings() throws {
        let m = message(.persistent)
        #expect(refusal(m, exchange: String(repeating: "e", count: 256))?.message.contains("exchange") == true)
        #expect(refusal(m, routingKey: String(repeating: "k", count: 256))?.message.contains("routing key") == true)
        var p = AMQPProperties.persistent
        p.headers[String(repeating: "h", count: 256)] = "v"
        #expect(refusal(message(p))?.message.contains("header name") == true)
        p.headers = ["outer": .table([String(repeating: "h", count: 300): "v"])]
        #expect(refusal(message(p))?.message.contains("nested header table") == true)
    }

    @Test func theContentHeaderMustStayWellUnderTheFrame() throws {
        var p = AMQPProperties.persistent
        p.headers["big"] = .string(String(repeating: "x", count: limits.maximumHeaderBytes))
        let error = try #require(refusal(message(p)))
        #expect(error.code == .unencodable && error.message.contains("content header"))
        #expect(limits.maximumHeaderBytes < limits.frameMax / 2)
    }

    @Test func bodiesOverMaxMessageSizeAndDeepHeadersAreRefused() throws {
        #expect(refusal(message(.persistent, body: Data(count: limits.maximumBodyBytes))) == nil)
        #expect(refusal(message(.persistent, body: Data(count: limits.maximumBodyBytes + 1)))?.message.contains("max_message_size") == true)
        var deep: AMQPFieldValue = "leaf"
        for _ in 0..<limits.maximumTableDepth { deep = .table(["n": deep]) }
        var p = AMQPProperties.persistent
        p.headers = ["n": deep]
        #expect(refusal(message(p))?.message.contains("nest deeper") == true)
        var arrays: AMQPFieldValue = "leaf"
        for _ in 0..<40 { arrays = .array([arrays]) }
        p.headers = ["a": arrays]
        #expect(refusal(message(p))?.message.contains("nest deeper") == true)
    }

    @Test func encodedSizesAreTheWireSizes() {
        // "k" (1+1) + 'S' + 4-byte length + 3 bytes; "n" (1+1) + 'I' + 4.
        #expect(AMQPWire.encodedSize(of: ["k": "abc"], maximumDepth: 4) == 2 + 1 + 4 + 3)
        #expect(AMQPWire.encodedSize(of: ["n": .int32(1)], maximumDepth: 4) == 2 + 1 + 4)
        #expect(AMQPWire.encodedSize(of: ["t": .table(["k": "中"])], maximumDepth: 4) == 2 + 1 + 4 + (2 + 1 + 4 + 3))
        #expect(AMQPWire.encodedSize(of: ["t": .table(["k": "v"])], maximumDepth: 1) == nil)
    }

    @Test func fittingCutsOutsideInputToWhatTheWireCarriesAndSaysSo() throws {
        var p = AMQPProperties.persistent
        p.contentType = "application/json; " + String(repeating: "参数=值; ", count: 40)
        p.messageID = String(repeating: "i", count: 400)
        p.headers = [
            String(repeating: "h", count: 300): "v",
            "x-itr-reason-code": "invalid-content-type",
            "huge": .string(String(repeating: "长", count: 60_000)),
            "deep": {
                var v: AMQPFieldValue = "leaf"
                for _ in 0..<50 { v = .table(["n": v]) }
                return v
            }(),
        ]
        let original = message(p, body: Data(count: limits.maximumBodyBytes + 10))
        let fitted = AMQPWire.fitted(original, limits: limits)
        try AMQPWire.check(fitted, exchange: "", routingKey: "itr.rejected", limits: limits)
        let marker = try #require(fitted.properties.headers[AMQPWire.truncatedHeader]?.stringValue)
        for cut in ["content_type", "message_id", "header-name", "header-nesting", "header:huge", "body"] {
            #expect(marker.contains(cut), "\(cut) named in \(marker)")
        }
        #expect(fitted.properties.headers["x-itr-reason-code"] == "invalid-content-type", "our own headers are kept")
        let type = try #require(fitted.properties.contentType)
        #expect(type.utf8.count <= 255 && type.hasSuffix(AMQPWire.truncationMark) && type.hasPrefix("application/json; 参数=值"))
        #expect(fitted.body.count == limits.maximumBodyBytes)
        // A message that fits is left alone.
        let fine = message(.persistent)
        #expect(AMQPWire.fitted(fine, limits: limits) == fine)
    }

    @Test func truncationKeepsWholeCharacters() {
        let cut = AMQPWire.truncated(String(repeating: "故障", count: 200), toBytes: 100)
        #expect(cut.utf8.count <= 100)
        #expect(cut.hasSuffix(AMQPWire.truncationMark))
        #expect(String(validating: Array(cut.utf8), as: UTF8.self) == cut)
        #expect(AMQPWire.truncated("short", toBytes: 100) == "short")
    }
}
