import AMQPClient
import Foundation
import ITRTestSupport
import GRDB
import Logging
import ServiceLifecycle
import Testing

@testable import ServiceKit

@Suite struct OutboxRelayTests {
    func enqueue(_ store: ServiceStore, _ ids: Range<Int>) async throws {
        try await enqueue(SQLStore.sqlite(store), ids)
    }

    func enqueue(_ store: SQLStore, _ ids: Range<Int>) async throws {
        try await store.write { db in
            for index in ids {
                try Outbox.enqueue(db, message: event(id: "e-\(index)"), exchange: "itr.events", routingKey: "r.\(index)")
            }
        }
    }

    func configuration(window: Int = 256) -> OutboxRelay.Configuration {
        var configuration = OutboxRelay.Configuration()
        configuration.window = window
        configuration.pollInterval = .seconds(30)  // tests rely on notify(), not polling
        configuration.initialBackoff = .milliseconds(10)
        configuration.maximumBackoff = .milliseconds(40)
        return configuration
    }

    @Test(arguments: SQLStoreTests.engines)
    func publishesInOrderAndDeletes(_ engine: SQLDialect) async throws {
        let test = try await TestStore.open(engine)
        defer { Task { await test.drop() } }
        let store = test.store
        let publisher = FakePublisher()
        let metrics = ServiceMetrics(service: "relay-test-\(UUID())", registry: .init())
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration(window: 16), metrics: metrics)
        try await enqueue(store, 0..<100)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            relay.notify()
            #expect(await eventually { publisher.published.count == 100 })
            #expect(try await eventually { try await store.read { try Outbox.count($0) } == 0 })
            // Rows enqueued later are picked up on notify.
            try await enqueue(store, 100..<103)
            relay.notify()
            #expect(await eventually { publisher.published.count == 103 })
            // The counters move just after the confirms the fake publisher records.
            #expect(await eventually {
                metrics.render().contains("itr_outbox_pending{service=\"\(metrics.service)\"} 0")
                    && metrics.render().contains("itr_events_published_total{service=\"\(metrics.service)\",exchange=\"itr.events\"} 103")
            })
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(publisher.published.map(\.routingKey) == (0..<103).map { "r.\($0)" })
        #expect(publisher.published[5].message == event(id: "e-5"))
        #expect(metrics.render().contains("itr_outbox_pending{service=\"\(metrics.service)\"} 0"))
        #expect(metrics.render().contains("itr_events_published_total{service=\"\(metrics.service)\",exchange=\"itr.events\"} 103"))
    }

    @Test(arguments: SQLStoreTests.engines)
    func retriesAfterFailuresWithoutLosingRows(_ engine: SQLDialect) async throws {
        let test = try await TestStore.open(engine)
        defer { Task { await test.drop() } }
        let store = test.store
        let publisher = FakePublisher()
        publisher.failNext(25)
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration(window: 8))
        try await enqueue(store, 0..<40)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            relay.notify()
            #expect(await eventually { publisher.published.count == 40 })
            #expect(try await eventually { try await store.read { try Outbox.count($0) } == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
        // Every row published exactly once, none lost.
        #expect(Set(publisher.published.map(\.routingKey)) == Set((0..<40).map { "r.\($0)" }))
        #expect(publisher.published.count == 40)
        #expect(publisher.attempts == 65)
    }

    @Test func aRowThatKeepsFailingStaysInTheTable() async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        publisher.failWhen { $0.properties.messageID == "e-3" }
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration())
        try await enqueue(store, 0..<6)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            relay.notify()
            #expect(await eventually { publisher.published.count == 5 && publisher.attempts >= 9 })
            let left = try await store.pool.read { try Outbox.pending($0, limit: 10) }
            #expect(left.map(\.routingKey) == ["r.3"])
            publisher.failWhen(nil)
            #expect(await eventually { publisher.published.count == 6 })
            // The row is deleted after its confirm, a moment after the publish returned.
            #expect(try await eventually { try await store.pool.read { try Outbox.count($0) } == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(try await store.pool.read { try Outbox.count($0) } == 0)
    }

    @Test func gracefulShutdownDrainsWhatIsPending() async throws {
        let store = try makeTemporaryStore()
        let publisher = FakePublisher()
        let relay = OutboxRelay(store: store, publisher: publisher, configuration: configuration(window: 4))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [relay], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            // Enqueued without notify: only the shutdown drain can publish these in time.
            try await enqueue(store, 0..<10)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(publisher.published.count == 10)
        #expect(try await store.pool.read { try Outbox.count($0) } == 0)
    }
}
