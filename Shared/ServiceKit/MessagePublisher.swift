import AMQPClient

/// Publishes one message and returns once the broker confirmed it (publisher confirms);
/// throws when it was nacked, returned (mandatory) or the connection failed.
///
/// `AMQPConnection` conforms; tests use in-memory fakes.
public protocol MessagePublisher: Sendable {
    func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool) async throws
}
