import AMQPClient
import Foundation
import ITREvents
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The broker the interop tests use: `AMQP_URL` (what `deploy/scripts/test.sh` exports for the
/// broker it started), else 127.0.0.1:5672.
let interopBrokerURL = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"

/// True when that broker answers, and always when broker tests are required
/// (`ITR_TEST_BROKER=1`: a missing broker must fail them, not skip them).
func interopBrokerReachable() -> Bool {
    if ProcessInfo.processInfo.environment["ITR_TEST_BROKER"] == "1" { return true }
    let port = URLComponents(string: interopBrokerURL)?.port ?? 5672
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return rc == 0
    #else
    return false
    #endif
}

/// Interop with Python's cloudevents SDK (bindings.rabbitmq) and pika over a real broker:
/// Python reads what Swift publishes and Swift reads what Python publishes, in both modes.
/// Runs when the broker of `AMQP_URL` answers (or broker tests are required).
@Suite(.serialized, .enabled(if: interopBrokerReachable()))
struct InteropTests {
    static let interopDir = SchemaTests.packageRoot.appendingPathComponent("Tests/interop")

    func connection() async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: interopBrokerURL)
        configuration.connectionName = "itr-events-interop-tests"
        return try await AMQPConnection.connect(configuration, logger: Logger(label: "interop"))
    }

    @Test func pythonReadsWhatSwiftPublishes() async throws {
        let amqp = try await connection()
        let queue = "itr-events-interop-\(UUID().uuidString.prefix(8))"
        try await amqp.declare(AMQPTopology(queues: [AMQPQueue(name: queue, durable: false)]))
        var sent: [CloudEvent] = []
        for (i, mode) in [AMQPCloudEventCodec.Mode.binary, .binary, .structured, .structured].enumerated() {
            var event = try CloudEvent(
                source: "//interop/swift", payload: Samples.report, id: "swift-\(mode.rawValue)-\(i)", subject: "工单-\(i)",
                time: Samples.t0)
            event.correlationID = "T-\(i)"
            sent.append(event)
            try await amqp.publish(AMQPCloudEventCodec.encode(event, mode: mode), exchange: "", routingKey: queue)
        }
        let (status, output) = try await SchemaTests.runPython([
            Self.interopDir.appendingPathComponent("ce_consume.py").path, "--queue", queue, "--count", "4",
            "--url", interopBrokerURL,
        ])
        _ = try? await amqp.deleteQueue(queue)
        await amqp.close()
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.count == 4, "\(output)")
        for (line, event) in zip(lines, sent) {
            let attributes = line["attributes"] as? [String: String] ?? [:]
            #expect(attributes["id"] == event.id)
            #expect(attributes["subject"] == event.subject)
            #expect(attributes["type"] == "itr.report.submitted")
            #expect(attributes["correlationid"] == event.correlationID)
            #expect(attributes["time"].flatMap(RFC3339.parse) == event.time)
            let data = line["data"] as? [String: Any]
            #expect(data?["summary"] as? String == Samples.report.summary)
            let amqpProps = line["amqp"] as? [String: Any]
            #expect(amqpProps?["message_id"] as? String == event.id)
            #expect(amqpProps?["delivery_mode"] as? Int == 2)
        }
        #expect(lines.map { $0["mode"] as? String } == ["binary", "binary", "structured", "structured"])
    }

    @Test func swiftReadsWhatPythonPublishes() async throws {
        let amqp = try await connection()
        let queue = "itr-events-interop-\(UUID().uuidString.prefix(8))"
        try await amqp.declare(AMQPTopology(queues: [AMQPQueue(name: queue, durable: false)]))
        for mode in ["binary", "structured"] {
            let (status, output) = try await SchemaTests.runPython([
                Self.interopDir.appendingPathComponent("ce_publish.py").path, "--mode", mode, "--exchange", "",
                "--routing-key", queue, "--count", "2", "--url", interopBrokerURL,
            ])
            #expect(status == 0, "\(output)")
        }
        let consumer = try await amqp.consume(queue: queue, prefetch: 10)
        var events: [CloudEvent] = []
        for try await delivery in consumer {
            let event = try AMQPCloudEventCodec.decode(delivery.message)
            events.append(event)
            delivery.ack()
            if events.count == 4 { break }
        }
        consumer.cancel()
        _ = try? await amqp.deleteQueue(queue)
        await amqp.close()
        #expect(events.map(\.id) == ["py-binary-0", "py-binary-1", "py-structured-0", "py-structured-1"])
        for (i, event) in events.enumerated() {
            #expect(event.source == "//interop/python")
            #expect(event.subject == "工单-\(i % 2)")
            #expect(event.correlationID == "T-\(i % 2)")
            #expect(event.time.map(RFC3339.format) == "2025-03-01T08:30:00.123Z")
            let report = try event.decodeData(ReportSubmitted.self)
            #expect(report.summary == "光模块温度过高 #\(i % 2)")
            #expect(report.customer.name == "上海电信")
        }
    }
}
