import AMQPClient
import Foundation
import GRDB
import Synchronization
import Testing

@testable import ServiceKit

/// A publisher whose confirms are held until the test releases them.
final class GatedPublisher: MessagePublisher {
    private struct State {
        var started: [String] = []
        var confirmed: [String] = []
        var waiting: [CheckedContinuation<Void, Never>] = []
        var open = false
    }

    private let state = Mutex(State())

    func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool) async throws {
        let open = state.withLock { state -> Bool in
            state.started.append(routingKey)
            return state.open
        }
        if !open {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        state.withLock { $0.confirmed.append(routingKey) }
    }

    /// Confirms everything held and everything that comes later.
    func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    var started: [String] { state.withLock { $0.started } }
    var confirmed: [String] { state.withLock { $0.confirmed } }
}

@Suite struct MemoryAndPipeliningTests {
    @Test func theRelayPublishesNewRowsWhileEarlierConfirmsAreOutstanding() async throws {
        let store = try makeTemporaryStore()
        let publisher = GatedPublisher()
        var configuration = OutboxRelay.Configuration()
        configuration.window = 16
        configuration.pollInterval = .seconds(30)
        let metrics = ServiceMetrics(service: "relay-pipeline-\(UUID())", registry: .init())
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration, metrics: metrics)
        func enqueue(_ range: Range<Int>) async throws {
            try await store.pool.write { db in
                for index in range {
                    try Outbox.enqueue(db, message: event(id: "e-\(index)"), exchange: "itr.events", routingKey: "r.\(index)")
                }
            }
            relay.notify()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            try await enqueue(0..<3)
            #expect(await eventually { publisher.started.count == 3 })
            // None confirmed yet: the rows committed now still go out at once, in order.
            try await enqueue(3..<5)
            #expect(await eventually { publisher.started.count == 5 })
            #expect(publisher.confirmed.isEmpty)
            #expect(try await store.pool.read { try Outbox.count($0) } == 5)
            publisher.open()
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) } == 0 })
            #expect(await eventually { metrics.render().contains("itr_outbox_pending{service=\"\(metrics.service)\"} 0") })
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(publisher.started == (0..<5).map { "r.\($0)" })
        #expect(Set(publisher.confirmed) == Set((0..<5).map { "r.\($0)" }))
    }

    @Test func theRelayKeepsAtMostAWindowInFlight() async throws {
        let store = try makeTemporaryStore()
        let publisher = GatedPublisher()
        var configuration = OutboxRelay.Configuration()
        configuration.window = 4
        configuration.pollInterval = .seconds(30)
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration)
        try await store.pool.write { db in
            for index in 0..<10 {
                try Outbox.enqueue(db, message: event(id: "e-\(index)"), exchange: "itr.events", routingKey: "r.\(index)")
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            relay.notify()
            #expect(await eventually { publisher.started.count == 4 })
            // Give the relay every chance to start more than its window.
            for _ in 0..<20 {
                relay.notify()
                await Task.yield()
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(publisher.started.count == 4)
            publisher.open()
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) } == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(publisher.started == (0..<10).map { "r.\($0)" })
    }

    @Test func theStoreKeepsItsConnectionsSmall() async throws {
        let store = try makeTemporaryStore()
        #expect(store.pool.configuration.maximumReaderCount == ServiceStore.defaultMaximumReaders)
        let writerCache = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        let readerCache = try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        #expect(writerCache == -ServiceStore.defaultWriterCacheKiB)
        #expect(readerCache == -ServiceStore.defaultReaderCacheKiB)
        let synchronous = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 1)  // NORMAL
        let journal = try await store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func theDeliveryBufferDropsWhatItHandedOutUnderASteadyBacklog() async throws {
        let buffer = DeliveryBuffer()
        for index in 0..<300 { buffer.append(FakeDelivery(event(id: "d-\(index)"))) }
        var handedOut: [String] = []
        for _ in 0..<2 {
            handedOut += await buffer.nextBatch(maximum: 128).map { $0.inbound.message.properties.messageID ?? "" }
            for index in 0..<20 { buffer.append(FakeDelivery(event(id: "late-\(handedOut.count)-\(index)"))) }
        }
        // Never empty, yet only what was not handed out is kept.
        #expect(buffer.count == 300 + 40 - 256)
        #expect(buffer.retainedCount == buffer.count)
        #expect(handedOut == (0..<256).map { "d-\($0)" })
        let rest = await buffer.nextBatch(maximum: 1000).map { $0.inbound.message.properties.messageID ?? "" }
        #expect(rest.prefix(44) == ArraySlice((256..<300).map { "d-\($0)" }))
        #expect(rest.count == 84)
    }

    @Test func mallocTuningDefersToTheEnvironment() {
        #expect(MallocTuning.apply(environment: ["MALLOC_ARENA_MAX": "4"]) == false)
        #if os(Linux)
        #expect(MallocTuning.apply(environment: [:]) == true)
        #endif
        MallocTuning.trim()
    }
}
