import AMQPClient
import ServiceKit

/// Every queue of the ITR topology and what it holds.
public struct QueueReport: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case service, deadLetter = "dead-letter", rejected, feed
        /// `itr.unrouted`: a stream (kept by retention, never drained) of what no binding took.
        case unrouted
    }

    public var name: String
    public var kind: Kind
    /// Ready messages (nil when the queue could not be inspected).
    public var messages: Int?
    public var consumers: Int?
    public var error: String?
}

public enum QueueInventory {
    /// Queue names in the order of `ITRTopology.all`.
    public static var queueNames: [String] { ITRTopology.all.queues.map(\.name) }

    /// The dead-letter queues (`<queue>.dlq`) and `itr.rejected`.
    public static var deadLetterQueueNames: [String] {
        queueNames.filter { kind(of: $0) == .deadLetter || kind(of: $0) == .rejected }
    }

    public static func kind(of name: String) -> QueueReport.Kind {
        if name == ITRNames.rejectedQueue { return .rejected }
        if name == ITRNames.unroutedQueue { return .unrouted }
        if name.hasSuffix(".dlq") { return .deadLetter }
        if name.hasPrefix("feed.") { return .feed }
        return .service
    }

    /// Inspects `names` (passive declare each); a missing queue is reported, not thrown.
    public static func inspect(_ names: [String], on connection: AMQPConnection) async -> [QueueReport] {
        var reports: [QueueReport] = []
        for name in names {
            do {
                let status = try await connection.inspectQueue(name)
                reports.append(
                    QueueReport(
                        name: name, kind: kind(of: name), messages: Int(status.messageCount),
                        consumers: Int(status.consumerCount)))
            } catch {
                let text = "\(error)"
                let reason = text.contains("404") ? "missing (not declared: no service has started on this vhost)" : text
                reports.append(QueueReport(name: name, kind: kind(of: name), error: reason))
            }
        }
        return reports
    }
}
