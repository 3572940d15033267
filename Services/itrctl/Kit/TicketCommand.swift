import ArgumentParser
import Foundation
import ITREvents
import ServiceKit

struct TicketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket",
        abstract: "Look at tickets (asks itr-router) and correct their service type.",
        subcommands: [Show.self, Reclassify.self])

    struct Reclassify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a ticket's service type (itr.ticket.action reclassify on itr.ingress ticket.reclassify).",
            discussion: """
                The router re-grades the ticket, re-plans its clocks, re-assigns it when it is still \
                at its first tier, and keeps the report as a labelled example for \
                `itrctl classifier train`. Refusals (unknown ticket, closed, same type) come back as \
                itr.ticket.action-rejected; `itrctl ticket show ID` shows the outcome.
                """)
        @Argument(help: "The ticket id.") var id: String
        @Option(name: .customLong("to"), help: "The service type it really has (\(ServiceType.allCases.map(\.rawValue).joined(separator: ", "))).")
        var serviceType: String
        @Option(help: "Why (kept with the labelled example).") var reason: String
        @Option(help: "Who corrects it (the actor id).") var actor: String = ProcessInfo.processInfo.environment["USER"] ?? "itrctl"
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            guard let type = ServiceType(rawValue: serviceType) else {
                throw ValidationError("unknown service type \"\(serviceType)\" (use \(ServiceType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let action = ITREvents.TicketAction(
                ticketId: id, action: .reclassify, actor: ITREvents.Actor(id: actor, role: "service-desk"), reason: reason,
                serviceType: type)
            let problems = action.validate(limits: .default, now: Date())
            guard problems.isEmpty else { throw ValidationError(problems.map(\.description).joined(separator: "; ")) }
            let event = try CloudEvent(source: "//itrctl/desk", payload: action)
            let amqp = try await connection.connect()
            defer { Task { await amqp.close() } }
            try await amqp.publish(
                AMQPCloudEventCodec.encode(event).sent(by: amqp.configuration.user), exchange: ITRNames.ingressExchange,
                routingKey: EventRouting.ingressKey(for: TicketActionKind.reclassify), mandatory: true)
            await amqp.close()
            print("sent reclassify \(id) → \(type.rawValue) (event \(event.id)); itrctl ticket show \(id) shows the outcome")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A ticket's state, classification, SLA/OLA clocks and full history (GET /v1/tickets/ID).")
        @Argument(help: "The ticket id, as printed by intake's answer or in itr.ticket.* events.") var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let encoded = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id
            let response = try await HTTPFetcher().get("\(connection.endpoints.router)/v1/tickets/\(encoded)", headers: ["Accept": "application/json"])
            guard response.status == 200 else {
                if output.json { print(response.text) } else {
                    Console.warn(response.status == 404 ? "no ticket \(id)" : "itr-router answered HTTP \(response.status): \(response.text)")
                }
                throw ExitCode(1)
            }
            let ticket = try JSONDecoder().decode(JSONValue.self, from: response.body)
            if output.json { Console.printJSON(ticket) } else { print(TicketText.render(ticket)) }
        }
    }
}

/// A ticket document as text: the scalar fields first, then the history one line per entry.
enum TicketText {
    static func render(_ ticket: JSONValue) -> String {
        guard let object = ticket.object else { return Console.json(ticket) }
        var lines: [String] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where key != "history" {
            switch value {
            case .object, .array: lines.append("\(key): \(Console.json(value).replacingOccurrences(of: "\n", with: "\n  "))")
            default: lines.append("\(key): \(value.string ?? "null")")
            }
        }
        if let history = object["history"]?.array {
            lines.append("history (\(history.count)):")
            for entry in history {
                guard let e = entry.object else { continue }
                let at = e["at"]?.string ?? e["time"]?.string ?? ""
                let what = e["kind"]?.string ?? e["event"]?.string ?? e["type"]?.string ?? e["action"]?.string ?? ""
                let rest = e.filter { !["at", "time", "kind", "event", "type", "action"].contains($0.key) }
                    .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.string ?? Console.json($0.value))" }
                lines.append("  \(at)  \(what)  \(rest.joined(separator: " "))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
