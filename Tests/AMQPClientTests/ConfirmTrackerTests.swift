@testable import AMQPClient
import Testing

@Suite("Publisher confirm bookkeeping")
struct ConfirmTrackerTests {
    @Test func singleAcksResolveOneEachInAnyOrder() {
        var t = ConfirmTracker<String>()
        #expect(t.register("a") == 1)
        #expect(t.register("b") == 2)
        #expect(t.register("c") == 3)
        #expect(t.resolve(tag: 2, multiple: false).map(\.pending) == ["b"])
        #expect(t.resolve(tag: 2, multiple: false).isEmpty, "a tag resolves once")
        #expect(t.resolve(tag: 1, multiple: false).map(\.pending) == ["a"])
        #expect(t.count == 1)
    }

    @Test func multipleAckResolvesTheWholeRangeInOrder() {
        var t = ConfirmTracker<Int>()
        for i in 1...10 { _ = t.register(i) }
        _ = t.resolve(tag: 4, multiple: false)
        let r = t.resolve(tag: 7, multiple: true)
        #expect(r.map(\.sequence) == [1, 2, 3, 5, 6, 7])
        #expect(t.count == 3)
        #expect(t.resolve(tag: 6, multiple: true).isEmpty, "an older multiple ack covers nothing new")
        #expect(t.resolve(tag: 10, multiple: true).map(\.pending) == [8, 9, 10])
        #expect(t.isEmpty)
    }

    @Test func tagsBeyondWhatWasPublishedAreIgnored() {
        var t = ConfirmTracker<Int>()
        _ = t.register(1)
        #expect(t.resolve(tag: 99, multiple: true).map(\.pending) == [1])
        #expect(t.resolve(tag: 5, multiple: false).isEmpty)
    }

    @Test func resetReturnsOutstandingInPublishOrderAndRestartsNumbering() {
        var t = ConfirmTracker<String>()
        for s in ["a", "b", "c", "d"] { _ = t.register(s) }
        _ = t.resolve(tag: 2, multiple: false)
        #expect(t.reset() == ["a", "c", "d"])
        #expect(t.register("e") == 1, "a new channel numbers from 1")
    }

    @Test func backoffGrowsWithJitterWithinBounds() {
        var b = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2))
        var g = SystemRandomNumberGenerator()
        let delays = (0..<8).map { _ in b.nextDelay(using: &g) }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[3] >= .milliseconds(400) && delays[3] <= .milliseconds(800))
        for d in delays[5...] { #expect(d >= .seconds(1) && d <= .seconds(2), "capped at the maximum") }
        b.reset()
        #expect(b.nextDelay(using: &g) <= .milliseconds(100))
    }
}

@Suite("Ack coalescing bookkeeping")
struct SettledTagsTests {
    @Test func floorAdvancesOverContiguousRunsOnly() {
        var s = SettledTags()
        s.settle(2)
        #expect(s.floor == 0, "tag 1 is still outstanding")
        s.settle(1)
        #expect(s.floor == 2)
        s.settle(5)
        s.settle(4)
        #expect(s.floor == 2 && s.isSettled(4) && s.isSettled(5) && !s.isSettled(3))
        s.settle(3)
        #expect(s.floor == 5)
        s.settleThrough(9)
        #expect(s.floor == 9)
        s.settle(11)
        s.settleThrough(10)
        #expect(s.floor == 11, "a multiple settlement joins the run above it")
    }
}
