import Foundation
import ITRTestSupport
import GRDB
import ITREvents
import ServiceKit
import Testing
@testable import IPDApp

/// Item 6 of issue 12 for ipd-feedback: an event refused as invalid leaves no inbox claim, so
/// a valid event with the same `source` + `id` is processed, not taken for a duplicate.
@Suite struct IPDInvalidReplayTests {
    @Test(arguments: TestStore.engines)
    func invalidDataThenItsValidReplay(_ engine: SQLDialect) async throws {
        let h = try await Harness.make(engine)
        defer { Task { await h.drop() } }
        let good = event(problemOpened("PRB-R1", title: "光模块温度过高", tickets: ["TKT-R1"]), id: "ipd-replay-1")
        var bad = good
        bad.data = Data(#"{"problemId":"PRB-R1","title":"缺少字段"}"#.utf8)
        let first = try await h.send([bad])
        guard case .invalid("invalid-data", _)? = first.first else {
            Issue.record("expected invalid-data, got \(first)")
            return
        }
        #expect(try await h.store.read { try Inbox.contains($0, source: good.source, id: good.id) } == false)
        #expect(try await h.send([good]) == [.processed])
        #expect(try await h.send([good]) == [.duplicate])
    }
}
