/// The one error type of the AMQP client: a stable code, a message for people, and the
/// broker's reply code and text when the broker said why.
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Codes are stable strings (for logs and metrics).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The `AMQP_URL` or TLS settings are not usable.
        public static let invalidConfiguration = Code("invalid-configuration")
        /// TCP or TLS connection could not be established.
        public static let connectionFailed = Code("connection-failed")
        /// The broker refused the credentials or the vhost.
        public static let authenticationFailed = Code("authentication-failed")
        /// The connection was lost or closed by the broker (it is being recovered).
        public static let connectionLost = Code("connection-lost")
        /// The broker closed a channel because of this operation (404, 406, ...).
        public static let channelClosed = Code("channel-closed")
        /// The broker nacked a published message.
        public static let publishNacked = Code("publish-nacked")
        /// A mandatory message could not be routed to any queue (basic.return).
        public static let unroutable = Code("unroutable")
        /// The broker cancelled a consumer (for example, its queue was deleted).
        public static let consumerCancelled = Code("consumer-cancelled")
        /// The connection was closed by this client; the operation cannot complete.
        public static let closed = Code("closed")
        /// An operation did not complete in time.
        public static let timeout = Code("timeout")
        /// The message cannot be encoded in AMQP 0-9-1 within the connection's limits (a short
        /// string over 255 bytes, a content header over the frame, a body over the broker's
        /// `max_message_size`, headers nested too deep). Only that message fails; it is never
        /// retried as it is, and the connection is not affected.
        public static let unencodable = Code("message-unencodable")
        /// librabbitmq reported an unexpected protocol or library failure.
        public static let protocolError = Code("protocol-error")
    }

    public var code: Code
    public var message: String
    /// The broker's reply code (for example 404 NOT_FOUND, 406 PRECONDITION_FAILED, 320 CONNECTION_FORCED).
    public var replyCode: UInt16?
    /// The broker's reply text.
    public var replyText: String?

    public init(_ code: Code, _ message: String, replyCode: UInt16? = nil, replyText: String? = nil) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
        self.replyText = replyText
    }

    public var description: String {
        var s = "AMQPError(\(code)): \(message)"
        if let replyCode { s += " [\(replyCode)\(replyText.map { " \($0)" } ?? "")]" }
        return s
    }
}
