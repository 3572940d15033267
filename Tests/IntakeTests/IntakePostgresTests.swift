import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import ServiceKit
import Testing

@testable import IntakeApp

/// Two instances of intake on one PostgreSQL database (a database of the test's own), consuming
/// one queue and both answering HTTP: a report sent to both at once opens one ticket, every
/// report of a stream delivered twice opens one, ticket numbers are never given twice, and an
/// alarm storm folds into one ticket per device whichever instance takes each alarm.
@Suite(
    "intake: two instances on PostgreSQL", .serialized,
    .enabled(if: TestEnvironment.brokerTestsEnabled && (TestStore.postgresAvailable || TestStore.postgresRequired)))
struct IntakePostgresTests {
    @Test(.timeLimit(.minutes(5)))
    func aReportSentToBothInstancesOpensOneTicketAndStormsFoldAcrossThem() async throws {
        let harness = try await IntakeHarness.make(start: false)
        let database = try await TestStore.makeDatabase(for: "intake")
        let otherPort = TestEnvironment.freePorts()
        var first = harness.environment
        first["DATABASE_URL"] = database.url
        first["ITR_INSTANCE"] = "intake-0"
        first["METRICS_PORT"] = "0"
        var second = first
        second["ITR_INSTANCE"] = "intake-1"
        second["HTTP_PORT"] = "\(otherPort)"
        second["DATA_DIR"] = harness.dataDir + "-1"
        let processes = [
            try await ServiceProcess.start(product: "intake", environment: first),
            try await ServiceProcess.start(product: "intake", environment: second),
        ]
        try await processes[0].waitReady(port: harness.port)
        try await processes[1].waitReady(port: otherPort)

        // HTTP: each report to both instances at once.
        let viaHTTP = 40
        let answers = try await withThrowingTaskGroup(of: (Int, [HTTPAnswerSummary]).self) { group in
            for index in 0..<viaHTTP {
                let event = makeEvent(makeReport(channel: .portal, upstreamId: "PG-HTTP-\(index)"), id: "pg-http-\(index)")
                group.addTask {
                    async let a = harness.post(event)
                    async let b = harness.post(event, port: otherPort)
                    return (index, [HTTPAnswerSummary(try await a), HTTPAnswerSummary(try await b)])
                }
            }
            return try await group.reduce(into: [Int: [HTTPAnswerSummary]]()) { $0[$1.0] = $1.1 }
        }
        for (index, pair) in answers.sorted(by: { $0.key < $1.key }) {
            #expect(pair.map(\.status).sorted() == [200, 202], "report \(index): \(pair)")
            #expect(pair[0].ticketId != nil && pair[0].ticketId == pair[1].ticketId, "report \(index): one ticket, \(pair)")
        }

        // AMQP: a stream in which every report comes twice, and a storm on five devices.
        let viaAMQP = 300
        for index in 0..<viaAMQP {
            let event = makeEvent(makeReport(channel: .phone, upstreamId: "PG-AMQP-\(index)"), id: "pg-amqp-\(index)")
            try await harness.publish(event, routingKey: "report.phone")
            try await harness.publish(event, routingKey: "report.phone")
        }
        let devices = (1...5).map { "NE-亦庄-\($0)" }
        let start = Date().addingTimeInterval(-600)
        let alarms = 250
        for index in 0..<alarms {
            let report = makeReport(
                channel: .monitoring, upstreamId: "PG-ALM-\(index)", summary: "LOS 信号丢失",
                alarm: Alarm(code: "OPT-LOS", device: devices[index % devices.count], state: .raised),
                occurredAt: start.addingTimeInterval(Double(index)))
            try await harness.publish(makeEvent(report, source: "nms://east"), routingKey: "report.monitoring")
        }

        let expectedTickets = viaHTTP + viaAMQP + devices.count
        #expect(await harness.waitFor(timeout: .seconds(120)) {
            harness.ticketsOpened().count >= expectedTickets && harness.events(ofType: .ticketCorrelated).count >= alarms - devices.count
        })
        try await Task.sleep(for: .seconds(1))
        let tickets = harness.ticketsOpened()
        #expect(tickets.count == expectedTickets, "one ticket per report and per storm")
        #expect(Set(tickets.map(\.reportId)).count == expectedTickets)
        #expect(Set(tickets.map(\.ticketId)).count == expectedTickets, "no ticket number given twice")
        let correlated = harness.events(ofType: .ticketCorrelated).compactMap { try? $0.decodeData(TicketCorrelated.self) }
        #expect(correlated.count == alarms - devices.count)
        for device in devices {
            let storm = tickets.filter { $0.alarm?.device == device }
            #expect(storm.count == 1, "\(device): one ticket")
            let counts = correlated.filter { $0.device == device }.map(\.count)
            #expect(counts.max() == alarms / devices.count, "\(device): every alarm counted once")
            #expect(Set(counts).count == counts.count, "\(device): no count announced twice (no lost update)")
        }

        for process in processes { #expect(await process.terminate() == 0) }
        await harness.shutdown()
        await TestStore.dropDatabase(database.name)
        try? FileManager.default.removeItem(atPath: harness.dataDir + "-1")
    }
}

/// What a test keeps of an HTTP answer.
struct HTTPAnswerSummary: Sendable, CustomStringConvertible {
    var status: Int
    var ticketId: String?

    init(_ answer: IntakeHarness.HTTPAnswer) {
        status = answer.status
        ticketId = answer.json["ticketId"] as? String
    }

    var description: String { "\(status) \(ticketId ?? "-")" }
}
