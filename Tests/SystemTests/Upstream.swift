import AMQPClient
import Foundation
import ITREvents

/// What the systems around ITR publish to `itr.ingress`: upstream reports (`report.<channel>`),
/// service-desk actions (`ticket.<action>`) and R&D's defect status (`defect.<status>`), as
/// binary-mode CloudEvents.
struct Upstream: Sendable {
    static let crmSource = "crm://cn-east/portal"
    static let deskSource = "servicedesk://itr/console"
    static let rndSource = "rnd://defect-tracker"

    let connection: AMQPConnection
    /// The service desk's own broker connection (`itr-desk`): actions carry its `user_id`, the
    /// only sender access.yaml lets act over AMQP. nil: `connection` (its user is refused).
    var desk: AMQPConnection?

    init(connection: AMQPConnection, desk: AMQPConnection? = nil) {
        self.connection = connection
        self.desk = desk
    }

    /// Publishes one upstream report; returns the event (its id is the ticket's `reportId`).
    @discardableResult
    func report(
        upstreamId: String, account: String, customerName: String, product: Product, summary: String,
        description: String? = nil, language: Language, categoryHint: String? = nil, traceparent: String? = nil,
        channel: Channel = .portal
    ) async throws -> CloudEvent {
        let payload = ReportSubmitted(
            sourceSystem: "crm-portal", channel: channel, upstreamId: upstreamId,
            customer: Customer(account: account, name: customerName), product: product, summary: summary,
            description: description, occurredAt: Date().addingTimeInterval(-60), language: language,
            categoryHint: categoryHint)
        var event = try CloudEvent(source: Self.crmSource, payload: payload)
        event.traceparent = traceparent
        try await publish(event, routingKey: EventRouting.ingressKey(for: channel))
        return event
    }

    /// Publishes one service-desk action on a ticket.
    @discardableResult
    func act(_ action: TicketAction) async throws -> CloudEvent {
        let event = try CloudEvent(source: Self.deskSource, payload: action)
        let desk = self.desk ?? connection
        try await desk.publish(
            AMQPCloudEventCodec.encode(event).sent(by: desk.configuration.user), exchange: EventRouting.ingressExchange,
            routingKey: EventRouting.ingressKey(for: action.action))
        return event
    }

    /// Publishes R&D's decision on a defect.
    @discardableResult
    func defectStatus(_ status: DefectStatus) async throws -> CloudEvent {
        let event = try CloudEvent(source: Self.rndSource, payload: status)
        try await publish(event, routingKey: EventRouting.ingressKey(for: status.status))
        return event
    }

    private func publish(_ event: CloudEvent, routingKey: String) async throws {
        try await connection.publish(
            AMQPCloudEventCodec.encode(event), exchange: EventRouting.ingressExchange, routingKey: routingKey)
    }

    /// A fresh W3C `traceparent` (version 00, sampled).
    static func newTraceparent() -> String {
        func hex(_ bytes: Int) -> String { (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        return "00-\(hex(16))-\(hex(8))-01"
    }
}
