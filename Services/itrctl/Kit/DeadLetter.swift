import AMQPClient
import Foundation
import ServiceKit

/// One message of a dead-letter queue (or `itr.rejected`), as `itrctl dlq show` prints it.
public struct DeadLetter: Codable, Sendable, Hashable {
    public var position: Int
    public var messageID: String?
    /// CloudEvent attributes, when the message carries them (binary-mode headers).
    public var eventType: String?
    public var eventID: String?
    public var eventSource: String?
    /// Why: the `x-itr-*` headers ServiceKit writes for input a handler found invalid.
    public var reasonCode: String?
    public var reason: String?
    public var service: String?
    /// Why: the broker's `x-death` entry (delivery limit reached, rejected, expired).
    public var deathReason: String?
    public var deathQueue: String?
    public var deathCount: Int?
    /// Where a replay sends it.
    public var replayExchange: String?
    public var replayRoutingKey: String?
    public var bodyBytes: Int
    public var body: String

    public init(position: Int, message: AMQPMessage, bodyLimit: Int = 2000) {
        let headers = message.properties.headers
        self.position = position
        messageID = message.properties.messageID
        eventType = headers["ce-type"]?.stringValue ?? message.properties.type
        eventID = headers["ce-id"]?.stringValue
        eventSource = headers["ce-source"]?.stringValue
        reasonCode = headers[ITRNames.reasonCodeHeader]?.stringValue
        reason = headers[ITRNames.reasonHeader]?.stringValue
        service = headers[ITRNames.serviceHeader]?.stringValue
        if let death = Self.firstDeath(headers) {
            deathReason = death["reason"]?.stringValue
            deathQueue = death["queue"]?.stringValue
            deathCount = death["count"]?.intValue.map { Int($0) }
        }
        let target = Self.replayTarget(of: message)
        replayExchange = target?.exchange
        replayRoutingKey = target?.routingKey
        bodyBytes = message.body.count
        let text = String(decoding: message.body.prefix(bodyLimit), as: UTF8.self)
        body = message.body.count > bodyLimit ? text + "…" : text
    }

    static func firstDeath(_ headers: AMQPTable) -> AMQPTable? {
        guard case .array(let deaths)? = headers["x-death"], case .table(let first)? = deaths.first else { return nil }
        return first
    }

    /// The exchange and routing key the message was first published to: the `x-itr-original-*`
    /// headers (input a handler rejected), else the broker's first `x-death` entry (delivery limit).
    public static func replayTarget(of message: AMQPMessage) -> (exchange: String, routingKey: String)? {
        let headers = message.properties.headers
        if let exchange = headers[ITRNames.originalExchangeHeader]?.stringValue,
            let key = headers[ITRNames.originalRoutingKeyHeader]?.stringValue
        {
            return (exchange, key)
        }
        if let death = firstDeath(headers), let exchange = death["exchange"]?.stringValue {
            if case .array(let keys)? = death["routing-keys"], let key = keys.first?.stringValue {
                return (exchange, key)
            }
        }
        if let exchange = headers["x-first-death-exchange"]?.stringValue, let death = firstDeath(headers),
            case .array(let keys)? = death["routing-keys"], let key = keys.first?.stringValue
        {
            return (exchange, key)
        }
        return nil
    }

    /// The message as it is re-published: body and properties unchanged (but `user_id`), the dead-lettering
    /// headers removed, `x-itr-replayed-from` added.
    ///
    /// A `user_id` (or a kept copy's `x-itr-original-user-id`) is set to `replayingUser`, the replaying connection's user: RabbitMQ refuses a
    /// publish whose `user_id` is another user, and the router records a ticket action as the
    /// broker user that sent it. So replay service-desk actions as `itr-desk` for the router to
    /// accept them; an administrator's replay of an action is refused (`unauthorized-actor`).
    public static func replayable(_ message: AMQPMessage, from queue: String, replayingUser: String) -> AMQPMessage {
        var copy = message
        if copy.properties.userID != nil || copy.properties.headers[ITRNames.originalUserIDHeader] != nil {
            copy.properties.userID = replayingUser.isEmpty ? nil : replayingUser
        }
        let dropped: Set<String> = [
            "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
            "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-delivery-count",
            ITRNames.reasonCodeHeader, ITRNames.reasonHeader, ITRNames.serviceHeader,
            ITRNames.originalExchangeHeader, ITRNames.originalRoutingKeyHeader, ITRNames.originalUserIDHeader,
        ]
        copy.properties.headers = copy.properties.headers.filter { !dropped.contains($0.key) }
        copy.properties.headers["x-itr-replayed-from"] = .string(queue)
        copy.properties.deliveryMode = 2
        return copy
    }
}
