import Foundation
import ITREvents

/// What caused an emitted event: the causing event's id, its occurrence time and trace context.
public struct Cause: Sendable, Hashable {
    public var id: String?
    public var traceparent: String?
    public var tracestate: String?
    /// When the cause happened (the CloudEvent `time`), the instant of the facts it records;
    /// nil when it carries none (an HTTP action, a due moment): then the processing instant.
    public var time: Date?

    public init(id: String?, traceparent: String? = nil, tracestate: String? = nil, time: Date? = nil) {
        self.id = id
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.time = time
    }

    public init(_ event: CloudEvent) {
        self.init(id: event.id, traceparent: event.traceparent, tracestate: event.tracestate, time: event.time)
    }
}

/// An action the router refused, with the specific reason (HTTP status for the API).
public struct ActionRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// 404 unknown ticket, 409 forbidden by the ticket's state, 422 unknown values (resolution code ...).
    public var status: Int

    public init(code: String, message: String, status: Int = 409) {
        self.code = code
        self.message = message
        self.status = status
    }

    public init(_ refusal: TicketRefusal) {
        self.init(code: refusal.code.rawValue, message: refusal.message, status: 409)
    }

    public var description: String { "\(code): \(message)" }
}
