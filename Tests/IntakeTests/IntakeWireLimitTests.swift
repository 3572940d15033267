import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import ServiceKit
import Testing

/// The defect of issue 12: one input whose kept copy AMQP could not carry wedged intake (the
/// relay took librabbitmq's refusal for a lost connection and republished it forever).
@Suite("intake: kept copies AMQP cannot carry", .enabled(if: TestEnvironment.brokerTestsEnabled))
struct IntakeWireLimitTests {
    @Test func overLongPropertiesAndHugeHeadersAreKeptCutAndIntakeGoesOn() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }

        // 1. HTTP: a Content-Type a little over 255 bytes and a body that is not JSON.
        let longType = "application/cloudevents+json; charset=utf-8; " + String(repeating: "x-param=值; ", count: 20)
        #expect(longType.utf8.count > 255)
        let http = try await harness.post(Data("this is not json 不是JSON".utf8), headers: ["Content-Type": longType])
        #expect((400..<500).contains(http.status), "answered \(http.status)")

        // 2. HTTP: a header value too large for the kept copy's header table.
        let event = makeEvent(makeReport(channel: .portal, upstreamId: "HUGE-HEADER"))
        var (headers, _) = HTTPCloudEventCodec.encodeBinary(event)
        let body = Data(#"{"summary": "broken JSON 损坏"#.utf8)
        headers["x-upstream-trace"] = String(repeating: "长", count: 22_000)  // 66,000 bytes
        let huge = try await harness.post(body, headers: headers)
        #expect((400..<500).contains(huge.status), "answered \(huge.status)")

        // 3. AMQP: an invalid report whose headers, with the reason headers added, no longer fit.
        var amqpReport = AMQPCloudEventCodec.encode(makeEvent(makeReport(channel: .email, upstreamId: "AMQP-HUGE")))
        amqpReport.body = Data(#"{"summary": "broken JSON 损坏"#.utf8)
        amqpReport.properties.headers["x-test-case"] = "amqp-huge"
        // Just under what a publish may carry: the reason headers intake adds push it over.
        let used = AMQPWire.encodedSize(of: amqpReport.properties.headers, maximumDepth: 16)!
        let room = Outbox.limits.maximumHeaderBytes - used - 400
        amqpReport.properties.headers["x-filler"] = .string(String(repeating: "z", count: room))
        try await harness.publishRaw(amqpReport, routingKey: "report.email")

        // A good report still opens a ticket, after all three.
        try await harness.publish(makeEvent(makeReport(channel: .phone, upstreamId: "GOOD-AFTER")), routingKey: "report.phone")
        #expect(await harness.waitFor { harness.ticketsOpened().contains { $0.upstreamId == "GOOD-AFTER" } })
        #expect(await harness.waitFor { harness.rejected.withLock { $0.count } >= 3 })

        let kept = harness.rejected.withLock { $0 }
        let cutType = try #require(kept.first { $0.properties.contentType?.hasPrefix("application/cloudevents+json; charset") == true })
        #expect(cutType.properties.contentType!.utf8.count <= 255)
        #expect(cutType.properties.headers[AMQPWire.truncatedHeader]?.stringValue?.contains("content_type") == true)
        #expect(cutType.body == Data("this is not json 不是JSON".utf8), "the body is kept unchanged")
        #expect(cutType.properties.headers[ITRNames.reasonCodeHeader] != nil)
        let cutHeader = try #require(kept.first { $0.properties.headers["x-itr-original-routing-key"]?.stringValue == "POST /v1/reports" && $0.properties.headers[AMQPWire.truncatedHeader]?.stringValue?.contains("x-upstream-trace") == true })
        #expect(cutHeader.body == body)
        let amqpKept = try #require(kept.first { $0.properties.headers["x-test-case"]?.stringValue == "amqp-huge" })
        #expect(amqpKept.properties.headers[ITRNames.reasonCodeHeader] != nil)
        #expect(amqpKept.body == amqpReport.body)

        // Nothing parked, nothing retried forever: the metrics say so.
        let metrics = try await harness.get("/metrics")
        #expect(!metrics.contains("itr_outbox_parked_total{service=\"intake\"} 1"))
        #expect(metrics.contains("itr_amqp_connected{service=\"intake\"} 1"))
    }
}
