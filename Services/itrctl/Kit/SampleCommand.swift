import ArgumentParser
import Foundation
import ITRConfig
import ServiceKit

struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate a sample day of after-sales traffic, write it to a file or replay it through the services.",
        discussion: """
            The day (deterministic for a seed): a few thousand reports from every channel
            in Chinese and English, every service type, customers on every package
            (accounts from contracts.yaml), alarm storms, duplicates, a dozen malformed
            reports, recurring faults (problems, defects), new requirements, spare-part
            needs and expired contracts (opportunities), and service-desk actions that
            acknowledge, resolve and close tickets.

            Times: the day starts at --start (default: 24 hours ago), so no event lies
            in the future; every report carries its moment of that day (CloudEvent
            time, occurredAt). Tickets open when intake receives them; each
            service-desk action carries the instant it is sent on the deployment's
            clock (ITR_CLOCK_SPEED, ITR_CLOCK_EPOCH, ITR_CLOCK_START, as the services
            read them), which the router records (see README, "The sample day").

            A replay in which the services refused a report or an action the day
            meant to be accepted (HTTP 4xx/5xx, itr.report.rejected,
            itr.ticket.action-rejected), or in which actions found no ticket, says
            which and why and exits with status 3.

              itrctl sample --out day.jsonl               the messages, one JSON per line
              itrctl sample --replay --token $TOKEN       send them (AMQP + intake HTTP)
              itrctl sample --replay --summary            ... then wait and summarise
              itrctl sample --composition --json         what the generator put in

            --replay publishes reports from phone, e-mail, field engineers and
            monitoring to itr.ingress, and POSTs portal and partner-API reports to
            intake in batches (bearer token: --token or $ITR_API_TOKEN, allowed for
            //portal.example.com and //api.partner.example.com). It then waits for
            itr.ticket.opened of each ticket and sends the service-desk actions to
            itr.ingress (ticket.<action>).
            """)

    @Option(help: "Seed of the generator: the same seed gives the same day.") var seed: UInt64 = 7
    @Option(help: "Number of report messages (alarms, duplicates and malformed included).") var reports = 3000
    @Option(help: "Start of the sample day, RFC 3339 (default: 24 hours ago, to the minute).") var start: String?
    @Option(help: "Configuration directory with contracts.yaml and catalogue.yaml (default: $CONFIG_DIR or deploy/config).")
    var configDir: String?
    @Option(help: "Write the messages as JSON lines to this file.") var out: String?
    @Flag(help: "Send the day through the running services.") var replay = false
    @Flag(help: "Print what the generator put in (counts by role, channel, language, ...).") var composition = false
    @Option(help: "Bearer token for intake's HTTP API (default: $ITR_API_TOKEN).") var token: String?
    @Option(
        name: .customLong("desk-amqp-url"),
        help: "The service desk's broker user, who sends the actions (default: $ITR_DESK_AMQP_URL, else the --amqp-url user; itr-router takes actions only from a broker user of access.yaml).")
    var deskAMQPURL: String?
    @Option(help: "Replay speed in sample seconds per second (0 = as fast as the broker confirms; 1440 = one day in a minute).")
    var speed: Double = 0
    @Option(help: "Seconds to wait for the tickets the service-desk actions need.") var ticketTimeout = 180
    @Flag(help: "After the replay, wait for the services to catch up and print the summary (as itrctl summary, plus the events seen on itr.events).")
    var summary = false
    @Option(help: "With --summary: seconds to wait at most for the services' queues to drain.") var drainTimeout = 300
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !replay, out == nil, !composition {
            throw ValidationError("say what to do: --out FILE, --replay and/or --composition")
        }
        if reports < 200 { throw ValidationError("--reports must be at least 200") }
    }

    func run() async throws {
        let directory = configDir ?? ProcessInfo.processInfo.environment["CONFIG_DIR"] ?? "deploy/config"
        let bundle: ConfigBundle
        do {
            bundle = try ConfigBundle.load(directory: directory)
        } catch {
            throw ValidationError("cannot load \(directory): \(error)")
        }
        let startDate: Date
        if let start {
            guard let date = ISO8601DateFormatter().date(from: start) else { throw ValidationError("--start is not RFC 3339: \(start)") }
            startDate = date
        } else {
            startDate = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 - 86_400) / 60).rounded(.down) * 60)
        }
        let day = SampleDay(parameters: .init(seed: seed, reports: reports, start: startDate), config: bundle)
        if let out {
            try day.jsonLines().write(toFile: out, atomically: true, encoding: .utf8)
            if !output.json { print("wrote \(day.items.count) messages to \(out)") }
        }
        var report = SampleRunReport(composition: day.composition, replay: nil)
        if composition, !output.json {
            print(Console.json(day.composition))
        }
        if replay {
            let json = output.json
            let clock: any ServiceClock
            do {
                clock = try ServiceSettings(product: "itrctl", arguments: ["itrctl"]).clock
            } catch {
                throw ValidationError("the deployment's clock: \(error)")
            }
            let replayer = SampleReplayer(
                options: .init(
                    amqpURL: connection.resolvedAMQPURL, intakeURL: connection.endpoints.intake,
                    token: token ?? ProcessInfo.processInfo.environment["ITR_API_TOKEN"], speed: speed,
                    ticketTimeout: .seconds(ticketTimeout), drainTimeout: summary ? .seconds(drainTimeout) : .zero,
                    clock: clock, deskAMQPURL: deskAMQPURL ?? ProcessInfo.processInfo.environment["ITR_DESK_AMQP_URL"]),
                progress: { if !json { print("  \($0)") } })
            if !json { print("replaying sample day (seed \(seed), \(day.composition.reportMessages) reports, \(day.items.count - day.composition.reportMessages) actions)") }
            let result = try await replayer.replay(day)
            report.replay = result
            if !json {
                print("replayed in \(String(format: "%.1f", result.seconds)) s: \(result.amqpPublished) AMQP messages, \(result.httpPosted) events over HTTP \(result.httpStatuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")), \(result.actionsPublished) actions")
            }
        }
        if replay, summary {
            let amqp = try? await connection.connect()
            var collected = await SummaryReport.collect(endpoints: connection.endpoints, connection: amqp)
            await amqp?.close()
            collected.merge(observed: report.replay?.observedEvents ?? [:])
            report.summary = collected
            if !output.json {
                print("")
                print(collected.text)
            }
        }
        if output.json { Console.printJSON(report) }
        if let replayed = report.replay, !replayed.isHealthy {
            let lines = ["", "REPLAY NOT CLEAN: the services refused what the sample day meant to be accepted:"]
                + replayed.problems.map { "  - \($0)" }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            throw ExitCode(3)
        }
    }
}

struct SampleRunReport: Codable {
    var composition: SampleDay.Composition
    var replay: SampleReplayer.Result?
    var summary: SummaryReport?
}
