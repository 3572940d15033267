import AMQPClient
import Foundation
import ITRTestSupport
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the system tests ask the running services and the broker: HTTP with timeouts (a
/// hang is a failure, not a wait), readiness, parked outbox rows, queue depths.
enum SystemProbe {
    struct Answer: Sendable {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// One request; throws on a transport error or after `timeout` without an answer.
    static func request(
        _ method: String, port: Int, path: String, headers: [String: String] = [:], body: Data? = nil,
        timeout: TimeInterval = 30
    ) async throws -> Answer {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else {
            throw CommandFailed(command: [method, path], status: -1, output: "not a URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else {
            throw CommandFailed(command: [method, path], status: -1, output: "not an HTTP response")
        }
        return Answer(status: http.statusCode, body: data)
    }

    /// The SHA-256 hex digest of `text` (how `API_TOKENS` holds a token), by `sha256sum`.
    static func sha256(_ text: String) async throws -> String {
        let (status, output) = try await runCommand(["sh", "-c", "printf %s \"$0\" | sha256sum", text])
        guard status == 0, let hash = output.split(separator: " ").first else {
            throw CommandFailed(command: ["sha256sum"], status: status, output: output)
        }
        return String(hash)
    }

    /// `GET /readyz` answers 200.
    static func ready(port: Int) async -> Bool {
        (try? await request("GET", port: port, path: "/readyz", timeout: 10))?.status == 200
    }

    /// `GET /v1/outbox/parked` → the parked rows (count and the rows' JSON).
    static func parked(port: Int) async throws -> (count: Int, rows: [[String: Any]]) {
        let answer = try await request("GET", port: port, path: "/v1/outbox/parked", headers: ["Authorization": TestTokens.opsAuthorization], timeout: 10)
        guard answer.status == 200, let count = answer.json["count"] as? Int else {
            throw CommandFailed(command: ["GET /v1/outbox/parked"], status: Int32(answer.status), output: answer.text)
        }
        return (count, answer.json["parked"] as? [[String: Any]] ?? [])
    }

    /// The value of a metric (`name{labels} value`, or `name_total` for a counter) in
    /// `GET /metrics`, summed over labels.
    static func metric(port: Int, _ name: String) async throws -> Double {
        let answer = try await request("GET", port: port, path: "/metrics", headers: ["Authorization": TestTokens.opsAuthorization], timeout: 10)
        var sum = 0.0
        for line in answer.text.split(separator: "\n") where line.hasPrefix(name) {
            var rest = line.dropFirst(name.count)
            if rest.hasPrefix("_total") { rest = rest.dropFirst(6) }
            guard rest.first == " " || rest.first == "{" else { continue }
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { sum += value }
        }
        return sum
    }

    /// Ready messages of `queue` (passive declare: unacknowledged ones are not counted).
    static func ready(_ connection: AMQPConnection, queue: String) async throws -> UInt32 {
        try await connection.inspectQueue(queue).messageCount
    }

    /// Every queue of `vhost` with its messages, ready AND unacknowledged (`rabbitmqctl list_queues`).
    static func queueDepths(node: BrokerNode, vhost: String) async throws -> [String: Int] {
        let output = try await node.ctl("list_queues", "-p", vhost, "name", "messages", "--no-table-headers", "--quiet")
        var depths: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count >= 2, let count = Int(fields[fields.count - 1]) { depths[String(fields[0])] = count }
        }
        return depths
    }

    /// The vhost of an AMQP URL made by `TestEnvironment.makeVhost`.
    static func vhost(of url: String) -> String {
        url.split(separator: "/").last.flatMap { String($0).removingPercentEncoding } ?? "/"
    }

    /// Polls `probe` until it is true; false after `timeout`.
    static func eventually(timeout: Duration, every: Duration = .milliseconds(200), _ probe: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await probe() { return true }
            try? await Task.sleep(for: every)
        }
        return try await probe()
    }
}

/// Everything that arrives on some queues (the kept-input queues), acked and recorded.
final class QueueCollector: Sendable {
    struct Kept: Sendable {
        var queue: String
        var message: AMQPMessage
        /// The test's tag of the input: the `x-hostile` header, else the message id.
        var tag: String?
        var reasonCode: String?
    }

    private let kept = Mutex<[Kept]>([])
    private let consumers = Mutex<[AMQPConsumer]>([])
    let tagHeader: String

    init(tagHeader: String = "x-hostile") { self.tagHeader = tagHeader }

    func start(_ connection: AMQPConnection, queues: [String]) async throws {
        for queue in queues {
            let consumer = try await connection.consume(queue: queue, prefetch: 500)
            consumers.withLock { $0.append(consumer) }
            Task { [self] in
                for try await delivery in consumer {
                    let headers = delivery.message.properties.headers
                    var tag: String?
                    if case .string(let value)? = headers[tagHeader] { tag = value }
                    tag = tag ?? delivery.message.properties.messageID
                    var code: String?
                    if case .string(let value)? = headers["x-itr-reason-code"] { code = value }
                    kept.withLock { $0.append(Kept(queue: queue, message: delivery.message, tag: tag, reasonCode: code)) }
                    delivery.ack()
                }
            }
        }
    }

    var all: [Kept] { kept.withLock { $0 } }

    func cancel() { for consumer in consumers.withLock({ $0 }) { consumer.cancel() } }
}
