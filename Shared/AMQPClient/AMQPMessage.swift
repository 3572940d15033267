import Foundation

/// The basic-class content properties of a message.
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    /// 1 = transient, 2 = persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = [:],
        deliveryMode: UInt8? = nil, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
        timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }

    /// Persistent delivery (delivery_mode 2), the default for everything this project publishes.
    public static var persistent: AMQPProperties { AMQPProperties(deliveryMode: 2) }
}

/// A message body with its properties, as published or as delivered.
public struct AMQPMessage: Sendable, Hashable {
    public var body: Data
    public var properties: AMQPProperties

    public init(body: Data, properties: AMQPProperties = .persistent) {
        self.body = body
        self.properties = properties
    }
}

extension AMQPMessage {
    /// The message with `user_id` = `user`, the connection's user: RabbitMQ refuses a publish
    /// whose `user_id` is not the connection's user, so a consumer can trust it (itr-router
    /// accepts ticket actions over AMQP only from the broker users `access.yaml` names).
    public func sent(by user: String) -> AMQPMessage {
        var message = self
        message.properties.userID = user
        return message
    }
}
