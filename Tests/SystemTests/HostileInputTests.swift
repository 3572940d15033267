import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import Testing

/// Issue 12: no single message may wedge, crash or silently lose. The four real service
/// executables on a vhost of their own take more than a thousand generated (seeded) malformed
/// or oversized messages on all three ingress kinds, some through pika because the project's
/// client refuses to send them, and a few hundred hostile HTTP requests; afterwards every
/// service is alive and ready, its queue is empty, every AMQP input is kept with a reason
/// (`itr.rejected`, the service's `.dlq`) or in `itr.unrouted`, every HTTP request had a 4xx
/// answer, nothing is parked, and a good report still opens a ticket.
@Suite("Hostile input against the four services", .serialized, .enabled(if: TestEnvironment.serviceTestsEnabled))
struct HostileInputTests {
    static let seed: UInt64 = 0x1712_2026
    /// The services' AMQP_MAX_MESSAGE_SIZE: a body over it is kept as a 64 KiB prefix.
    static let serviceMaximumMessageSize = 2 << 20
    static let keptQueues = [
        HostileInputs.rejectedQueue, HostileInputs.routerDLQ, HostileInputs.ipdDLQ, "intake.reports.dlq", "ltc-extractor.inbox.dlq",
    ]
    static let serviceQueues = ["intake.reports", "itr-router.inbox", "ltc-extractor.inbox", "ipd-feedback.inbox"]

    @Test(.timeLimit(.minutes(10)))
    func nothingWedgesCrashesOrIsLost() async throws {
        try TestEnvironment.requireServiceBinaries()
        let started = ContinuousClock.now
        let url = try await TestEnvironment.makeVhost("hostile")
        let tokens = try await Self.apiTokens()
        let fleet = try await SystemFleet.start(
            url: url,
            environment: ["AMQP_MAX_MESSAGE_SIZE": "\(Self.serviceMaximumMessageSize)", "API_TOKENS": tokens, "LOG_LEVEL": "warning"])
        var observer: EventObserver?
        var publisher: AMQPConnection?
        let collector = QueueCollector(tagHeader: HostileInputs.tagHeader)
        do {
            let watch = try await EventObserver.start(url: url)
            observer = watch
            var logger = Logger(label: "hostile")
            logger.logLevel = .warning
            let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url), logger: logger)
            publisher = connection
            try await collector.start(watch.connection, queues: Self.keptQueues)
            try await run(fleet: fleet, url: url, connection: connection, watch: watch, collector: collector, started: started)
        } catch {
            Issue.record("hostile input suite failed: \(error)\n\(fleet.logTails)")
        }
        collector.cancel()
        await publisher?.close()
        await observer?.close()
        let statuses = await fleet.stop()
        for product in SystemFleet.products {
            #expect(statuses[product] == .some(0), "\(product) exited \(String(describing: statuses[product])) after the hostile input")
        }
        fleet.removeData()
        await TestEnvironment.deleteVhost(url: url)
    }

    func run(
        fleet: SystemFleet, url: String, connection: AMQPConnection, watch: EventObserver, collector: QueueCollector,
        started: ContinuousClock.Instant
    ) async throws {
        // 1. AMQP: generated inputs on all three ingress kinds and unroutable keys.
        var counts = HostileInputs.Counts()
        counts.oversizedBodies = [Self.serviceMaximumMessageSize + 512 * 1024, (16 << 20) - (64 << 10)]
        let inputs = HostileInputs.generate(seed: Self.seed, counts: counts)
        let viaClient = inputs.filter { $0.pikaDeep == nil && $0.pikaHuge == nil }
        let viaPika = inputs.filter { $0.pikaDeep != nil || $0.pikaHuge != nil }
        try await Self.publishAll(viaClient, connection: connection)
        try await Self.publishWithPika(viaPika, url: url)

        // 2. HTTP: hostile requests to intake and the router, while the services work through the AMQP load.
        let requests = HostileHTTPRequests.generate(seed: Self.seed, count: 230)
        let answers = await Self.send(requests, fleet: fleet)

        // 3. Every HTTP request was answered, and 4xx.
        var byStatus: [Int: Int] = [:]
        for (request, answer) in zip(requests, answers) {
            switch answer {
            case .success(let status):
                byStatus[status, default: 0] += 1
                #expect((400..<500).contains(status), "\(request.tag) \(request.category) \(request.method) \(request.path.prefix(80)) answered \(status)")
            case .failure(let error):
                Issue.record("\(request.tag) \(request.category) got no answer: \(error)")
            }
        }

        // 4. Every AMQP input of a service kind is kept once, with a reason; every HTTP
        //    rejection intake answered is kept with its tag.
        let expectedKept = Dictionary(grouping: inputs.filter { $0.keptIn != nil }, by: \.tag).mapValues { $0[0] }
        let expectedHTTP = requests.filter { ($0.keptCopies ?? 0) > 0 }
        let allKept = await SystemProbe.eventually(timeout: .seconds(240), every: .milliseconds(500)) {
            let tags = Set(collector.all.compactMap(\.tag))
            return expectedKept.keys.allSatisfy(tags.contains) && expectedHTTP.allSatisfy { tags.contains($0.tag) }
        }
        try await Task.sleep(for: .seconds(2))  // anything doubled arrives too
        let kept = collector.all
        let keptByTag = Dictionary(grouping: kept, by: { $0.tag ?? "?" })
        let missing = expectedKept.keys.filter { keptByTag[$0] == nil }.sorted()
        #expect(allKept && missing.isEmpty, "\(missing.count) AMQP input(s) not kept: \(missing.prefix(20).map { "\($0) (\(expectedKept[$0]!.category))" })")
        for (tag, input) in expectedKept {
            guard let copies = keptByTag[tag] else { continue }
            #expect(copies.count == 1, "\(tag) (\(input.category)) kept \(copies.count) times")
            let copy = copies[0]
            #expect(copy.queue == input.keptIn, "\(tag) (\(input.category)) kept in \(copy.queue), expected \(input.keptIn ?? "-")")
            #expect(copy.reasonCode.map { !$0.isEmpty && $0 != "spoofed" } == true, "\(tag) (\(input.category)) kept without its reason: \(copy.reasonCode ?? "none")")
            if let code = input.expectedCode {
                #expect(copy.reasonCode == code, "\(tag) (\(input.category)) kept with \(copy.reasonCode ?? "none"), expected \(code)")
            }
        }
        for request in requests {
            let copies = keptByTag[request.tag] ?? []
            if let expected = request.keptCopies {
                #expect(copies.count == expected, "HTTP \(request.tag) (\(request.category)) kept \(copies.count) times, expected \(expected)")
            }
            if request.contentTypeCut {
                for copy in copies {
                    guard case .string(let cut)? = copy.message.properties.headers["x-itr-truncated-properties"] else {
                        Issue.record("HTTP \(request.tag): the kept copy of an over-long Content-Type does not say it was cut")
                        continue
                    }
                    #expect(cut.contains("content_type"))
                    #expect((copy.message.properties.contentType?.utf8.count ?? 0) <= 255)
                }
            }
        }
        let strays = kept.filter { $0.queue == "intake.reports.dlq" || $0.queue == "ltc-extractor.inbox.dlq" }
        #expect(strays.isEmpty, "dead-lettered by the broker instead of kept with a reason: \(strays.map { $0.tag ?? "?" }.prefix(20))")
        let httpTags = Set(requests.map(\.tag))
        let unknown = kept.filter { copy in copy.tag.map { expectedKept[$0] == nil && !httpTags.contains($0) } ?? true }
        #expect(unknown.isEmpty, "kept copies of nothing the test sent: \(unknown.map { $0.tag ?? "untagged" }.prefix(20))")

        // 5. What no binding took is in the itr.unrouted stream.
        let unroutedTags = Set(inputs.filter { $0.keptIn == nil }.map(\.tag))
        let streamed = try await Self.readUnrouted(url: url)
        let streamedTags = Set(streamed.compactMap { ($0["headers"] as? [String: Any])?[HostileInputs.tagHeader] as? String })
        #expect(unroutedTags.isSubset(of: streamedTags), "not in itr.unrouted: \(unroutedTags.subtracting(streamedTags).sorted().prefix(20))")
        let unexpectedlyUnrouted = streamedTags.subtracting(unroutedTags)
        #expect(unexpectedlyUnrouted.isEmpty, "service inputs that no binding took: \(unexpectedlyUnrouted.sorted().prefix(20))")

        // 6. Alive, ready, queues drained, nothing parked.
        for service in fleet.services {
            #expect(service.process.isRunning, "\(service.product) is not running (status \(String(describing: service.process.status)))")
            #expect(await SystemProbe.ready(port: service.port), "\(service.product) is not ready")
            let parked = try await SystemProbe.parked(port: service.port)
            #expect(parked.count == 0, "\(service.product) parked \(parked.count) row(s): \(parked.rows.prefix(3))")
        }
        let vhost = SystemProbe.vhost(of: url)
        var depths: [String: Int] = [:]
        let drained = try await SystemProbe.eventually(timeout: .seconds(60), every: .seconds(1)) {
            depths = try await SystemProbe.queueDepths(node: TestEnvironment.brokerNode, vhost: vhost)
            return Self.serviceQueues.allSatisfy { depths[$0] == 0 }
        }
        #expect(drained, "service queues still hold work: \(Self.serviceQueues.map { "\($0)=\(depths[$0].map(String.init) ?? "?")" })")

        // 7. A good report still opens a ticket, and the router still classifies it.
        let upstream = Upstream(connection: connection)
        let report = try await upstream.report(
            upstreamId: "CRM-AFTER-HOSTILE", account: "ACC-1002", customerName: "上海浦东发展银行股份有限公司",
            product: Product(line: "routers", model: "RX8000", version: "V8R12", component: "MPU"),
            summary: "RX8000 主控板反复重启，MPU reboot loop", language: .zh, categoryHint: "软件")
        let opened = try await watch.await("itr.ticket.opened for the good report after the hostile input", timeout: .seconds(30)) {
            watch.payloads(TicketOpened.self).first { $0.1.reportId == report.id }?.1
        }
        _ = try await watch.await("itr.ticket.classified for \(opened.ticketId)", timeout: .seconds(30)) {
            watch.payloads(TicketClassified.self, correlation: opened.ticketId).first
        }

        let elapsed = ContinuousClock.now - started
        let perQueue = Dictionary(grouping: kept, by: \.queue).mapValues(\.count)
        let byKind = Dictionary(grouping: inputs, by: \.kind.rawValue).mapValues(\.count)
        let byCategory = Dictionary(grouping: inputs, by: \.category).mapValues(\.count)
        print("""
            hostile input: \(inputs.count) AMQP inputs (\(viaPika.count) via pika) by kind \(byKind.sorted { $0.key < $1.key }), \
            categories \(byCategory.count); kept \(kept.count) by queue \(perQueue.sorted { $0.key < $1.key }); \
            unrouted stream \(streamed.count) (\(unroutedTags.count) expected); HTTP \(requests.count) requests, \
            answers \(byStatus.sorted { $0.key < $1.key }); \(elapsed)
            """)
    }

    // MARK: Sending

    /// Publishes with the project's client, up to 64 awaiting their confirms at a time.
    static func publishAll(_ inputs: [HostileInput], connection: AMQPConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for input in inputs {
                if inFlight >= 64 {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask {
                    do {
                        try await connection.publish(input.message, exchange: input.exchange, routingKey: input.routingKey)
                    } catch {
                        throw CommandFailed(command: ["publish", input.tag, input.category], status: -1, output: "\(error)")
                    }
                }
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }

    static func pythonCommand(_ script: String, _ arguments: [String]) -> [String] {
        let python = ProcessInfo.processInfo.environment["ITR_PYTHON"] ?? TestEnvironment.python
        return python.split(separator: " ").map(String.init)
            + [TestEnvironment.packageRoot.appendingPathComponent("Tests/interop/\(script)").path] + arguments
    }

    static func publishWithPika(_ inputs: [HostileInput], url: String) async throws {
        let spec = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString.prefix(8)).json")
        try HostileInputs.pikaSpec(inputs).write(to: spec)
        defer { try? FileManager.default.removeItem(at: spec) }
        let (status, output) = try await runCommand(pythonCommand("hostile_publish.py", ["--url", url, "--spec", spec.path]))
        guard status == 0, output.contains("published \(inputs.count)") else {
            throw CommandFailed(command: ["hostile_publish.py"], status: status, output: output)
        }
    }

    /// Everything in the `itr.unrouted` stream, from its first offset (pika: our client passes
    /// no consumer arguments, and a stream needs `x-stream-offset`).
    static func readUnrouted(url: String) async throws -> [[String: Any]] {
        let (status, output) = try await runCommand(pythonCommand(
            "stream_read.py", ["--url", url, "--queue", "itr.unrouted", "--idle", "3", "--header", HostileInputs.tagHeader]))
        guard status == 0 else { throw CommandFailed(command: ["stream_read.py"], status: status, output: output) }
        return output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    enum Outcome: Sendable {
        case success(Int)
        case failure(String)
    }

    /// Sends the requests, eight at a time; the status of each or why there was none.
    static func send(_ requests: [HostileRequest], fleet: SystemFleet) async -> [Outcome] {
        let ports = [
            HostileRequest.Target.intake: fleet.service("intake").port, .router: fleet.service("itr-router").port,
        ]
        return await withTaskGroup(of: (Int, Outcome).self) { group in
            var results = [Outcome](repeating: .failure("not sent"), count: requests.count)
            var next = 0
            func add(_ index: Int) {
                let request = requests[index]
                group.addTask {
                    do {
                        let answer = try await SystemProbe.request(
                            request.method, port: ports[request.target]!, path: request.path, headers: request.headers,
                            body: request.body, timeout: 30)
                        return (index, .success(answer.status))
                    } catch {
                        return (index, .failure("\(error)"))
                    }
                }
            }
            while next < min(8, requests.count) {
                add(next)
                next += 1
            }
            for await (index, outcome) in group {
                results[index] = outcome
                if next < requests.count {
                    add(next)
                    next += 1
                }
            }
            return results
        }
    }

    /// `API_TOKENS` for intake and the router: the suite's token for any source, another bound
    /// to `/other` only (hashes as TokenAuthenticator wants them: SHA-256 hex).
    static func apiTokens() async throws -> String {
        return "\(try await SystemProbe.sha256(HostileHTTPRequests.token)) hostile-suite reports:submit=* tickets:read tickets:act;"
            + "\(try await SystemProbe.sha256("hostile-other-token")) hostile-other reports:submit=/other"
    }
}
