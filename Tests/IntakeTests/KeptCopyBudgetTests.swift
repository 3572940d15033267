import AMQPClient
import Foundation
import GRDB
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Testing

@testable import IntakeApp

/// Item 4 of issue 15: what one token's refused HTTP input may put into `itr.rejected` is
/// bounded per minute; past the budget each copy is still kept (never dropped), cut and marked,
/// and both are counted per submitter. Another token's budget is its own.
@Suite struct KeptCopyBudgetTests {
    @Test func aTokensRefusedBodiesAreKeptWholeWithinItsBudgetThenCut() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-budget-\(UUID().uuidString)")
        let store = try ServiceStore(path: directory.appendingPathComponent("intake.sqlite").path) { ReportIntake.registerMigrations(&$0) }
        var policy = try shippedPolicy()
        policy.configuration.keptBytesPerTokenPerMinute = 100_000
        let registry = ServiceMetrics(service: "intake-budget", registry: .init())
        let intake = try await ReportIntake(
            store: .sqlite(store), policy: policy, metrics: IntakeMetrics(metrics: registry), logger: Logger(label: "intake-budget"),
            budgetClock: { 1_000 })  // a clock that stands still: no refill during the test
        let body = Data(repeating: UInt8(ascii: "x"), count: 30_000)
        func refused(_ submitter: String?) -> ReportIntake.Item {
            ReportIntake.Item(
                event: nil, rejection: ReportRejection("unreadable", "not a CloudEvent"),
                original: AMQPMessage(body: body), submitter: submitter)
        }
        // 30 KB each against 100 KB: three whole, then cut; another token still has its own.
        for _ in 0..<5 { _ = try await intake.submit([refused("noisy")], via: .http) }
        _ = try await intake.submit([refused("quiet")], via: .http)
        _ = try await intake.submit([refused(nil)], via: .amqp)  // no token (AMQP input): no budget
        let kept = try await store.pool.read { db in
            try Outbox.pending(db, limit: 100).filter { $0.routingKey == RejectionTarget.rejectedQueue.routingKey }.map(\.message)
        }
        #expect(kept.count == 7, "every refused input is kept")
        #expect(kept.map(\.body.count) == [30_000, 30_000, 30_000, 4096, 4096, 30_000, 30_000])
        let cut = kept[3]
        #expect(cut.properties.headers["x-itr-truncated"] == .bool(true))
        #expect(cut.properties.headers["x-itr-kept-cut"]?.stringValue?.contains("noisy") == true)
        #expect(cut.properties.headers["x-itr-content-length"]?.stringValue == "30000")
        #expect(kept[0].properties.headers["x-itr-kept-cut"] == nil)
        let text = registry.render()
        #expect(text.contains(#"itr_intake_rejected_cut_total{service="intake-budget",submitter="noisy"} 2"#), "\(text)")
        #expect(text.contains(#"itr_intake_rejected_kept_bytes_total{service="intake-budget",submitter="noisy"} \#(3 * 30_000 + 2 * 4096)"#))
        #expect(text.contains(#"itr_intake_rejected_kept_bytes_total{service="intake-budget",submitter="quiet"} 30000"#))
        #expect(!text.contains(#"submitter="quiet"} 1"#))
    }
}
