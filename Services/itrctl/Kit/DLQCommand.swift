import ArgumentParser
import Foundation

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay or purge dead letters (<queue>.dlq and itr.rejected).",
        discussion: """
            A service's queue dead-letters a message to <queue>.dlq when the message failed too often
            (delivery limit) or the service found it invalid; intake sends input it cannot accept to
            itr.rejected. Each message keeps its body and says why in its headers (x-itr-reason-code,
            x-itr-reason, x-death).

              itrctl dlq list                                 how many messages each holds
              itrctl dlq show itr-router.inbox.dlq --limit 5  the first five, with the reason
              itrctl dlq replay itr-router.inbox.dlq          re-publish them where they first went
              itrctl dlq purge itr.rejected --yes             delete them

            Messages that never reached the broker are parked in their service's outbox (the
            wire could not carry them, the broker refused them, no queue took them); `list`
            shows them too, and once the cause is mended:

              itrctl dlq retry-parked                         make them pending again
              itrctl dlq retry-parked --service intake --seq 12,13
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self, RetryParked.self])

    struct RetryParked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry-parked", abstract: "Make parked outbox rows pending again (POST /v1/outbox/parked/retry).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only this service (intake, itr-router, ltc-extractor, ipd-feedback).") var service: String?
        @Option(help: "Only these outbox sequence numbers, comma-separated (with --service).") var seq: String?

        func validate() throws {
            if seq != nil && service == nil { throw ValidationError("--seq needs --service: sequence numbers are per service") }
            if let service, !connection.endpoints.all.contains(where: { $0.product == service }) {
                throw ValidationError("unknown service '\(service)'")
            }
        }

        func run() async throws {
            let fetcher = HTTPFetcher(timeout: 5)
            var failed = false
            for (product, url) in connection.endpoints.all where service == nil || service == product {
                let query = seq.map { "?seq=\($0)" } ?? ""
                do {
                    let response = try await fetcher.post("\(url)/v1/outbox/parked/retry\(query)", headers: [:], body: Data())
                    print("\(product): HTTP \(response.status) \(response.text)")
                    if response.status != 200 { failed = true }
                } catch {
                    print("\(product): \(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Messages and consumers of every dead-letter queue.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let amqp = try await connection.connect()
            let reports = await QueueInventory.inspect(QueueInventory.deadLetterQueueNames, on: amqp)
            await amqp.close()
            // Messages that never reached the broker: the services' parked outbox rows.
            let fetcher = HTTPFetcher(timeout: 2)
            var parked: [(product: String, rows: ParkedRows?)] = []
            for (product, url) in connection.endpoints.all {
                parked.append((product, try? await fetcher.getJSON(ParkedRows.self, "\(url)/v1/outbox/parked")))
            }
            if output.json {
                struct Listing: Encodable {
                    var queues: [QueueReport]
                    var parked: [String: ParkedRows]
                }
                Console.printJSON(
                    Listing(
                        queues: reports,
                        parked: Dictionary(parked.compactMap { p in p.rows.map { (p.product, $0) } }, uniquingKeysWith: { a, _ in a })))
            } else {
                print(
                    Console.table(
                        ["queue", "messages", "consumers"],
                        reports.map { [$0.name, $0.messages.map(String.init) ?? ($0.error ?? "?"), $0.consumers.map(String.init) ?? "?"] }))
                let total = reports.reduce(0) { $0 + ($1.messages ?? 0) }
                print("\n\(total) dead letter\(total == 1 ? "" : "s") waiting.")
                let rows = parked.flatMap { p in (p.rows?.parked ?? []).map { (p.product, $0) } }
                print("\nOutbox rows parked (not published; they stay in the service's outbox):")
                if rows.isEmpty {
                    print("  none" + (parked.contains { $0.rows == nil } ? " (some services did not answer)" : ""))
                } else {
                    print(
                        Console.table(
                            ["service", "seq", "exchange", "routing key", "type", "reason"],
                            rows.map { product, row in
                                [product, String(row.seq), row.exchange, row.routingKey, row.type ?? "", String(row.reason.prefix(120))]
                            }))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print messages of a dead-letter queue with why they are there; they stay in the queue.")
        @Argument(help: "The queue, e.g. itr-router.inbox.dlq or itr.rejected.") var queue: String
        @Option(help: "How many messages at most.") var limit = 10
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try DeadLetterQueues.check(queue)
            let amqp = try await connection.connect()
            let letters = try await DeadLetterQueues.browse(queue, limit: limit, on: amqp)
            // Closing the connection returns the unacknowledged messages to the queue.
            await amqp.close()
            if output.json {
                Console.printJSON(letters)
                return
            }
            if letters.isEmpty { print("\(queue) is empty.") }
            for l in letters {
                print("#\(l.position) \(l.eventType ?? "?") id=\(l.eventID ?? l.messageID ?? "?") source=\(l.eventSource ?? "?")")
                if let code = l.reasonCode { print("   rejected by \(l.service ?? "?"): \(code): \(l.reason ?? "")") }
                if let why = l.deathReason { print("   dead-lettered from \(l.deathQueue ?? "?"): \(why) (\(l.deathCount ?? 1)x)") }
                print("   replays to: \(l.replayExchange.map { "\($0.isEmpty ? "(default)" : $0) \(l.replayRoutingKey ?? "")" } ?? "unknown")")
                print("   body (\(l.bodyBytes) bytes): \(l.body)")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-publish dead letters to the exchange and routing key they were first sent to, then remove them.",
            discussion: """
                The destination comes from the x-itr-original-exchange / x-itr-original-routing-key
                headers, else from the broker's x-death entry. Messages without either stay in the
                queue. Services de-duplicate by CloudEvent source + id, so a replayed event that was
                already handled has no second effect. Asks for confirmation unless --yes.
                """)
        @Argument(help: "The queue, e.g. itr-router.inbox.dlq.") var queue: String
        @Option(help: "Replay at most this many messages.") var limit: Int?
        @Flag(help: "Send <queue>.dlq messages only to <queue> (default exchange), not to every queue bound to the original exchange.")
        var direct = false
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try DeadLetterQueues.check(queue)
            let amqp = try await connection.connect()
            let waiting = Int(try await amqp.inspectQueue(queue).messageCount)
            let count = min(waiting, limit ?? .max)
            if count == 0 {
                await amqp.close()
                if output.json { Console.printJSON(DeadLetterQueues.ReplayResult(queue: queue, replayed: 0, skipped: 0, destinations: [:])) }
                else { print("\(queue) is empty: nothing to replay.") }
                return
            }
            if !yes, !Console.confirm("Replay \(count) message\(count == 1 ? "" : "s") from \(queue)?") {
                await amqp.close()
                print("Nothing replayed.")
                throw ExitCode(1)
            }
            let result = try await DeadLetterQueues.replay(queue, limit: count, direct: direct, on: amqp)
            await amqp.close()
            if output.json {
                Console.printJSON(result)
            } else {
                print("Replayed \(result.replayed) message\(result.replayed == 1 ? "" : "s") from \(queue).")
                for (destination, n) in result.destinations.sorted(by: { $0.key < $1.key }) { print("  \(n) → \(destination)") }
                if result.skipped > 0 { print("Left \(result.skipped) in the queue: no original destination in their headers.") }
                if let error = result.error { print("Stopped: \(error)") }
            }
            if result.error != nil { throw ExitCode(1) }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every message of a dead-letter queue. Asks for confirmation unless --yes.")
        @Argument(help: "The queue, e.g. itr.rejected.") var queue: String
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try DeadLetterQueues.check(queue)
            let amqp = try await connection.connect()
            let waiting = Int(try await amqp.inspectQueue(queue).messageCount)
            if !yes, !Console.confirm("Delete \(waiting) message\(waiting == 1 ? "" : "s") from \(queue)? This cannot be undone.") {
                await amqp.close()
                print("Nothing deleted.")
                throw ExitCode(1)
            }
            let purged = try await DeadLetterQueues.purge(queue, on: amqp)
            await amqp.close()
            if output.json {
                Console.printJSON(["queue": .string(queue), "purged": JSONValue.number(Double(purged))])
            } else {
                print("Purged \(purged) message\(purged == 1 ? "" : "s") from \(queue).")
            }
        }
    }
}
