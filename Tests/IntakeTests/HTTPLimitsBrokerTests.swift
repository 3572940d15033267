import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import ServiceKit
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 12 on intake's HTTP path: over-long attributes, members named twice and data that is
/// not strict JSON are answered 400 `application/problem+json` with the specific code, and kept.
@Suite("intake HTTP limits against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct HTTPLimitsBrokerTests {
    static func problems(_ answer: IntakeHarness.HTTPAnswer) -> [(path: String, code: String)] {
        (answer.json["problems"] as? [[String: Any]] ?? []).map { ($0["path"] as? String ?? "", $0["code"] as? String ?? "") }
    }

    @Test func overLongAmbiguousOrNonStrictInputIsABadRequest() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }

        // An id of 86 Chinese characters is 258 bytes: more than an AMQP short string holds.
        var longID = makeEvent(makeReport(channel: .portal, upstreamId: "HTTP-LONG"))
        longID.id = String(repeating: "工", count: 86)
        let tooLong = try await harness.post(longID)
        #expect(tooLong.status == 400 && tooLong.contentType.hasPrefix("application/problem+json"))
        #expect(Self.problems(tooLong).contains { $0 == ("id", "too-long") }, "\(tooLong.json)")

        // Structured mode naming `id` twice.
        let structured = Data(#"{"specversion":"1.0","id":"a","id":"b","source":"crm://test","type":"itr.report.submitted"}"#.utf8)
        let twice = try await harness.post(structured, headers: ["Content-Type": CloudEventJSON.contentType])
        #expect(twice.status == 400)
        #expect(Self.problems(twice).map(\.code) == ["duplicate-key"], "\(twice.json)")

        // Binary mode with data naming `summary` twice.
        var spoiled = makeEvent(makeReport(channel: .portal, upstreamId: "HTTP-TWICE"))
        spoiled.data = Data(#"{"summary":"另一个摘要","#.utf8) + spoiled.data!.dropFirst()
        let dataTwice = try await harness.post(spoiled)
        #expect(dataTwice.status == 400)
        #expect(Self.problems(dataTwice).map(\.code) == ["duplicate-key"], "\(dataTwice.json)")

        // Each is kept in itr.rejected with its reason.
        #expect(await harness.waitFor { harness.rejected.withLock { $0.count } >= 3 })
        let reasons = harness.rejected.withLock { $0.compactMap { $0.properties.headers[ITRNames.reasonHeader]?.stringValue } }
        #expect(reasons.contains { $0.contains("attribute-too-long") }, "\(reasons)")
        #expect(reasons.filter { $0.contains("duplicate-key") }.count == 2, "\(reasons)")
    }
}
