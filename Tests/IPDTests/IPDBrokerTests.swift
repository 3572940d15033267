import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Testing
@testable import IPDApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `ipd-feedback` against the test broker, in a virtual host of its own.
@Suite("ipd-feedback against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct IPDBrokerTests {
    /// Twelve real root causes, each as (product line, model, component, code, English title, Chinese title).
    static let causes: [(String, String, String, String?, String, String)] = [
        ("OptiX OSN 8800", "T32", "TN12LSX", "OPT-0012", "Optical power too low", "光功率过低"),
        ("OptiX OSN 8800", "T32", "FAN", "FAN-0003", "Fan module failure", "风扇模块失效"),
        ("OptiX OSN 8800", "T32", "TN54NS4", "BRD-0101", "Board offline", "单板离线"),
        ("OptiX OSN 8800", "T32", "PIU", "PWR-0007", "Power input unit alarm", "电源告警"),
        ("OptiX OSN 8800", "T32", "TN12LSX", nil, "Port %d down after upgrade", "升级后端口%d宕机了"),
        ("OptiX OSN 8800", "T32", "SCC", nil, "Memory leak causes board reset", "内存泄漏导致单板复位"),
        ("NetEngine 8000", "M8", "BGP", nil, "BGP peer %d flapping", "BGP邻居%d震荡"),
        ("NetEngine 8000", "M8", "TN12LSX", nil, "Packet loss on interface GE0/0/%d", "接口GE0/0/%d丢包"),
        ("OptiX OSN 8800", "T32", "TN52TOM", "OPT-0012", "Optical power too low", "光功率过低"),
        ("OptiX OSN 8800", "T32", "SCC", nil, "Configuration lost after reboot", "重启后配置丢失"),
        ("OptiX OSN 1800", "II", "SCC", "LIC-0001", "License expired unexpectedly", "许可证意外过期"),
        ("OptiX OSN 8800", "T32", "FAN", nil, "Fan alarm, temperature high", "风扇告警，温度过高"),
    ]
    static let versions = ["V100R011C00", "V100R012C10", "V100R013C00"]

    /// Problem i: root cause i % 12, customer i % 40, alternating language and version.
    static func events(problem i: Int) -> [CloudEvent] {
        let (line, model, component, code, en, zh) = causes[i % 12]
        let title = String(format: i % 2 == 0 ? en : zh, i % 7 + 1)
        let problemId = "PRB-\(i)", ticketId = "TKT-\(i)"
        let opened = ProblemOpened(
            problemId: problemId, title: title, fingerprint: "r-\(i)", productLine: line, model: model, component: component,
            code: code, trigger: .recurring, ticketIds: [ticketId])
        let resolved = TicketResolved(
            ticketId: ticketId, resolutionCode: "workaround", qualityResponsibility: i % 3 == 0 ? .productHardware : .productSoftware,
            product: Product(line: line, model: model, version: versions[(i / 12) % 3], component: component),
            priority: i % 50 == 0 ? .p2 : .p3, serviceType: .softwareFault, account: "ACC-\(i % 40)",
            contractPackage: i % 2 == 0 ? "gold" : "silver", problemId: problemId, resolvedAt: Date())
        var a = try! CloudEvent(source: "//itr/itr-router", payload: opened, id: "ipdtest-p-\(i)")
        var b = try! CloudEvent(source: "//itr/itr-router", payload: resolved, id: "ipdtest-t-\(i)")
        a.correlationID = ticketId
        b.correlationID = ticketId
        b.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        return [a, b]
    }

    func publish(_ events: [CloudEvent], _ connection: AMQPConnection, exchange: String = ITRNames.eventsExchange, key: ((CloudEvent) -> String)? = nil) async throws {
        for e in events {
            try await connection.publish(AMQPCloudEventCodec.encode(e), exchange: exchange, routingKey: key?(e) ?? e.type)
        }
    }

    func get(_ port: Int, _ path: String) async throws -> Data {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue(TestTokens.opsAuthorization, forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return data
    }

    func page(_ port: Int, _ query: String = "") async throws -> DefectPage? {
        guard let data = try? await get(port, "/v1/defects?limit=500\(query)") else { return nil }
        return try? EventCoding.decoder.decode(DefectPage.self, from: data)
    }

    /// Reads every message of `queue` with pika + the CloudEvents SDK (Tests/interop/ce_consume.py).
    func consumeWithPython(_ queue: String, url: String, count: Int, timeout: Int) async throws -> [[String: Any]] {
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/interop/ce_consume.py").path
        let python = TestEnvironment.python.split(separator: " ").map(String.init)
        let (status, output) = try await runCommand(
            python + [script, "--queue", queue, "--url", url, "--count", "\(count)", "--timeout", "\(timeout)"])
        #expect(status == 0 || status == 2, "ce_consume failed: \(output.suffix(2000))")
        return output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// A work directory with the shipped configuration, the debounce cut to 1 s.
    func workspace() throws -> (work: URL, config: URL) {
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("ipd-broker-\(UUID().uuidString.prefix(8))")
        let configDir = work.appendingPathComponent("config")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        try fm.copyItem(at: TestEnvironment.packageRoot.appendingPathComponent("deploy/config"), to: configDir)
        let ipdPath = configDir.appendingPathComponent("ipd.yaml").path
        let yaml = try String(contentsOfFile: ipdPath, encoding: .utf8).replacingOccurrences(of: "debounce: 5m", with: "debounce: 1s")
        try yaml.write(toFile: ipdPath, atomically: true, encoding: .utf8)
        return (work, configDir)
    }

    /// The defects once every one of `problems` problems is in one (nil if not within 90 s).
    func settledDefects(_ port: Int, total: Int, problems: Int) async throws -> [DefectView]? {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let p = try await page(port), p.total == total, Set(p.defects.flatMap(\.defect.problemIds)).count == problems {
                return p.defects
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    /// Two instances of ipd-feedback on one PostgreSQL database (a database of the test's own),
    /// consuming one queue; one is SIGKILLed mid-stream and stays down: the other applies
    /// everything (the broker redelivers what the dead one had not acked), relays the dead
    /// one's outbox rows once it has been silent for the owner timeout, and every root cause
    /// is still one defect. The dead one restarted reads the same book.
    @Test(.enabled(if: TestStore.postgresAvailable || TestStore.postgresRequired), .timeLimit(.minutes(5)))
    func twoInstancesOnPostgreSQLShareOneBookAndSurviveTheLossOfOne() async throws {
        let url = try await TestEnvironment.makeVhost("ipd-pg")
        let (work, configDir) = try workspace()
        let database = try await TestStore.makeDatabase(for: "ipd-feedback")
        let base = TestEnvironment.freePorts(2)
        let ports = [base, base + 1]
        func environment(_ index: Int) -> [String: String] {
            [
                "AMQP_URL": url, "DATA_DIR": work.appendingPathComponent("data-\(index)").path, "HTTP_PORT": "\(ports[index])",
                "METRICS_PORT": "0", "CONFIG_DIR": configDir.path, "LOG_LEVEL": "info", "DATABASE_URL": database.url,
                "ITR_INSTANCE": "ipd-\(index)", "ITR_OUTBOX_OWNER_TIMEOUT_SECONDS": "3",
            ]
        }
        var first = try await ServiceProcess.start(product: "ipd-feedback", environment: environment(0))
        let second = try await ServiceProcess.start(product: "ipd-feedback", environment: environment(1))
        try await first.waitReady(port: ports[0])
        try await second.waitReady(port: ports[1])
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "ipd-test"))

        let all = (0..<200).map { Self.events(problem: $0) }
        try await publish(all[0..<100].flatMap { $0 } + all[0..<40].flatMap { $0 }, connection)
        try await Task.sleep(for: .milliseconds(300))
        await first.kill9()
        try await publish(all[100..<200].flatMap { $0 } + all[150..<200].flatMap { $0 }, connection)

        let settled = try await settledDefects(ports[1], total: 12, problems: 200)
        let defects = try #require(settled, "defects did not settle on the surviving instance")
        #expect(defects.map(\.defect.problemIds.count).reduce(0, +) == 200, "no problem in two defects")
        #expect(defects.map(\.defect.ticketIds.count).reduce(0, +) == 200)
        #expect(Set(defects.map(\.defect.defectId)).count == 12, "a defect per root cause, created once")
        try await Task.sleep(for: .seconds(5))  // the dead one's rows adopted (3 s), the last debounced updates (1 s)

        let feed = try await consumeWithPython(ITRNames.defectFeedQueue, url: url, count: 100_000, timeout: 8)
        func attributes(_ e: [String: Any]) -> [String: String] { e["attributes"] as? [String: String] ?? [:] }
        let reported = feed.filter { attributes($0)["type"] == "itr.defect.reported" }
        let reportedDefects = Set(reported.compactMap { ($0["data"] as? [String: Any])?["defectId"] as? String })
        #expect(reportedDefects == Set(defects.map(\.defect.defectId)), "every defect reported, whichever instance wrote it")
        #expect(Set(reported.map { attributes($0)["id"] ?? "" }).count == 12, "each reported by one event (at worst published twice, same id)")

        // The dead one back, under its own name: it reads the same book and its outbox is empty.
        first = try await ServiceProcess.start(product: "ipd-feedback", environment: environment(0))
        try await first.waitReady(port: ports[0])
        let again = try #require(try await page(ports[0]))
        #expect(again.total == 12 && Set(again.defects.map(\.defect.defectId)) == Set(defects.map(\.defect.defectId)))

        #expect(await first.terminate() == 0)
        #expect(await second.terminate() == 0)
        await connection.close()
        await TestEnvironment.deleteVhost(url: url)
        await TestStore.dropDatabase(database.name)
        try? FileManager.default.removeItem(at: work)
    }

    @Test func twoHundredProblemsTwelveRootCausesTwelveDefects() async throws {
        let url = try await TestEnvironment.makeVhost("ipd")
        let fm = FileManager.default
        let (work, configDir) = try workspace()
        let port = TestEnvironment.freePorts()
        let environment = [
            "AMQP_URL": url, "DATA_DIR": work.appendingPathComponent("data").path, "HTTP_PORT": "\(port)",
            "CONFIG_DIR": configDir.path, "LOG_LEVEL": "info",
        ]

        var service = try await ServiceProcess.start(product: "ipd-feedback", environment: environment)
        try await service.waitReady(port: port)
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: Logger(label: "ipd-test"))

        // First half, with every event of the first 40 problems delivered twice; SIGKILL mid-stream.
        let all = (0..<200).map { Self.events(problem: $0) }
        try await publish(all[0..<100].flatMap { $0 } + all[0..<40].flatMap { $0 }, connection)
        try await Task.sleep(for: .milliseconds(150))
        await service.kill9()
        #expect(!service.isRunning)
        // The second half arrives while the service is down, with duplicates again.
        try await publish(all[100..<200].flatMap { $0 } + all[150..<200].flatMap { $0 }, connection)
        service = try await ServiceProcess.start(product: "ipd-feedback", environment: environment)
        try await service.waitReady(port: port)

        let settled = try await settledDefects(port, total: 12, problems: 200)
        let last = try await page(port)
        let defects = try #require(settled, "defects did not settle: \(last.map { "\($0.total)" } ?? "nil")")
        #expect(defects.count == 12)
        #expect(defects.map(\.defect.problemIds.count).reduce(0, +) == 200)  // no problem in two defects
        #expect(defects.map(\.defect.ticketIds.count).reduce(0, +) == 200)
        #expect(defects.allSatisfy { $0.problems.count == $0.defect.problemIds.count })
        #expect(defects.map(\.defect.impact.score) == defects.map(\.defect.impact.score).sorted(by: >))
        #expect(Set(defects.flatMap(\.defect.impact.packages)) == ["gold", "silver"])
        #expect(defects.allSatisfy { $0.defect.affectedVersions.count >= 2 })
        #expect(Set(defects.flatMap { $0.defect.problemIds }) == Set((0..<200).map { "PRB-\($0)" }))
        let byVersion = try #require(try await page(port, "&version=V100R013C00"))
        #expect(byVersion.total == 12)
        let netEngine = try #require(try await page(port, "&product=netengine%208000"))
        #expect(netEngine.total == 2)
        let paged = try #require(try await page(port, "&limit=5&offset=10"))
        #expect(paged.total == 12 && paged.defects.count == 2)

        // R&D releases a fix for the top defect; an unknown defect's status is dead-lettered.
        let top = defects[0].defect
        var fix = try CloudEvent(
            source: "rnd://pdm", payload: DefectStatus(defectId: top.defectId, status: .fixReleased, fixVersion: "V100R013C00SPC100"))
        fix.traceparent = "00-11112222333344445555666677778888-1111222233334444-01"
        let unknown = try CloudEvent(source: "rnd://pdm", payload: DefectStatus(defectId: "DEF-000000000000", status: .accepted))
        try await publish([fix, fix, unknown], connection, exchange: ITRNames.ingressExchange) { _ in "defect.fix-released" }
        try await Task.sleep(for: .seconds(3))  // the fix, and the last debounced updates (1 s)

        let feed = try await consumeWithPython(ITRNames.defectFeedQueue, url: url, count: 100_000, timeout: 8)
        #expect(!feed.isEmpty && feed.allSatisfy { $0["error"] == nil })
        func attributes(_ e: [String: Any]) -> [String: String] { e["attributes"] as? [String: String] ?? [:] }
        func data(_ e: [String: Any]) -> [String: Any] { e["data"] as? [String: Any] ?? [:] }
        let reported = feed.filter { attributes($0)["type"] == "itr.defect.reported" }
        let reportedIds = Set(reported.map { attributes($0)["id"] ?? "" })
        let reportedDefects = Set(reported.compactMap { data($0)["defectId"] as? String })
        #expect(reportedIds.count == 12)
        #expect(reportedDefects == Set(defects.map(\.defect.defectId)))
        let updates = feed.filter { attributes($0)["type"] == "itr.defect.updated" }
        #expect(updates.count < 200)  // a storm yields a few updates
        print("ipd feed: \(feed.count) messages, \(reported.count) reported, \(updates.count) updated")
        // Every new customer is a material change: the latest snapshot per defect names them all
        // (a non-material change, a few more incidents, may wait for the next material one).
        var latestCustomers: [String: Int] = [:]
        for e in feed {  // every event carries the full snapshot, the fix included
            if let id = data(e)["defectId"] as? String {
                latestCustomers[id] = (data(e)["impact"] as? [String: Any])?["customers"] as? Int
            }
        }
        #expect(latestCustomers == Dictionary(uniqueKeysWithValues: defects.map { ($0.defect.defectId, $0.defect.impact.customers) }))
        let fixed = feed.filter { attributes($0)["type"] == "itr.defect.fixed" }
        #expect(Set(fixed.map { attributes($0)["id"] ?? "" }).count == 1)
        let fixedData = try #require(fixed.first.map(data))
        #expect(fixedData["defectId"] as? String == top.defectId)
        #expect(fixedData["fixVersion"] as? String == "V100R013C00SPC100")
        #expect((fixedData["problemIds"] as? [String]).map(Set.init) == Set(top.problemIds))
        #expect((fixedData["ticketIds"] as? [String]).map(Set.init) == Set(top.ticketIds))
        let fixedAttributes = try #require(fixed.first.map(attributes))
        #expect(fixedAttributes["causationid"] == fix.id)
        #expect(fixedAttributes["correlationid"] == top.defectId)
        #expect(fixedAttributes["traceparent"] == fix.traceparent)
        #expect(fixedAttributes["source"] == "//itr/ipd-feedback")

        let dead = try await consumeWithPython("ipd-feedback.inbox.dlq", url: url, count: 1, timeout: 10)
        #expect(dead.count == 1)
        #expect((dead.first.map(data)?["defectId"] as? String) == "DEF-000000000000")

        #expect(await service.terminate() == 0)
        await connection.close()
        await TestEnvironment.deleteVhost(url: url)
        try? fm.removeItem(at: work)
    }
}
