import AMQPClient
import Foundation
import ITREvents
import ITRTestSupport
import Logging
import Synchronization
import Testing

/// Least privilege at the broker, on the real broker: the four services run as their own broker
/// users (deploy/rabbitmq/users.json, created by broker.sh) and do their whole job; each user is
/// refused what it has no business doing; a ticket action over AMQP is applied only with a
/// broker-validated `user_id` that access.yaml maps to a desk identity, and anything else is
/// refused with its reason and kept in itr-router.inbox.dlq.
@Suite("broker users and rights", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct BrokerAccessTests {
    static let logger = Logger(label: "broker-access")

    static func connect(_ url: String, _ name: String) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectionName = name
        return try await AMQPConnection.connect(configuration, logger: logger)
    }

    /// True when the broker refuses `operation` (ACCESS_REFUSED, PRECONDITION_FAILED) within 20 s.
    static func refused(_ what: String, _ operation: @escaping @Sendable () async throws -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await operation()
                    return false
                } catch {
                    return true
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test(.timeLimit(.minutes(6)))
    func everyServiceAsItsOwnUserAndEveryoneRefusedTheRest() async throws {
        try TestEnvironment.requireServiceBinaries()
        let (guestURL, userURL) = try await TestEnvironment.makeVhostWithUsers("access")
        var perProduct: [String: [String: String]] = [:]
        for product in SystemFleet.products { perProduct[product] = ["AMQP_URL": try await userURL(product)] }
        let fleet = try await SystemFleet.start(url: guestURL, environment: ["LOG_LEVEL": "warning"], perProduct: perProduct)
        do {
            try await check(guestURL: guestURL, userURL: userURL)
        } catch {
            _ = await fleet.stop()
            throw error
        }
        let statuses = await fleet.stop()
        #expect(statuses.values.allSatisfy { $0 == 0 }, "a service did not stop cleanly: \(statuses)")
        await TestEnvironment.deleteVhost(url: guestURL)
    }

    func check(guestURL: String, userURL: @Sendable (String) async throws -> String) async throws {
        let observer = try await EventObserver.start(url: guestURL)
        let guest = try await Self.connect(guestURL, "access-guest")
        let dead = Kept()
        _ = try await guest.consume(queue: "itr-router.inbox.dlq", prefetch: 50, onDelivery: { dead.append($0.message); $0.ack() })
        let upstream = try await Self.connect(try await userURL("itr-upstream"), "access-upstream")
        let desk = try await Self.connect(try await userURL("itr-desk"), "access-desk")

        // A report from upstream as itr-upstream: intake (as intake) opens the ticket, the router
        // (as itr-router) classifies it.
        let report = try CloudEvent(
            source: "crm://access-test", payload: ReportSubmitted(
                sourceSystem: "crm", channel: .portal, upstreamId: "ACCESS-1",
                customer: Customer(account: "ACC-1001", name: "中国联通北京分公司"),
                product: Product(line: "optical", model: "OSN 8800", version: "V100R012"),
                summary: "光模块告警, 链路中断", occurredAt: Date().addingTimeInterval(-60), language: .zh),
            id: "access-report-1")
        try await upstream.publish(AMQPCloudEventCodec.encode(report), exchange: "itr.ingress", routingKey: "report.portal")
        let ticket = try await observer.await("the report's ticket classified", timeout: .seconds(30)) {
            observer.payloads(TicketClassified.self).first?.1.ticketId
        }

        @Sendable func action(_ kind: TicketActionKind, id: String) throws -> AMQPMessage {
            let action = ITREvents.TicketAction(ticketId: ticket, action: kind, actor: Actor(id: "王工", role: "engineer"), note: "备注")
            return AMQPCloudEventCodec.encode(try CloudEvent(source: "//access-test/desk", payload: action, id: id))
        }
        // The desk's action with its user_id: applied, recorded as the identity access.yaml gives it.
        try await desk.publish(try action(.acknowledge, id: "access-ack").sent(by: "itr-desk"), exchange: "itr.ingress", routingKey: "ticket.acknowledge")
        let updated = try await observer.await("the desk's acknowledge applied", timeout: .seconds(30)) {
            observer.events.first { $0.type == EventType.ticketUpdated.rawValue && $0.correlationID == ticket }
        }
        #expect(String(decoding: updated.data ?? Data(), as: UTF8.self).contains("service-desk-tools"), "\(String(decoding: updated.data ?? Data(), as: UTF8.self))")

        // No user_id (guest), and guest's own user_id (not a desk actor): refused with the reason, kept.
        try await guest.publish(try action(.note, id: "access-anonymous"), exchange: "itr.ingress", routingKey: "ticket.note")
        try await guest.publish(try action(.note, id: "access-guest").sent(by: "guest"), exchange: "itr.ingress", routingKey: "ticket.note")
        let keptBoth = await eventuallyTrue { dead.messages.count >= 2 }
        #expect(keptBoth, "the refused actions were not kept in itr-router.inbox.dlq")
        let reasons = dead.messages.map { ($0.properties.messageID ?? $0.properties.headers["ce-id"]?.stringValue ?? "", $0.properties.headers["x-itr-reason-code"]?.stringValue, $0.properties.headers["x-itr-reason"]?.stringValue ?? "") }
        #expect(reasons.allSatisfy { $0.1 == "unauthorized-actor" }, "\(reasons)")
        #expect(reasons.contains { $0.2.contains("needs the user_id") }, "\(reasons)")
        #expect(reasons.contains { $0.2.contains("broker user guest is not a desk actor") }, "\(reasons)")
        #expect(dead.messages.contains { $0.properties.headers["x-itr-original-user-id"]?.stringValue == "guest" })
        let rejections = try await observer.await("itr.ticket.action-rejected for the refused actions", timeout: .seconds(60)) {
            let found = observer.payloads(TicketActionRejected.self).filter { $0.1.reasonCode == "unauthorized-actor" }
            return found.count >= 2 ? found : nil
        }
        #expect(rejections.count == 2)

        // The broker itself refuses: a forged user_id, and everything outside a user's rights.
        #expect(await Self.refused("forged user_id") {
            try await desk.publish(try action(.note, id: "access-forged").sent(by: "itr-router"), exchange: "itr.ingress", routingKey: "ticket.note")
        }, "a user_id other than the connection's user was accepted")
        let desk2 = try await Self.connect(try await userURL("itr-desk"), "access-desk-2")
        #expect(await Self.refused("desk sends a report") {
            try await desk2.publish(AMQPCloudEventCodec.encode(report), exchange: "itr.ingress", routingKey: "report.portal")
        }, "itr-desk may publish only ticket.* on itr.ingress")
        let ltcURL = try await userURL("ltc-extractor")
        #expect(await Self.refused("ltc-extractor publishes to itr.ingress") {
            let ltc = try await Self.connect(ltcURL, "access-ltc-1")
            defer { Task { await ltc.close() } }
            try await ltc.publish(try action(.note, id: "access-ltc").sent(by: "ltc-extractor"), exchange: "itr.ingress", routingKey: "ticket.note")
        })
        #expect(await Self.refused("ltc-extractor consumes itr-router.inbox") {
            let ltc = try await Self.connect(ltcURL, "access-ltc-2")
            defer { Task { await ltc.close() } }
            let consumer = try await ltc.consume(queue: "itr-router.inbox", prefetch: 1)
            for try await _ in consumer { break }
        })
        let salesURL = try await userURL("itr-sales")
        #expect(await Self.refused("sales consumes the defect feed") {
            let sales = try await Self.connect(salesURL, "access-sales")
            defer { Task { await sales.close() } }
            let consumer = try await sales.consume(queue: "feed.defects", prefetch: 1)
            for try await _ in consumer { break }
        })
        for connection in [desk, desk2, upstream, guest] { await connection.close() }
        await observer.close()
    }

    final class Kept: Sendable {
        private let state = Mutex<[AMQPMessage]>([])
        func append(_ message: AMQPMessage) { state.withLock { $0.append(message) } }
        var messages: [AMQPMessage] { state.withLock { $0 } }
    }

    func eventuallyTrue(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}
