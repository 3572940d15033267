import AMQPClient
import Foundation
import ITRTestSupport
import Logging
import Synchronization

enum AMQPTest {
    static let logger: Logger = {
        var l = Logger(label: "amqp-test")
        l.logLevel = .warning
        return l
    }()

    static func connect(_ url: String = TestEnvironment.amqpURL, heartbeat: Int? = nil, name: String = "amqp-test") async throws -> AMQPConnection {
        var config = try AMQPConfiguration(url: url)
        config.connectionName = name
        config.reconnectInitialDelay = .milliseconds(50)
        config.reconnectMaxDelay = .seconds(1)
        if let heartbeat { config.heartbeat = heartbeat }
        return try await AMQPConnection.connect(config, logger: logger)
    }

    /// A fresh durable quorum queue bound to the default exchange (by name).
    static func freshQueue(_ conn: AMQPConnection, prefix: String = "test.amqp") async throws -> String {
        let name = TestEnvironment.uniqueName(prefix)
        try await conn.declare(AMQPTopology(queues: [.quorum(name)]))
        return name
    }

    static func message(_ i: Int, size: Int = 0) -> AMQPMessage {
        var body = Data("{\"n\":\(i),\"text\":\"设备告警 alarm\"}".utf8)
        if size > body.count { body.append(Data(repeating: UInt8(ascii: "x"), count: size - body.count)) }
        return AMQPMessage(body: body, properties: AMQPProperties(contentType: "application/json", deliveryMode: 2, messageID: "m-\(i)"))
    }

    /// Publishes `count` messages with `concurrency` in flight; returns the ids confirmed.
    static func publishAll(_ conn: AMQPConnection, queue: String, range: Range<Int>, concurrency: Int = 256) async throws -> Set<String> {
        try await withThrowingTaskGroup(of: String.self) { group in
            var confirmed = Set<String>()
            var iterator = range.makeIterator()
            for _ in 0..<concurrency {
                guard let i = iterator.next() else { break }
                group.addTask { try await conn.publish(message(i), exchange: "", routingKey: queue); return "m-\(i)" }
            }
            while let id = try await group.next() {
                confirmed.insert(id)
                if let i = iterator.next() {
                    group.addTask { try await conn.publish(message(i), exchange: "", routingKey: queue); return "m-\(i)" }
                }
            }
            return confirmed
        }
    }
}

/// Collects message ids from a consumer in the background.
final class Collector: Sendable {
    private final class State: Sendable {
        let ids = Mutex<Set<String>>([])
        let total = Atomic<Int>(0)
    }
    private let state = State()
    let task: Task<Void, any Error>

    init(_ consumer: AMQPConsumer) {
        let state = self.state
        task = Task {
            for try await d in consumer {
                let id = d.message.properties.messageID ?? ""
                state.ids.withLock { _ = $0.insert(id) }
                state.total.add(1, ordering: .relaxed)
                d.ack()
            }
        }
    }

    var received: Set<String> { state.ids.withLock { $0 } }
    var deliveries: Int { state.total.load(ordering: .relaxed) }

    /// Waits until every id in `expected` arrived, or the timeout passes.
    func waitFor(_ expected: Set<String>, timeout: Duration = .seconds(60)) async throws -> Set<String> {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let missing = expected.subtracting(received)
            if missing.isEmpty { return [] }
            try await Task.sleep(for: .milliseconds(50))
        }
        return expected.subtracting(received)
    }
}

/// Publishes numbered messages, 16 in flight, until stopped; remembers what was confirmed.
final class ContinuousPublisher: Sendable {
    private let task: Task<Void, any Error>

    init(conn: AMQPConnection, queue: String) {
        let box = Box()
        self.box = box
        task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<16 {
                    group.addTask {
                        var i = lane
                        while !box.stopping.load(ordering: .relaxed) {
                            try await conn.publish(AMQPTest.message(i), exchange: "", routingKey: queue)
                            box.confirmed.withLock { _ = $0.insert("m-\(i)") }
                            i += 16
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    private final class Box: Sendable {
        let confirmed = Mutex<Set<String>>([])
        let stopping = Atomic<Bool>(false)
    }
    private let box: Box

    var confirmedCount: Int { box.confirmed.withLock { $0.count } }

    func waitForConfirmed(_ n: Int, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while confirmedCount < n {
            guard ContinuousClock.now < deadline else { throw CommandFailed(command: ["publish"], status: 1, output: "only \(confirmedCount) of \(n) confirmed in time") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops publishing and returns every confirmed id.
    func stop() async throws -> Set<String> {
        box.stopping.store(true, ordering: .relaxed)
        try await task.value
        return box.confirmed.withLock { $0 }
    }
}
