import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Synchronization
import Testing

@testable import IntakeApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The token every test upstream uses (any source), and one bound to `/other` only.
let goodToken = "intake-test-token-北京"
let otherToken = "other-system-token"

/// A vhost of its own, the `intake` executable on it, and a connection that watches
/// `itr.events` (every event) and `itr.rejected`.
final class IntakeHarness: Sendable {
    let url: String
    let dataDir: String
    let port: Int
    let connection: AMQPConnection
    let events = Mutex<[CloudEvent]>([])
    let rejected = Mutex<[AMQPMessage]>([])
    let process = Mutex<ServiceProcess?>(nil)
    let consumers = Mutex<[AMQPConsumer]>([])

    private init(url: String, dataDir: String, port: Int, connection: AMQPConnection) {
        self.url = url
        self.dataDir = dataDir
        self.port = port
        self.connection = connection
    }

    static func make(start: Bool = true) async throws -> IntakeHarness {
        let url = try await TestEnvironment.makeVhost("intake")
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString.prefix(8))").path
        let port = TestEnvironment.freePorts()
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "intake-test"))
        try await connection.declare(
            ITRTopology.topology(for: "intake").merging(
                AMQPTopology(
                    queues: [AMQPQueue(name: "test.events")],
                    bindings: [AMQPBinding(queue: "test.events", exchange: ITRNames.eventsExchange, routingKey: "#")])))
        let harness = IntakeHarness(url: url, dataDir: dataDir, port: port, connection: connection)
        try await harness.watch()
        if start { try await harness.startIntake() }
        return harness
    }

    private func watch() async throws {
        let eventConsumer = try await connection.consume(queue: "test.events", prefetch: 1000)
        let rejectedConsumer = try await connection.consume(queue: ITRNames.rejectedQueue, prefetch: 1000)
        consumers.withLock { $0 = [eventConsumer, rejectedConsumer] }
        Task { [self] in
            for try await delivery in eventConsumer {
                if let event = try? AMQPCloudEventCodec.decode(delivery.message) { events.withLock { $0.append(event) } }
                delivery.ack()
            }
        }
        Task { [self] in
            for try await delivery in rejectedConsumer {
                rejected.withLock { $0.append(delivery.message) }
                delivery.ack()
            }
        }
    }

    var environment: [String: String] {
        [
            "AMQP_URL": url, "DATA_DIR": dataDir, "HTTP_PORT": "\(port)", "HTTP_HOST": "127.0.0.1",
            "CONFIG_DIR": TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path, "LOG_LEVEL": "warning",
            "API_TOKENS": "\(TokenAuthenticator.hash(token: goodToken)) *;\(TokenAuthenticator.hash(token: otherToken)) /other",
        ]
    }

    func startIntake() async throws {
        let process = try await ServiceProcess.start(product: "intake", environment: environment)
        self.process.withLock { $0 = process }
        try await process.waitReady(port: port)
    }

    func stopIntake() async {
        let process = self.process.withLock { $0 }
        await process?.terminate()
    }

    func killIntake() async {
        let process = self.process.withLock { $0 }
        await process?.kill9()
    }

    func shutdown() async {
        await stopIntake()
        for consumer in consumers.withLock({ $0 }) { consumer.cancel() }
        await connection.close()
        await TestEnvironment.deleteVhost(url: url)
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    // MARK: Sending

    func publish(_ event: CloudEvent, routingKey: String, mode: AMQPCloudEventCodec.Mode = .binary) async throws {
        try await connection.publish(AMQPCloudEventCodec.encode(event, mode: mode), exchange: ITRNames.ingressExchange, routingKey: routingKey)
    }

    func publishRaw(_ message: AMQPMessage, routingKey: String) async throws {
        try await connection.publish(message, exchange: ITRNames.ingressExchange, routingKey: routingKey)
    }

    struct HTTPAnswer {
        var status: Int
        var contentType: String
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    func post(_ body: Data, headers: [String: String], token: String? = goodToken, port: Int? = nil) async throws -> HTTPAnswer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port ?? self.port)/v1/reports")!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return HTTPAnswer(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }

    func post(_ event: CloudEvent, structured: Bool = false, token: String? = goodToken, port: Int? = nil) async throws -> HTTPAnswer {
        let (headers, body) = structured ? HTTPCloudEventCodec.encodeStructured(event) : HTTPCloudEventCodec.encodeBinary(event)
        return try await post(body, headers: headers, token: token, port: port)
    }

    // MARK: Watching

    func events(ofType type: EventType) -> [CloudEvent] {
        events.withLock { $0.filter { $0.type == type.rawValue } }
    }

    /// Waits until `condition` holds (or the timeout passes) and returns whether it did.
    func waitFor(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    func ticketsOpened() -> [TicketOpened] {
        events(ofType: .ticketOpened).compactMap { try? $0.decodeData(TicketOpened.self) }
    }
}

// MARK: Reports

let knownAccount = "ACC-1001"

/// The shipped intake configuration, loaded once for the test process (each test gets a copy):
/// see `shippedRules()` of RouterTests for why.
private let shippedPolicyOnce = Result {
    try IntakePolicy.load(directory: TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path)
}

func shippedPolicy() throws -> IntakePolicy { try shippedPolicyOnce.get() }

func makeReport(
    channel: Channel, upstreamId: String, account: String = knownAccount, summary: String = "光模块告警 optical module alarm",
    description: String? = "客户反馈：北京机房 OSN 8800 光口中断。", alarm: Alarm? = nil, site: String? = "北京-亦庄机房",
    contact: Contact? = Contact(name: "王工", phone: "+86 10-8888 0000", email: "Wang.Gong@Example.CN"),
    occurredAt: Date = Date().addingTimeInterval(-60), language: Language = .zh
) -> ReportSubmitted {
    ReportSubmitted(
        sourceSystem: "crm-\(channel.rawValue)", channel: channel, upstreamId: upstreamId,
        customer: Customer(account: account, name: "中国联通北京分公司", contact: contact),
        product: Product(line: "optical", model: "OSN 8800", version: "V100R012", serial: "SN-\(upstreamId)", site: site),
        summary: summary, description: description, severity: ReportedSeverity(reported: .major, alarm: alarm == nil ? nil : .critical),
        alarm: alarm ?? (channel == .monitoring ? Alarm(code: "OPT-LOS", device: "NE-1", state: .raised) : nil),
        occurredAt: occurredAt, language: language, categoryHint: "硬件故障",
        attachments: [Attachment(uri: "https://files.example.cn/\(upstreamId)/log.zip", name: "日志.zip", mediaType: "application/zip", size: 1024)])
}

let testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func makeEvent(_ report: ReportSubmitted, id: String = CloudEvent.newID(), source: String = "crm://cn-north/portal") -> CloudEvent {
    var event = try! CloudEvent(source: source, payload: report, id: id)
    event.traceparent = testTraceparent
    return event
}
