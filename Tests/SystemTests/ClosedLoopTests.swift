import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import Testing

/// The whole ITR closed loop across the four real service executables and a real RabbitMQ:
/// reports → tickets → problem → known error → known error at intake → defect for R&D → fix
/// released → problem resolved, incidents moved on → customer confirmation; opportunities for
/// sales on the side. Driven only through the contract (`itr.ingress`), observed only through
/// it (`itr.events`, `feed.defects`, `feed.opportunities`).
@Suite("ITR closed loop across the four services", .serialized, .enabled(if: TestEnvironment.serviceTestsEnabled))
struct ClosedLoopTests {
    static let product = Product(line: "routers", model: "RX8000", version: "V8R12", component: "MPU")
    static let rootCause = "V8R12 主控板软件内存泄漏 / memory leak in the MPU software of V8R12"
    static let workaround = "关闭 LLDP 自动协商后主备倒换 / disable LLDP auto-negotiation, then switch over to the standby MPU"
    static let fixVersion = "V8R12SPC300"

    @Test(.timeLimit(.minutes(10)))
    func reportsToFixAndBack() async throws {
        // Every service as its own broker user, the desk's actions as itr-desk: the whole loop
        // on the deployment's least-privilege rights.
        let (url, userURL) = try await TestEnvironment.makeVhostWithUsers("system")
        var perProduct: [String: [String: String]] = [:]
        for product in SystemFleet.products { perProduct[product] = ["AMQP_URL": try await userURL(product)] }
        let fleet = try await SystemFleet.start(url: url, perProduct: perProduct)
        var observer: EventObserver?
        let desk = try await AMQPConnection.connect(AMQPConfiguration(url: try await userURL("itr-desk")), logger: Logger(label: "desk"))
        defer { Task { await desk.close() } }
        do {
            let watch = try await EventObserver.start(url: url)
            observer = watch
            try await runLoop(watch, upstream: Upstream(connection: watch.connection, desk: desk))
            try await checkNothingRejected(watch.connection)
        } catch {
            Issue.record("closed loop failed: \(error)\n\(fleet.logTails)")
        }
        await observer?.close()
        let statuses = await fleet.stop()
        for product in SystemFleet.products {
            #expect(statuses[product] == .some(0), "\(product) exited \(String(describing: statuses[product]))")
        }
        fleet.removeData()
        await TestEnvironment.deleteVhost(url: url)
    }

    // MARK: The loop

    func runLoop(_ watch: EventObserver, upstream: Upstream) async throws {
        // 1. Three matching incident reports (problems.yaml recurrence threshold 3) from three
        //    accounts, in Chinese and in English (the same symptom, words in another order).
        let firstTrace = Upstream.newTraceparent()
        let incidents: [(account: String, name: String, summary: String, language: Language, hint: String)] = [
            ("ACC-1002", "上海浦东发展银行股份有限公司", "RX8000 主控板反复重启，MPU reboot loop", .zh, "软件"),
            ("ACC-1003", "Guangdong Power Dispatch Center", "MPU reboot loop (主控板反复重启)", .en, "software"),
            ("ACC-2001", "Stadtwerke München GmbH", "Reboot loop on the MPU: 主控板反复重启", .en, "software"),
        ]
        var reports: [CloudEvent] = []
        for (index, incident) in incidents.enumerated() {
            reports.append(try await upstream.report(
                upstreamId: "CRM-\(UUID().uuidString.prefix(8))", account: incident.account, customerName: incident.name,
                product: Self.product, summary: incident.summary, language: incident.language, categoryHint: incident.hint,
                traceparent: index == 0 ? firstTrace : nil))
        }
        var tickets: [String] = []
        for report in reports {
            let opened = try await watch.await("itr.ticket.opened for report \(report.id)") {
                watch.payloads(TicketOpened.self).first { $0.1.reportId == report.id }?.1
            }
            #expect(opened.knownError == nil)
            tickets.append(opened.ticketId)
        }
        #expect(Set(tickets).count == 3)
        for ticket in tickets {
            let classified = try await watch.await("itr.ticket.classified for \(ticket)") {
                watch.payloads(TicketClassified.self, correlation: ticket).first?.1
            }
            #expect(classified.serviceType == .softwareFault)
            #expect(classified.priority != .p1, "a P1 would open a problem by itself")
            _ = try await watch.await("itr.ticket.assigned for \(ticket)") {
                watch.payloads(TicketAssigned.self, correlation: ticket).first
            }
        }
        let (problemEvent, problem) = try await watch.await("itr.problem.opened") {
            watch.payloads(ProblemOpened.self).first { Set($0.1.ticketIds) == Set(tickets) }
        }
        #expect(watch.payloads(ProblemOpened.self).count == 1)
        #expect(problem.trigger == .recurring && problem.productLine == "routers" && problem.model == "RX8000")
        #expect(problemEvent.correlationID == problem.problemId)
        // Chinese in the title travels as written.
        #expect(problem.title.contains("主控板反复重启"))

        // 2. The service desk acknowledges and resolves two of them (two accounts) as a software
        //    defect, with root cause and workaround: the problem becomes a known error.
        let engineer = Actor(id: "eng-0417", name: "王工", role: "engineer")
        for ticket in tickets.prefix(2) {
            try await upstream.act(TicketAction(ticketId: ticket, action: .acknowledge, actor: engineer))
            try await upstream.act(TicketAction(
                ticketId: ticket, action: .resolve, actor: engineer,
                resolution: .init(
                    resolutionCode: "SW-DEFECT", rootCause: Self.rootCause, workaround: Self.workaround,
                    qualityResponsibility: .productSoftware)))
        }
        for ticket in tickets.prefix(2) {
            let resolved = try await watch.await("itr.ticket.resolved for \(ticket)") {
                watch.payloads(TicketResolved.self, correlation: ticket).first?.1
            }
            #expect(resolved.qualityResponsibility == .productSoftware)
            #expect(resolved.problemId == problem.problemId)
            #expect(resolved.workaround == Self.workaround)
            #expect(watch.payloads(TicketUpdated.self, correlation: ticket).contains { $0.1.action == .acknowledge })
        }
        let knownError = try await watch.await("itr.problem.known-error") {
            watch.payloads(ProblemKnownError.self, correlation: problem.problemId).first?.1
        }
        #expect(knownError.rootCause == Self.rootCause && knownError.workaround == Self.workaround)
        #expect(knownError.fingerprint == problem.fingerprint)

        // 3. A known error reaching intake: a new matching report gets the workaround at once.
        let later = try await upstream.report(
            upstreamId: "CRM-\(UUID().uuidString.prefix(8))", account: "ACC-1002", customerName: "上海浦东发展银行股份有限公司",
            product: Self.product, summary: "主控板反复重启 MPU reboot loop", language: .zh, categoryHint: "软件")
        let laterTicket = try await watch.await("itr.ticket.opened for the report after the known error") {
            watch.payloads(TicketOpened.self).first { $0.1.reportId == later.id }?.1
        }
        let match = try #require(laterTicket.knownError, "intake did not attach the known error")
        #expect(match.problemId == problem.problemId && match.workaround == Self.workaround)
        tickets.append(laterTicket.ticketId)

        // 4. ipd-feedback reports ONE defect for the product-caused problem (2 customers).
        let (reportedEvent, defect) = try await watch.await("itr.defect.reported on feed.defects") {
            watch.messages(on: EventRouting.defectFeedQueue).lazy
                .filter { $0.event.type == EventType.defectReported.rawValue }
                .compactMap { seen in (try? seen.event.decodeData(DefectReported.self)).map { (seen.event, $0) } }
                .first { $0.1.problemIds.contains(problem.problemId) }
        }
        #expect(defect.status == .reported && defect.productLine == "routers" && defect.model == "RX8000")
        // two customers' incidents were found product-caused; the problem's three count as incidents
        #expect(defect.impact.customers == 2 && defect.impact.incidents == 3)
        #expect(Set(defect.ticketIds) == Set(tickets.prefix(3)))
        #expect(reportedEvent.correlationID == defect.defectId)

        // 5. R&D releases a fix: defect fixed → problem resolved with the fix version → the
        //    incidents still open (the third and the later one) are resolved by the router.
        try await upstream.defectStatus(DefectStatus(
            defectId: defect.defectId, status: .fixReleased, fixVersion: Self.fixVersion,
            actor: Actor(id: "rd-lead-07", role: "rnd")))
        let fixed = try await watch.await("itr.defect.fixed on feed.defects") {
            watch.messages(on: EventRouting.defectFeedQueue).lazy
                .filter { $0.event.type == EventType.defectFixed.rawValue }
                .compactMap { try? $0.event.decodeData(DefectFixed.self) }
                .first { $0.defectId == defect.defectId }
        }
        #expect(fixed.fixVersion == Self.fixVersion && fixed.status == .fixReleased)
        let problemResolved = try await watch.await("itr.problem.resolved") {
            watch.payloads(ProblemResolved.self, correlation: problem.problemId).first?.1
        }
        #expect(problemResolved.fixVersion == Self.fixVersion && problemResolved.defectId == defect.defectId)
        #expect(Set(problemResolved.ticketIds) == Set(tickets))
        for ticket in tickets.suffix(2) {
            let resolved = try await watch.await("itr.ticket.resolved by the fix for \(ticket)") {
                watch.payloads(TicketResolved.self, correlation: ticket).first?.1
            }
            #expect(resolved.resolutionCode == "SW-DEFECT" && resolved.resolvedBy?.role == "system")
            #expect(resolved.problemId == problem.problemId)
        }
        // The two tickets resolved by the desk are told about the fix, not resolved again.
        for ticket in tickets.prefix(2) {
            _ = try await watch.await("fix note on \(ticket)") {
                watch.payloads(TicketUpdated.self, correlation: ticket).first { $0.1.note?.contains(Self.fixVersion) == true }
            }
            #expect(watch.payloads(TicketResolved.self, correlation: ticket).count == 1)
        }

        // 6. Sales: a new requirement, and a report from an account whose contract has expired.
        let requirement = try await upstream.report(
            upstreamId: "CRM-\(UUID().uuidString.prefix(8))", account: "ACC-1003", customerName: "Guangdong Power Dispatch Center",
            product: Self.product, summary: "希望增加 SRv6 策略可视化 / enhancement request: SRv6 policy visualisation",
            language: .en)
        let expired = try await upstream.report(
            upstreamId: "CRM-\(UUID().uuidString.prefix(8))", account: "ACC-1019", customerName: "云南省广播电视网络集团",
            product: Product(line: "optical", model: "OX9600", version: "V100R021"),
            summary: "如何配置 OTU 板的性能门限？", language: .zh)
        let requirementTicket = try await watch.await("ticket for the requirement") {
            watch.payloads(TicketOpened.self).first { $0.1.reportId == requirement.id }?.1.ticketId
        }
        let expiredTicket = try await watch.await("ticket for the expired account") {
            watch.payloads(TicketOpened.self).first { $0.1.reportId == expired.id }?.1.ticketId
        }
        let requirementClass = try await watch.await("classification of the requirement") {
            watch.payloads(TicketClassified.self, correlation: requirementTicket).first?.1
        }
        #expect(requirementClass.serviceType == .newRequirement)
        func opportunity(_ kind: OpportunityKind, account: String) -> OpportunityIdentified? {
            watch.messages(on: EventRouting.opportunityFeedQueue).lazy
                .filter { $0.event.type == EventType.opportunityIdentified.rawValue }
                .compactMap { try? $0.event.decodeData(OpportunityIdentified.self) }
                .first { $0.kind == kind && $0.account == account }
        }
        let newRequirement = try await watch.await("new-requirement opportunity on feed.opportunities") {
            opportunity(.newRequirement, account: "ACC-1003")
        }
        #expect(newRequirement.ticketIds.contains(requirementTicket) && newRequirement.status == .open)
        let renewal = try await watch.await("renewal opportunity on feed.opportunities") {
            opportunity(.renewal, account: "ACC-1019")
        }
        #expect(renewal.ticketIds.contains(expiredTicket) && renewal.signals.contains("contract-expiring"))
        #expect(renewal.estimatedValue?.currency == "CNY")

        // 8. The customer confirms a resolved ticket: closed.
        try await upstream.act(TicketAction(
            ticketId: tickets[0], action: .confirm, actor: Actor(id: "cust-spdb-01", name: "李女士", role: "customer")))
        let closed = try await watch.await("itr.ticket.closed") {
            watch.payloads(TicketClosed.self, correlation: tickets[0]).first?.1
        }
        #expect(closed.reason == .confirmed)

        // 7. Every emitted event carries causation and correlation; ticket events correlate to
        //    their ticket; the first report's trace reaches every event it caused, transitively.
        let emitted = watch.events.filter { $0.source.hasPrefix("//itr/") }
        // 6 tickets x (opened, classified, assigned), 2 acknowledged, 4 resolved, 2 fix notes, 1 closed,
        // problem opened / known error / resolved, defect reported / fixed, 2 opportunities.
        #expect(emitted.count >= 34)
        let missing = emitted.filter { ($0.causationID ?? "").isEmpty || ($0.correlationID ?? "").isEmpty }
        #expect(missing.isEmpty, "without causation/correlation: \(missing.map { "\($0.type) \($0.id)" })")
        for event in emitted where event.type.hasPrefix("itr.ticket.") {
            let ticketId = (try? event.decodeData(TicketReference.self))?.ticketId
            #expect(ticketId == nil || event.correlationID == ticketId, "\(event.type) \(event.id) correlates to \(event.correlationID ?? "-")")
        }
        var caused: Set<String> = [reports[0].id]
        var traced: [CloudEvent] = []
        var grew = true
        while grew {
            grew = false
            for event in emitted where !caused.contains(event.id) && caused.contains(event.causationID ?? "") {
                caused.insert(event.id)
                traced.append(event)
                grew = true
            }
        }
        let tracedTypes = Set(traced.map(\.type))
        #expect(tracedTypes.isSuperset(of: [
            EventType.ticketOpened.rawValue, EventType.ticketClassified.rawValue, EventType.ticketAssigned.rawValue,
        ]))
        #expect(traced.allSatisfy { $0.traceparent == firstTrace }, "trace lost on \(traced.filter { $0.traceparent != firstTrace }.map(\.type))")
        #expect(traced.filter { $0.correlationID == tickets[0] }.count >= 3)
        #expect(watch.errors.isEmpty, "\(watch.errors)")
    }

    /// Nothing ended in a dead-letter queue or in `itr.rejected`.
    func checkNothingRejected(_ connection: AMQPConnection) async throws {
        let queues = ["intake.reports", "itr-router.inbox", "ltc-extractor.inbox", "ipd-feedback.inbox"].map { "\($0).dlq" }
            + [EventRouting.rejectedQueue]
        for queue in queues {
            let status = try await connection.inspectQueue(queue)
            #expect(status.messageCount == 0, "\(status.messageCount) message(s) in \(queue)")
        }
    }
}

/// Just the ticket id of any ticket event.
struct TicketReference: Decodable {
    let ticketId: String
}
