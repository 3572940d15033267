import AMQPClient
import Foundation
import ITREvents
import ServiceKit

/// The handler of `intake.reports`: reports from `itr.ingress` (`report.#`) and known errors
/// from `itr.events` (`itr.problem.known-error`), a whole batch in one transaction.
///
/// Rejected deliveries come back `.invalid(reasonCode, message)`, so the consumer keeps the
/// original, unchanged, in `itr.rejected` with the reason headers; `itr.report.rejected` is
/// written with the batch.
public struct IntakeEventHandler: EventHandler {
    let intake: ReportIntake

    public init(intake: ReportIntake) {
        self.intake = intake
    }

    public func handle(_ batch: [InboundMessage]) async throws -> [Disposition] {
        let limits = intake.policy.limits
        let items = batch.map { Self.item(for: $0, maxBodyBytes: limits.maxBodyBytes) }
        let outcomes = try await intake.submit(items, via: .amqp, acceptsKnownErrors: true)
        return outcomes.map { outcome in
            switch outcome {
            case .opened, .correlated, .cleared, .indexed: .processed
            case .duplicate: .duplicate
            case .rejected(let rejection): .invalid(reasonCode: rejection.reasonCode, message: rejection.message)
            }
        }
    }

    /// Reads the envelope of a delivery (binary or structured mode).
    static func item(for inbound: InboundMessage, maxBodyBytes: Int) -> ReportIntake.Item {
        let message = inbound.message
        let routingKey = inbound.exchange == ITRNames.ingressExchange ? inbound.routingKey : nil
        if message.body.count > maxBodyBytes {
            // Read the headers only (binary mode) to say which event it was; never parse the body.
            let event = try? AMQPCloudEventCodec.decodeBinary(AMQPMessage(body: Data(), properties: message.properties))
            return ReportIntake.Item(
                event: event,
                rejection: ReportRejection(
                    ReportRejection.Reason.tooLarge, "body of \(message.body.count) bytes is larger than \(maxBodyBytes)",
                    problems: [ValidationProblem(path: "data", code: .tooLarge, message: "larger than \(maxBodyBytes) bytes")]),
                routingKey: routingKey)
        }
        do {
            return ReportIntake.Item(event: try AMQPCloudEventCodec.decode(message), routingKey: routingKey)
        } catch {
            return ReportIntake.Item(event: nil, rejection: ReportRejection(error), routingKey: routingKey)
        }
    }
}
