import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import ServiceKit
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import IntakeApp

/// The `intake` executable against a real broker, each test on a vhost of its own.
@Suite("intake against the broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct IntakeBrokerTests {
    static func isTicketId(_ id: String) -> Bool { id.wholeMatch(of: #/T-\d{8}-\d{6}/#) != nil }

    @Test func everyChannelOpensOneNormalizedTicket() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }

        var sent: [Channel: (CloudEvent, ReportSubmitted)] = [:]
        for (index, channel) in Channel.allCases.enumerated() {
            var report = makeReport(channel: channel, upstreamId: "UP-\(channel.rawValue)")
            if channel == .email { report.summary = "RE: 转发：核心路由器 BGP 邻居震荡" }
            if channel == .api { report.customer.account = "ACC-UNKNOWN-42" }
            let event = makeEvent(report)
            sent[channel] = (event, report)
            try await harness.publish(event, routingKey: "report.\(channel.rawValue)", mode: index % 2 == 0 ? .binary : .structured)
        }
        #expect(await harness.waitFor { harness.ticketsOpened().count >= 6 })
        try await Task.sleep(for: .milliseconds(500))
        let events = harness.events(ofType: .ticketOpened)
        #expect(events.count == 6)
        for event in events {
            let ticket = try event.decodeData(TicketOpened.self)
            let (report, original) = try #require(sent[ticket.channel])
            #expect(Self.isTicketId(ticket.ticketId))
            #expect(event.correlationID == ticket.ticketId)
            #expect(event.causationID == report.id)
            #expect(event.traceparent == testTraceparent)
            #expect(event.source == "//itr/intake")
            #expect(ticket.reportId == report.id && ticket.reportSource == report.source)
            // Chinese text byte for byte.
            #expect(Data((ticket.description ?? "").utf8) == Data((original.description ?? "").utf8))
            #expect(Data((ticket.customer.name ?? "").utf8) == Data("中国联通北京分公司".utf8))
            #expect(ticket.product.site == "北京-亦庄机房")
            #expect(ticket.attachments.first?.name == "日志.zip")
            #expect(ticket.customer.contact?.phone == "+861088880000")
            #expect(ticket.customer.contact?.email == "wang.gong@example.cn")
            switch ticket.channel {
            case .email: #expect(ticket.summary == "核心路由器 BGP 邻居震荡")
            default: #expect(Data(ticket.summary.utf8) == Data(original.summary.utf8))
            }
            #expect(ticket.accountKnown == (ticket.channel != .api))
            if ticket.channel == .monitoring { #expect(ticket.alarm?.code == "OPT-LOS") }
        }
        let ids = events.compactMap { try? $0.decodeData(TicketOpened.self).ticketId }
        #expect(Set(ids).count == 6)
    }

    @Test func knownErrorIsAttachedToAMatchingReport() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let report = makeReport(channel: .portal, upstreamId: "KE-1", summary: "光口闪断 link flapping after upgrade")
        // As the router computes it: the shipped problems.yaml synonyms, which intake also loads.
        let synonyms = try shippedPolicy().symptomSynonyms
        let fingerprint = ReportIntake.fingerprint(of: report, synonyms: synonyms)
        let knownError = try CloudEvent(
            source: "//itr/itr-router",
            payload: ProblemKnownError(
                problemId: "PRB-7", title: "光模块固件缺陷", fingerprint: fingerprint.digest, rootCause: "固件 bug",
                workaround: "重启光模块 / reseat the module", ticketIds: []))
        try await harness.connection.publish(
            AMQPCloudEventCodec.encode(knownError), exchange: ITRNames.eventsExchange, routingKey: knownError.type)
        try await Task.sleep(for: .seconds(1))
        try await harness.publish(makeEvent(report), routingKey: "report.portal")
        try await harness.publish(makeEvent(makeReport(channel: .portal, upstreamId: "KE-2", summary: "另一个问题")), routingKey: "report.portal")
        #expect(await harness.waitFor { harness.ticketsOpened().count >= 2 })
        let tickets = harness.ticketsOpened()
        let matched = try #require(tickets.first { $0.upstreamId == "KE-1" })
        #expect(matched.knownError == KnownErrorMatch(problemId: "PRB-7", title: "光模块固件缺陷", workaround: "重启光模块 / reseat the module"))
        #expect(tickets.first { $0.upstreamId == "KE-2" }?.knownError == nil)
    }

    @Test func badInputsAreRejectedWithTheirReasonAndKeptWhileGoodOnesFlow() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let cases = BadInputs.all()
        #expect(cases.count >= 30)
        #expect(Set(cases.map(\.name)).count == cases.count)
        var good = 0
        for (index, bad) in cases.enumerated() {
            try await harness.publishRaw(bad.message, routingKey: bad.routingKey)
            if index % 3 == 0 {
                try await harness.publish(makeEvent(makeReport(channel: .phone, upstreamId: "GOOD-\(index)")), routingKey: "report.phone")
                good += 1
            }
        }
        #expect(await harness.waitFor { harness.rejected.withLock { $0.count } >= cases.count && harness.ticketsOpened().count >= good })
        try await Task.sleep(for: .milliseconds(500))
        let rejected = harness.rejected.withLock { $0 }
        #expect(rejected.count == cases.count)
        #expect(harness.ticketsOpened().count == good)
        for bad in cases {
            let kept = rejected.first { $0.properties.headers["x-test-case"]?.stringValue == bad.name }
            guard let kept else {
                Issue.record("\(bad.name): not in itr.rejected")
                continue
            }
            let code = kept.properties.headers[ITRNames.reasonCodeHeader]?.stringValue
            let reason = kept.properties.headers[ITRNames.reasonHeader]?.stringValue ?? ""
            #expect(code == bad.reasonCode, "\(bad.name): reason code \(code ?? "nil"), reason \(reason)")
            #expect(reason.contains(bad.reasonFragment), "\(bad.name): reason \(reason) lacks \(bad.reasonFragment)")
            #expect(kept.body == bad.message.body, "\(bad.name): body changed")
            #expect(kept.properties.headers[ITRNames.originalRoutingKeyHeader]?.stringValue == bad.routingKey)
        }
        let rejectionEvents = harness.events(ofType: .reportRejected)
        #expect(rejectionEvents.count == cases.count)
        for event in rejectionEvents {
            #expect(event.source == "//itr/intake")
            #expect((try? event.decodeData(ReportRejected.self))?.reasonCode.isEmpty == false)
        }
        let metrics = try await harness.get("/metrics")
        #expect(metrics.contains("itr_intake_reports_rejected_total{service=\"intake\",reason=\"validation-failed\"}"))
    }

    @Test func duplicatesOverAMQPAndHTTPAcrossARestart() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let overAMQP = makeEvent(makeReport(channel: .field, upstreamId: "DUP-A"), source: "crm://cn-north/field")
        let overHTTP = makeEvent(makeReport(channel: .portal, upstreamId: "DUP-B"))
        try await harness.publish(overAMQP, routingKey: "report.field")
        let first = try await harness.post(overHTTP)
        #expect(first.status == 202)
        let ticketB = try #require(first.json["ticketId"] as? String)
        #expect(await harness.waitFor { harness.ticketsOpened().count >= 2 })
        let ticketA = try #require(harness.ticketsOpened().first { $0.upstreamId == "DUP-A" }?.ticketId)

        let again = try await harness.post(overHTTP)
        #expect(again.status == 200 && again.json["ticketId"] as? String == ticketB && again.json["status"] as? String == "duplicate")

        await harness.stopIntake()
        try await harness.startIntake()

        try await harness.publish(overAMQP, routingKey: "report.field")
        try await harness.publish(overAMQP, routingKey: "report.field", mode: .structured)
        let afterRestart = try await harness.post(overHTTP, structured: true)
        #expect(afterRestart.status == 200)
        #expect(afterRestart.json["ticketId"] as? String == ticketB)
        // The same source + id over the other interface is the same report.
        let crossInterface = try await harness.post(overAMQP)
        #expect(crossInterface.status == 200 && crossInterface.json["ticketId"] as? String == ticketA)
        try await Task.sleep(for: .seconds(2))
        let metrics = try await harness.get("/metrics")
        #expect(metrics.contains("itr_intake_reports_duplicate_total"))
        #expect(harness.ticketsOpened().count == 2)
    }

    @Test func anAlarmStormOnThreeDevicesOpensThreeTickets() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let devices = ["NE-亦庄-01", "NE-亦庄-02", "NE-亦庄-03"]
        let start = Date().addingTimeInterval(-600)
        for index in 0..<500 {
            let device = devices[index % 3]
            let report = makeReport(
                channel: .monitoring, upstreamId: "ALM-\(index)", summary: "LOS 信号丢失",
                alarm: Alarm(code: "OPT-LOS", device: device, state: .raised), occurredAt: start.addingTimeInterval(Double(index)))
            try await harness.publish(makeEvent(report, source: "nms://east"), routingKey: "report.monitoring")
        }
        #expect(await harness.waitFor(timeout: .seconds(60)) { harness.events(ofType: .ticketCorrelated).count >= 497 })
        try await Task.sleep(for: .milliseconds(500))
        let tickets = harness.ticketsOpened()
        #expect(tickets.count == 3)
        #expect(Set(tickets.compactMap { $0.alarm?.device }) == Set(devices))
        let correlated = harness.events(ofType: .ticketCorrelated).compactMap { try? $0.decodeData(TicketCorrelated.self) }
        #expect(correlated.count == 497)
        #expect(Set(correlated.map(\.ticketId)) == Set(tickets.map(\.ticketId)))
        let last = try #require(correlated.filter { $0.device == devices[0] }.max { $0.count < $1.count })
        #expect(last.count == 167)
        #expect(last.lastSeenAt.timeIntervalSince(last.firstSeenAt) >= 495)

        // A clear is recorded on its ticket; the next raise opens a new one.
        let clear = makeReport(
            channel: .monitoring, upstreamId: "ALM-CLR", summary: "LOS 清除", alarm: Alarm(code: "OPT-LOS", device: devices[0], state: .cleared))
        try await harness.publish(makeEvent(clear, source: "nms://east"), routingKey: "report.monitoring")
        #expect(await harness.waitFor { harness.events(ofType: .ticketCorrelated).contains { (try? $0.decodeData(TicketCorrelated.self))?.cleared == true } })
        let allCorrelated = harness.events(ofType: .ticketCorrelated).compactMap { try? $0.decodeData(TicketCorrelated.self) }
        let cleared = try #require(allCorrelated.first { $0.cleared })
        #expect(cleared.ticketId == last.ticketId)
        let raise = makeReport(
            channel: .monitoring, upstreamId: "ALM-NEW", summary: "LOS again", alarm: Alarm(code: "OPT-LOS", device: devices[0], state: .raised))
        try await harness.publish(makeEvent(raise, source: "nms://east"), routingKey: "report.monitoring")
        #expect(await harness.waitFor { harness.ticketsOpened().count == 4 })
    }

    @Test func sigkillInTheMiddleOfFiveThousandReportsLosesAndDoublesNothing() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let total = 5000
        let killer = Task {
            _ = await harness.waitFor(timeout: .seconds(120)) { harness.ticketsOpened().count >= 1000 }
            await harness.killIntake()
        }
        for index in 0..<total {
            let report = makeReport(channel: .portal, upstreamId: "BULK-\(index)", summary: "批量报障 #\(index)")
            try await harness.publish(makeEvent(report, id: "bulk-\(index)"), routingKey: "report.portal")
        }
        await killer.value
        let seenAtKill = harness.ticketsOpened().count
        #expect(seenAtKill < total, "the kill came after everything was done; the test proves less")
        try await harness.startIntake()
        #expect(await harness.waitFor(timeout: .seconds(180)) { Set(harness.ticketsOpened().map(\.reportId)).count >= total })
        try await Task.sleep(for: .seconds(2))
        let tickets = harness.ticketsOpened()
        let events = harness.events(ofType: .ticketOpened)
        #expect(Set(tickets.map(\.reportId)).count == total)
        // A report never gets two tickets (a relay may republish the same event after the kill:
        // same event id, which consumers de-duplicate).
        var ticketByReport: [String: String] = [:]
        for ticket in tickets {
            if let existing = ticketByReport[ticket.reportId] {
                #expect(existing == ticket.ticketId, "report \(ticket.reportId) got two tickets")
            }
            ticketByReport[ticket.reportId] = ticket.ticketId
        }
        #expect(Set(events.map(\.id)).count == total)
        #expect(Set(tickets.map(\.ticketId)).count == total)
    }

    @Test func httpAuthBatchesAndLimits() async throws {
        let harness = try await IntakeHarness.make()
        defer { Task { await harness.shutdown() } }
        let event = makeEvent(makeReport(channel: .portal, upstreamId: "HTTP-1"))

        let noToken = try await harness.post(event, token: nil)
        #expect(noToken.status == 401 && noToken.contentType.hasPrefix("application/problem+json"))
        let wrongToken = try await harness.post(event, token: "not-a-token")
        #expect(wrongToken.status == 401)
        let otherSource = try await harness.post(event, token: otherToken)
        #expect(otherSource.status == 403 && otherSource.contentType.hasPrefix("application/problem+json"))
        let own = makeEvent(makeReport(channel: .api, upstreamId: "HTTP-OTHER"), source: "/other")
        #expect(try await harness.post(own, token: otherToken).status == 202)

        // One invalid event: 422 with every problem named by its path.
        var bad = makeReport(channel: .portal, upstreamId: "HTTP-BAD", summary: " ")
        bad.customer.account = ""
        let invalid = try await harness.post(makeEvent(bad))
        #expect(invalid.status == 422 && invalid.contentType.hasPrefix("application/problem+json"))
        let paths = (invalid.json["problems"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(Set(paths) == ["data.summary", "data.customer.account"])

        // A batch: each item answered on its own.
        let good1 = makeEvent(makeReport(channel: .email, upstreamId: "BATCH-1"))
        var broken = makeReport(channel: .phone, upstreamId: "BATCH-2")
        broken.occurredAt = Date().addingTimeInterval(86_400)
        let good2 = makeEvent(makeReport(channel: .field, upstreamId: "BATCH-3"))
        let forbidden = makeEvent(makeReport(channel: .api, upstreamId: "BATCH-4"), source: "/other")
        let (headers, body) = HTTPCloudEventCodec.encodeBatch([good1, makeEvent(broken), good2, good1])
        let batch = try await harness.post(body, headers: headers, token: goodToken)
        #expect(batch.status == 202)
        let results = batch.json["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["status"] as? String } == ["opened", "rejected", "opened", "duplicate"])
        #expect((results[1]["problems"] as? [[String: Any]])?.first?["path"] as? String == "data.occurredAt")
        #expect(results[3]["ticketId"] as? String == results[0]["ticketId"] as? String)
        let (forbiddenHeaders, forbiddenBody) = HTTPCloudEventCodec.encodeBatch([forbidden])
        let allBad = try await harness.post(forbiddenBody, headers: forbiddenHeaders, token: goodToken)
        #expect(allBad.status == 202)  // the good token may use any source
        let (onlyBadHeaders, onlyBadBody) = HTTPCloudEventCodec.encodeBatch([makeEvent(broken)])
        let noneAccepted = try await harness.post(onlyBadBody, headers: onlyBadHeaders, token: goodToken)
        #expect(noneAccepted.status == 400 && noneAccepted.contentType.hasPrefix("application/problem+json"))

        // Over the limits: the request body (1 MiB) and one event's data (256 KiB).
        let huge = Data(repeating: UInt8(ascii: "x"), count: 2 << 20)
        let tooLarge = try await harness.post(huge, headers: ["Content-Type": "application/cloudevents+json"], token: goodToken)
        #expect(tooLarge.status == 413 && tooLarge.contentType.hasPrefix("application/problem+json"))
        var bigData = event
        bigData.id = CloudEvent.newID()
        bigData.data = Data(repeating: UInt8(ascii: " "), count: 300 * 1024)
        #expect(try await harness.post(bigData).status == 413)

        // Rejected HTTP input is kept with its reason; successes are tickets.
        #expect(await harness.waitFor {
            harness.rejected.withLock { $0.count } >= 5 && harness.ticketsOpened().count >= 4
        })
        let reasons = harness.rejected.withLock { $0.compactMap { $0.properties.headers[ITRNames.reasonCodeHeader]?.stringValue } }
        #expect(reasons.contains("unauthorized-source") && reasons.contains("validation-failed") && reasons.contains("too-large"))
        // The oversized request is kept too: its first maxRequestBytes, marked truncated.
        #expect(await harness.waitFor {
            harness.rejected.withLock { $0.contains { $0.properties.headers["x-itr-truncated"] != nil } }
        })
        let truncated = try #require(harness.rejected.withLock { $0.first { $0.properties.headers["x-itr-truncated"] != nil } })
        #expect(truncated.body.count == 1 << 20)
        #expect(truncated.body.allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(truncated.properties.headers[ITRNames.reasonCodeHeader]?.stringValue == "too-large")
        #expect(truncated.properties.headers["authorization"] == nil)
        let keptInvalid = harness.rejected.withLock { $0.first { $0.properties.headers["ce-id"]?.stringValue == makeEventID(invalid) } }
        #expect(keptInvalid == nil || keptInvalid?.properties.headers["authorization"] == nil)
    }
}

private func makeEventID(_ answer: IntakeHarness.HTTPAnswer) -> String? { answer.json["id"] as? String }

extension IntakeHarness {
    func get(_ path: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue(TestTokens.opsAuthorization, forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }
}
