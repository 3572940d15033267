import AMQPClient
import Foundation
import ServiceKit

/// What `itrctl status` reports: each service's health and readiness, each queue's depth.
public struct StatusReport: Codable, Sendable {
    public struct Service: Codable, Sendable, Hashable {
        public var product: String
        public var url: String
        /// HTTP status of GET /healthz (nil: no answer).
        public var healthz: Int?
        /// HTTP status of GET /readyz (nil: no answer).
        public var readyz: Int?
        public var error: String?
        /// Outbox rows the service parked (GET /v1/outbox/parked; nil: no answer).
        public var parked: Int?
        public var healthy: Bool { healthz == 200 }
        public var ready: Bool { readyz == 200 }
    }

    public var broker: String
    public var brokerError: String?
    public var services: [Service]
    public var queues: [QueueReport]

    /// Messages waiting in the dead-letter queues and `itr.rejected`.
    public var deadLetters: Int {
        queues.filter { $0.kind == .deadLetter || $0.kind == .rejected }.reduce(0) { $0 + ($1.messages ?? 0) }
    }

    /// Outbox rows parked in all services: messages that could not be published and wait.
    public var parkedRows: Int { services.reduce(0) { $0 + ($1.parked ?? 0) } }

    /// Everything ready, and the broker reachable.
    public var ok: Bool { brokerError == nil && services.allSatisfy(\.ready) }

    public static func collect(
        endpoints: ServiceEndpoints, amqp: () async throws -> AMQPConnection, brokerURL: String,
        fetcher: HTTPFetcher = HTTPFetcher(timeout: 2)
    ) async -> StatusReport {
        var services: [Service] = []
        for (product, url) in endpoints.all {
            var s = Service(product: product, url: url)
            do {
                s.healthz = try await fetcher.get("\(url)/healthz").status
                s.readyz = try await fetcher.get("\(url)/readyz").status
                s.parked = try? await fetcher.getJSON(ParkedRows.self, "\(url)/v1/outbox/parked").count
            } catch {
                s.error = "\(error)"
            }
            services.append(s)
        }
        var queues: [QueueReport] = []
        var brokerError: String?
        do {
            let connection = try await amqp()
            queues = await QueueInventory.inspect(QueueInventory.queueNames, on: connection)
            await connection.close()
        } catch {
            brokerError = "\(error)"
        }
        return StatusReport(broker: brokerURL, brokerError: brokerError, services: services, queues: queues)
    }

    public var text: String {
        var out = "Services\n"
        out += Console.table(
            ["service", "url", "healthz", "readyz", "parked", "note"],
            services.map {
                [
                    $0.product, $0.url, $0.healthz.map(String.init) ?? "-", $0.readyz.map(String.init) ?? "-",
                    $0.parked.map(String.init) ?? "-", $0.error ?? "",
                ]
            })
        out += "\n\nBroker \(broker)"
        if let brokerError {
            out += ": unreachable (\(brokerError))\n"
            return out
        }
        out += "\n"
        out += Console.table(
            ["queue", "kind", "messages", "consumers"],
            queues.map {
                [$0.name, $0.kind.rawValue, $0.messages.map(String.init) ?? "?", $0.consumers.map(String.init) ?? ($0.error ?? "?")]
            })
        out += "\n\nDead letters waiting: \(deadLetters)"
        if deadLetters > 0 { out += "  (see: itrctl dlq list)" }
        if let unrouted = queues.first(where: { $0.kind == .unrouted })?.messages, unrouted > 0 {
            out += "\nUnrouted messages kept: \(unrouted)  (the itr.unrouted stream: published where no binding took them)"
        }
        out += "\nOutbox rows parked: \(parkedRows)"
        if parkedRows > 0 { out += "  (see: itrctl dlq list; they stay in the service's outbox)" }
        return out
    }
}

/// The answer of a service's `GET /v1/outbox/parked`.
public struct ParkedRows: Codable, Sendable, Hashable {
    public var count: Int
    public var parked: [Outbox.Parked]
}
