import Foundation
import GRDB
import ITREvents
import ServiceKit
import Testing

/// Item 6 of issue 12 for ltc-extractor: an event refused as invalid leaves no inbox claim, so
/// a valid event with the same `source` + `id` is processed, not taken for a duplicate.
@Suite struct LTCInvalidReplayTests {
    @Test func invalidDataThenItsValidReplay() async throws {
        let h = try Harness()
        let good = opened("T-L1", account: "ACC-1001", product: Product(line: "routers", model: "RX8000"), at: Date(), id: "ltc-replay-1")
        var bad = good
        bad.data = Data(#"{"ticketId":"T-L1","ticketId":"T-L2"}"#.utf8)
        let first = try await h.deliver(bad)
        guard case .invalid("invalid-data", let message)? = first.first else {
            Issue.record("expected invalid-data, got \(first)")
            return
        }
        #expect(message.contains("duplicate-key"))
        #expect(try await h.store.pool.read { try Inbox.contains($0, source: good.source, id: good.id) } == false)
        #expect(try await h.deliver(good) == [.processed])
        #expect(try await h.deliver(good) == [.duplicate])
    }
}
