import Foundation
import ITREvents

/// One message of the sample day, in the order an upstream system would send it.
public struct SampleItem: Sendable {
    public enum Route: String, Codable, Sendable {
        /// Published to `itr.ingress` with the item's routing key.
        case amqp
        /// POSTed to intake's `/v1/reports` (as part of a batch).
        case http
    }

    public enum Role: String, Codable, Sendable, CaseIterable {
        /// A report that should open a ticket of its own.
        case report
        /// The same event again (same source and id): no second ticket.
        case duplicate
        /// A monitoring alarm that follows the first of its storm: folded into that ticket.
        case stormAlarm = "storm-alarm"
        /// An alarm's clearing: folded into its ticket.
        case clearedAlarm = "cleared-alarm"
        /// Input that must be rejected (bad JSON, missing fields, wrong values).
        case malformed
        /// A service-desk action on the ticket of `reportID`.
        case action
    }

    /// Seconds after the start of the sample day.
    public var offset: TimeInterval
    public var route: Route
    public var role: Role
    /// On `itr.ingress`.
    public var routingKey: String
    /// The event (reports and actions; for an action the ticket id is filled in at replay).
    public var event: CloudEvent?
    /// A malformed message's body and content type, sent as they are.
    public var rawBody: Data?
    public var rawContentType: String?
    public var rawHeaders: [String: String]
    /// For actions: the CloudEvent id of the report whose ticket they act on.
    public var reportID: String?
    /// For actions: what they do (ticketId empty until replay).
    public var action: TicketAction?
    /// Why malformed input must be rejected, or which scenario the item belongs to.
    public var note: String?

    public init(
        offset: TimeInterval, route: Route, role: Role, routingKey: String, event: CloudEvent? = nil,
        rawBody: Data? = nil, rawContentType: String? = nil, rawHeaders: [String: String] = [:], reportID: String? = nil,
        action: TicketAction? = nil, note: String? = nil
    ) {
        self.offset = offset
        self.route = route
        self.role = role
        self.routingKey = routingKey
        self.event = event
        self.rawBody = rawBody
        self.rawContentType = rawContentType
        self.rawHeaders = rawHeaders
        self.reportID = reportID
        self.action = action
        self.note = note
    }

    /// The action's event for a known ticket id.
    public func actionEvent(ticketID: String, source: String) throws -> CloudEvent? {
        guard var action, let template = event else { return nil }
        action.ticketId = ticketID
        var event = try CloudEvent(source: source, payload: action, id: template.id, subject: ticketID, time: template.time)
        event.correlationID = ticketID
        return event
    }
}

/// One line of `itrctl sample --out FILE.jsonl`.
struct SampleLine: Codable {
    var offset: TimeInterval
    var time: Date?
    var route: SampleItem.Route
    var role: SampleItem.Role
    var exchange: String
    var routingKey: String
    /// The event in the structured JSON format (reports; actions with `ticketId` empty).
    var event: JSONValue?
    /// Malformed input exactly as sent.
    var raw: String?
    var contentType: String?
    var headers: [String: String]?
    var forReport: String?
    var note: String?
}
