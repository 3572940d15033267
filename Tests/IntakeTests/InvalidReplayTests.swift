import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Testing

@testable import IntakeApp

/// Item 6 of issue 12 for intake: a rejected report leaves no idempotency record, so a valid
/// report with the same `source` + `id` (the upstream's corrected replay) opens its ticket.
@Suite struct IntakeInvalidReplayTests {
    let intake: ReportIntake

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-replay-\(UUID().uuidString)")
        let store = try ServiceStore(path: directory.appendingPathComponent("intake.sqlite").path) { ReportIntake.registerMigrations(&$0) }
        let policy = try shippedPolicy()
        intake = try await ReportIntake(
            store: .sqlite(store), policy: policy, metrics: IntakeMetrics(metrics: ServiceMetrics(service: "intake-replay", registry: .init())),
            logger: Logger(label: "intake-replay"))
    }

    func report(_ upstreamId: String) throws -> CloudEvent {
        try CloudEvent(source: "crm://cn-east/portal", payload: makeReport(channel: .phone, upstreamId: upstreamId), id: "replay-\(upstreamId)")
    }

    func spoiled(_ event: CloudEvent, _ change: (inout [String: Any]) -> Void) throws -> CloudEvent {
        var object = try #require(try JSONSerialization.jsonObject(with: event.data!) as? [String: Any])
        change(&object)
        var bad = event
        bad.data = try JSONSerialization.data(withJSONObject: object)
        return bad
    }

    func inbound(_ event: CloudEvent) -> InboundMessage {
        InboundMessage(message: AMQPCloudEventCodec.encode(event), exchange: ITRNames.ingressExchange, routingKey: "report.phone")
    }

    @Test func amqpReportFailingValidationThenItsValidReplay() async throws {
        let handler = IntakeEventHandler(intake: intake)
        let good = try report("R-1")
        let bad = try spoiled(good) { $0["summary"] = "   " }
        let first = try await handler.handle([inbound(bad)])
        guard case .invalid("validation-failed", let message)? = first.first else {
            Issue.record("expected validation-failed, got \(first)")
            return
        }
        #expect(message.contains("data.summary: empty"))
        #expect(try await handler.handle([inbound(good)]) == [.processed])
        #expect(try await handler.handle([inbound(good)]) == [.duplicate])
    }

    @Test func amqpReportWithDuplicateKeyThenItsValidReplayInOneBatch() async throws {
        let handler = IntakeEventHandler(intake: intake)
        let good = try report("R-2")
        var bad = good
        bad.data = Data("{\"summary\":\"另一个摘要\",".utf8) + good.data!.dropFirst()
        let result = try await handler.handle([inbound(bad), inbound(good)])
        #expect(result.count == 2)
        guard case .invalid("malformed-data", let message)? = result.first else {
            Issue.record("expected malformed-data, got \(result)")
            return
        }
        #expect(message.contains("duplicate-key"))
        #expect(result.last == .processed)
    }

    @Test func httpReportFailingValidationThenItsValidReplay() async throws {
        let good = try report("R-3")
        let bad = try spoiled(good) { $0["channel"] = "fax" }
        let first = try await intake.submit([ReportIntake.Item(event: bad)], via: .http)
        guard case .rejected(let rejection)? = first.first else {
            Issue.record("expected a rejection, got \(first)")
            return
        }
        #expect(rejection.reasonCode == "validation-failed")
        let second = try await intake.submit([ReportIntake.Item(event: good)], via: .http)
        guard case .opened(let ticketId)? = second.first else {
            Issue.record("the valid replay was not opened: \(second)")
            return
        }
        let third = try await intake.submit([ReportIntake.Item(event: good)], via: .http)
        #expect(third.first == .duplicate(ticketId: ticketId))
    }
}
