import Foundation
import ITRTestSupport
import Testing

@testable import AMQPClient

/// The connection's life without a socket: every transition and what it asks the loop to do.
@Suite struct ConnectionStateMachineTests {
    /// Seeded: back-off delays are the same on every run.
    static func fixed() -> SplitMix64 { SplitMix64(seed: 42) }

    let t0 = ContinuousClock.now
    func machine() -> ConnectionStateMachine {
        ConnectionStateMachine(backoff: ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1)), closeTimeout: .seconds(5))
    }

    @Test func theFirstFailureIsReportedNotRetried() {
        var m = machine()
        let r1 = m.nextStep(now: t0, hasConnection: false, outstanding: false)
        #expect(r1 == .connect)
        var random = Self.fixed()
        let r2 = m.connectFailed(now: t0, using: &random)
        #expect(r2 == .giveUp)
        #expect(m.state == .closed)
        let r3 = m.nextStep(now: t0, hasConnection: false, outstanding: false)
        #expect(r3 == .stop)
    }

    @Test func aLostConnectionRecoversWithGrowingBackOffThenResets() {
        var m = machine()
        m.connected()
        let r4 = m.nextStep(now: t0, hasConnection: true, outstanding: false)
        #expect(r4 == .work(publish: true))
        var random = Self.fixed()
        guard case .recover(let first) = m.lost(now: t0, using: &random) else {
            Issue.record("expected recovery")
            return
        }
        // The delay is drawn from [cap/2, cap]: 50-100 ms for the first attempt.
        #expect(first - t0 >= .milliseconds(50) && first - t0 <= .milliseconds(100))
        let r5 = m.nextStep(now: t0, hasConnection: false, outstanding: false)
        #expect(r5 == .sleep(until: first))
        let r6 = m.nextStep(now: first, hasConnection: false, outstanding: false)
        #expect(r6 == .connect)
        guard case .retry(let second) = m.connectFailed(now: first, using: &random) else {
            Issue.record("expected a retry")
            return
        }
        #expect(second - first >= .milliseconds(100), "the second delay is longer")
        let r7 = m.connected()
        #expect(r7, "a recovery")
        #expect(m.isOpen)
        // After a success the back-off starts over.
        guard case .recover(let again) = m.lost(now: t0, using: &random) else { return }
        #expect(again - t0 <= .milliseconds(100))
        // A second loss report while recovering changes nothing.
        let r8 = m.lost(now: t0, using: &random)
        #expect(r8 == .ignore)
    }

    @Test func aBlockedConnectionStopsPublishingButKeepsWorking() {
        var m = machine()
        m.connected()
        let r9 = m.brokerBlocked()
        #expect(r9)
        let r10 = m.brokerBlocked()
        #expect(!r10, "already blocked")
        #expect(!m.mayPublish)
        let r11 = m.nextStep(now: t0, hasConnection: true, outstanding: true)
        #expect(r11 == .work(publish: false), "reading and acks go on")
        let r12 = m.brokerUnblocked()
        #expect(r12)
        #expect(m.mayPublish)
        // A loss while blocked: the new connection starts unblocked.
        m.brokerBlocked()
        _ = m.lost(now: t0)
        m.connected()
        #expect(m.state == .open(blocked: false))
    }

    @Test func aGracefulCloseDrainsUntilTheDeadline() {
        var m = machine()
        m.connected()
        let r13 = m.closeRequested(now: t0)
        #expect(r13 == .drain(deadline: t0 + .seconds(5)))
        let r14 = m.closeRequested(now: t0)
        #expect(r14 == .alreadyClosing)
        #expect(m.mayPublish, "what is waiting may still go out")
        let r15 = m.nextStep(now: t0, hasConnection: true, outstanding: true)
        #expect(r15 == .work(publish: true))
        let r16 = m.nextStep(now: t0, hasConnection: true, outstanding: false)
        #expect(r16 == .finishClose, "drained")
        let r17 = m.nextStep(now: t0 + .seconds(5), hasConnection: true, outstanding: true)
        #expect(r17 == .finishClose, "deadline")
        let r18 = m.lost(now: t0)
        #expect(r18 == .finishClose, "lost while closing: finish")
        let r19 = m.nextStep(now: t0, hasConnection: false, outstanding: true)
        #expect(r19 == .finishClose)
        m.finished()
        let r20 = m.nextStep(now: t0, hasConnection: false, outstanding: false)
        #expect(r20 == .stop)
    }

    @Test func closingWhileRecoveringFinishesAtOnce() {
        var m = machine()
        m.connected()
        _ = m.lost(now: t0)
        let r21 = m.closeRequested(now: t0)
        #expect(r21 == .finishClose)
        let r22 = m.nextStep(now: t0, hasConnection: false, outstanding: true)
        #expect(r22 == .finishClose)
        let r23 = m.brokerBlocked()
        #expect(!r23, "not open: nothing to block")
    }
}
