import AMQPClient
import Foundation
import GRDB
import Synchronization

@testable import ServiceKit

/// A fresh database in a temporary directory.
func makeTemporaryStore(migrations: (inout DatabaseMigrator) -> Void = { _ in }) throws -> ServiceStore {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("servicekit-\(UUID().uuidString)")
    return try ServiceStore(path: directory.appendingPathComponent("test.sqlite").path, migrations: migrations)
}

/// A publisher that records what it confirmed and can be told to fail.
final class FakePublisher: MessagePublisher {
    struct Published: Sendable, Hashable {
        var message: AMQPMessage
        var exchange: String
        var routingKey: String
    }

    struct Failure: Error {}

    private struct State {
        var published: [Published] = []
        var attempts = 0
        var failNextAttempts = 0
        var failWhen: (@Sendable (AMQPMessage) -> Bool)?
        var failure: any Error = Failure()
    }

    private let state = Mutex(State())

    func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool) async throws {
        let failure = state.withLock { state -> (any Error)? in
            state.attempts += 1
            if state.failNextAttempts > 0 {
                state.failNextAttempts -= 1
                return state.failure
            }
            if let failWhen = state.failWhen, failWhen(message) { return state.failure }
            state.published.append(Published(message: message, exchange: exchange, routingKey: routingKey))
            return nil
        }
        await Task.yield()
        if let failure { throw failure }
    }

    var published: [Published] { state.withLock { $0.published } }
    var attempts: Int { state.withLock { $0.attempts } }
    func failNext(_ count: Int) { state.withLock { $0.failNextAttempts = count } }
    func failWhen(_ predicate: (@Sendable (AMQPMessage) -> Bool)?, with error: any Error = Failure()) {
        state.withLock {
            $0.failWhen = predicate
            $0.failure = error
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes. The timeout is generous: the whole
/// suite runs in parallel on small CI machines, where a busy moment can starve these tasks
/// for seconds (seen with a release build running beside the tests).
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

func event(id: String, source: String = "/test", type: String = "itr.test.happened", body: String = "{}") -> AMQPMessage {
    AMQPMessage(
        body: Data(body.utf8),
        properties: AMQPProperties(
            contentType: "application/json", headers: ["ce-id": .string(id), "ce-source": .string(source), "ce-type": .string(type)],
            deliveryMode: 2, messageID: id, type: type))
}
