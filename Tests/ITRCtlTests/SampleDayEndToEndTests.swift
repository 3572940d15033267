import AMQPClient
import Foundation
import ITRConfig
import ITRCtlKit
import ITREvents
import ITRTestSupport
import Logging
import ServiceKit
import Testing

/// The sample day for a fixed seed, generated and then run end to end through the four built
/// services on a virtual host of their own, with the expected counts asserted exactly.
@Suite(.serialized)
struct SampleDayEndToEndTests {
    static let start = ISO8601DateFormatter().date(from: "2026-11-22T00:00:00Z")!
    static var config: ConfigBundle {
        get throws { try ConfigBundle.load(directory: TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path) }
    }

    @Test func theSameSeedGivesTheSameDay() throws {
        let config = try Self.config
        let a = SampleDay(parameters: .init(seed: 7, reports: 600, start: Self.start), config: config)
        let b = SampleDay(parameters: .init(seed: 7, reports: 600, start: Self.start), config: config)
        let c = SampleDay(parameters: .init(seed: 8, reports: 600, start: Self.start), config: config)
        #expect(a.jsonLines() == b.jsonLines())
        #expect(a.jsonLines() != c.jsonLines())
        #expect(a.composition.reportMessages == 600)
    }

    @Test func theDayHasEverythingTheIssueAsksFor() throws {
        let day = SampleDay(parameters: .init(seed: 7, reports: 3000, start: Self.start), config: try Self.config)
        let c = day.composition
        #expect(c.reportMessages == 3000)
        #expect(Set(c.byChannel.keys).isSuperset(of: Set(["phone", "portal", "email", "monitoring", "field", "api"])))
        #expect((c.byLanguage["zh"] ?? 0) > 500 && (c.byLanguage["en"] ?? 0) > 500)
        #expect(Set(c.byIntendedServiceType.keys) == Set(ITREventsServiceTypes.all))
        #expect(Set(c.packages) == ["bronze", "gold", "gold-eu", "silver", "silver-eu"])
        #expect(c.storms >= 3 && (c.byRole["storm-alarm"] ?? 0) > 100)
        #expect((c.byRole["duplicate"] ?? 0) == 60)
        #expect((c.byRole["malformed"] ?? 0) == 12)
        #expect(c.recurringFaults.count == 5 && c.recurringFaults.values.allSatisfy { $0 >= 4 })
        #expect(c.expiredContractReports > 0 && c.outOfWarrantyParts > 0 && (c.byIntendedServiceType["new-requirement"] ?? 0) > 0)
        for action in ["acknowledge", "resolve", "confirm", "pause", "resume", "escalate", "reopen", "note"] {
            #expect((c.actions[action] ?? 0) > 0, "no \(action) action")
        }
        // every event lies in the day, none in the future of its end
        #expect(day.items.allSatisfy { $0.offset >= 0 && $0.offset < 86_400 })
        #expect(day.items.filter { $0.route == .http }.count > 500)
        // Chinese text travels as written
        #expect(day.jsonLines().contains("电源模块故障，指示灯红色"))
    }

    /// The four built services on a virtual host of their own, all on one clock.
    struct Fleet {
        var url: String
        var deskURL: String
        var endpoints: ServiceEndpoints
        var processes: [ServiceProcess]
        var data: URL
        var token: String

        static func start(name: String, clock: [String: String]) async throws -> Fleet {
            try TestEnvironment.requireServiceBinaries()
            // Every service as its own broker user; the replay's actions as itr-desk.
            let (url, userURL) = try await TestEnvironment.makeVhostWithUsers(name)
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
            let token = "e2e-token-\(UUID().uuidString)"
            let base = TestEnvironment.freePorts(TestEnvironment.serviceProducts.count)
            var processes: [ServiceProcess] = []
            for (i, product) in TestEnvironment.serviceProducts.enumerated() {
                let directory = data.appendingPathComponent(product).path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                var env = [
                    "AMQP_URL": try await userURL(product), "HTTP_PORT": "\(base + i)", "DATA_DIR": directory, "LOG_LEVEL": "warning",
                    "CONFIG_DIR": TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path,
                ].merging(clock) { $1 }
                if product == "intake" {
                    env["API_TOKENS"] = "\(TokenAuthenticator.hash(token: token)) \(SampleDay.httpSources.joined(separator: ","))"
                }
                let process = try await ServiceProcess.start(product: product, environment: env)
                processes.append(process)
                try await process.waitReady(port: base + i)
            }
            let endpoints = ServiceEndpoints(
                intake: "http://127.0.0.1:\(base)", router: "http://127.0.0.1:\(base + 1)", ltc: "http://127.0.0.1:\(base + 2)",
                ipd: "http://127.0.0.1:\(base + 3)")
            return Fleet(
                url: url, deskURL: try await userURL("itr-desk"), endpoints: endpoints, processes: processes, data: data, token: token)
        }

        /// Replays `day` while watching `itr.events`, then collects the summary (with queue depths),
        /// checks every published figure against the events (``checkConsistency``) and returns.
        func replay(_ day: SampleDay, clock: any ServiceClock, quiet: Bool) async throws -> (SampleReplayer.Result, SummaryReport, [String: Double]) {
            let observer = try await EventObserver.start(url: url)
            defer { Task { await observer.close() } }
            let replayer = SampleReplayer(
                options: .init(
                    amqpURL: url, intakeURL: endpoints.intake, token: token, ticketTimeout: .seconds(120),
                    drainTimeout: .seconds(240), clock: clock, deskAMQPURL: deskURL))
            let result = try await replayer.replay(day)
            let connection = try await AMQPConnection.connect(try AMQPConfiguration(url: url), logger: Logger(label: "e2e"))
            var summary = await SummaryReport.collect(endpoints: endpoints, connection: connection, fetcher: HTTPFetcher(timeout: 10, token: TestTokens.ops))
            await connection.close()
            // The replay's own view of itr.events (no service consumes closed or escalated).
            summary.merge(observed: result.observedEvents)
            let metrics = try await HTTPFetcher(timeout: 10, token: TestTokens.ops).get("\(endpoints.router)/metrics").text
            var serviceLevels: [String: Double] = [:]
            let text = PrometheusText(metrics)
            for clock in ["response", "resolution"] {
                for outcome in ["met", "breached"] {
                    serviceLevels["sla \(clock) \(outcome)"] = text.sum("itr_router_sla_decided_total", ["clock": clock, "outcome": outcome])
                }
            }
            for outcome in ["on-time", "breached"] {
                serviceLevels["ola \(outcome)"] = text.sum("itr_router_ola_decided_total", ["outcome": outcome])
            }
            try await checkConsistency(summary: summary, replayed: result, observer: observer, quiet: quiet)
            #expect(observer.errors.isEmpty, "not CloudEvents on itr.events: \(observer.errors.prefix(3))")
            return (result, summary, serviceLevels)
        }

        /// Every figure of the summary, of `GET /v1/service-levels` and of the router's service-level
        /// counters, recomputed from the events observed on `itr.events` (``EventLedger``) and
        /// compared exactly. The router's figures are compared at the cut each one names
        /// (`eventsEmitted`), so this holds on an accelerated clock whose breaches never stop;
        /// `quiet` (nothing fires any more, wall speed): the summary's event counts too.
        func checkConsistency(
            summary: SummaryReport, replayed: SampleReplayer.Result, observer: EventObserver, quiet: Bool
        ) async throws {
            let fetcher = HTTPFetcher(timeout: 10, token: TestTokens.ops)
            let reportURL = "\(endpoints.router)/v1/service-levels?groupBy=serviceType,priority"
            // The API and the counters from one instant: two reports naming the same cut around a
            // scrape (the second a little later: the counters count inside a transaction, which
            // would have committed by then and moved the cut).
            var cut: (report: JSONValue, metrics: PrometheusText)?
            for _ in 0..<300 {
                let before = try await fetcher.getJSON(JSONValue.self, reportURL)
                let metrics = PrometheusText(try await fetcher.get("\(endpoints.router)/metrics").text)
                try await Task.sleep(for: .milliseconds(50))
                let after = try await fetcher.getJSON(JSONValue.self, reportURL)
                if let n = before["eventsEmitted"]?.int, n == after["eventsEmitted"]?.int {
                    cut = (after, metrics)
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let (report, metrics) = try #require(cut, "the router never stood still between two reads")
            let emitted = try #require(report["eventsEmitted"]?.int)
            let summaryCut = try #require(summary.serviceLevels.eventsEmitted, "the summary names its cut")
            let needed = max(emitted, summaryCut)
            _ = try await observer.await("\(needed) router events on itr.events", timeout: .seconds(120)) {
                observer.events.filter { $0.source == "//itr/itr-router" }.count >= needed ? true : nil
            }
            let events = observer.events
            let ledger = EventLedger(events, routerCut: emitted)

            // GET /v1/service-levels against the events.
            var tickets: [String: Int] = [:]
            var response: [String: EventLedger.Counts] = [:]
            var resolution: [String: EventLedger.Counts] = [:]
            var backlog = 0
            for group in report["groups"]?.array ?? [] {
                let key = "\(group["key"]?["serviceType"]?.string ?? "?")|\(group["key"]?["priority"]?.string ?? "?")"
                tickets[key] = group["tickets"]?.int
                backlog += group["backlog"]?.int ?? 0
                func counts(_ rate: String, _ decided: String) -> EventLedger.Counts? {
                    let n = group[decided]?.int ?? 0
                    guard n > 0 else { return nil }
                    return .init(decided: n, met: Int(((group[rate]?.double ?? 0) * Double(n)).rounded()))
                }
                response[key] = counts("slaResponseAttainment", "slaResponseDecided")
                resolution[key] = counts("slaResolutionAttainment", "slaResolutionDecided")
            }
            var ola: [String: EventLedger.Counts] = [:]
            for group in report["ola"]?.array ?? [] {
                guard let tier = group["tier"]?.string else { continue }
                ola[tier, default: .init()].decided += group["decided"]?.int ?? 0
                ola[tier, default: .init()].met += group["onTime"]?.int ?? 0
            }
            #expect(tickets == ledger.tickets, "tickets per service type and priority")
            #expect(backlog == ledger.backlog, "backlog")
            #expect(response == ledger.response, "SLA response attainment")
            #expect(resolution == ledger.resolution, "SLA resolution attainment")
            #expect(ola.filter { $0.value.decided > 0 } == ledger.ola, "OLA on time per tier")
            #expect(ledger.olaDecided - ledger.olaOnTime == ledger.events[EventType.olaBreached.rawValue, default: 0],
                "every breached stint is announced once")

            // The router's counters against the events (same cut).
            var slaCounter: [String: Int] = [:]
            for clock in ["response", "resolution"] {
                for outcome in ["met", "breached"] {
                    let n = Int(metrics.sum("itr_router_sla_decided_total", ["clock": clock, "outcome": outcome]))
                    if n > 0 { slaCounter["\(clock) \(outcome)"] = n }
                }
            }
            var olaCounter: [String: Int] = [:]
            for (tier, n) in metrics.sum("itr_router_ola_decided_total", by: "tier", ["outcome": "on-time"]) where n > 0 { olaCounter["\(tier) on-time"] = Int(n) }
            for (tier, n) in metrics.sum("itr_router_ola_decided_total", by: "tier", ["outcome": "breached"]) where n > 0 { olaCounter["\(tier) breached"] = Int(n) }
            #expect(slaCounter == ledger.slaCounter, "itr_router_sla_decided_total")
            #expect(olaCounter == ledger.olaCounter, "itr_router_ola_decided_total")

            // The summary against the events at its own cut.
            let atSummary = EventLedger(events, routerCut: summaryCut)
            let levels = summary.serviceLevels
            #expect(levels.tickets == atSummary.totalTickets)
            #expect(levels.backlog == atSummary.backlog)
            #expect(levels.byServiceType == atSummary.tickets.reduce(into: [:]) { $0[String($1.key.split(separator: "|")[0]), default: 0] += $1.value })
            #expect(levels.byPriority == atSummary.tickets.reduce(into: [:]) { $0[String($1.key.split(separator: "|")[1]), default: 0] += $1.value })
            let summaryResponse = atSummary.sum(atSummary.response), summaryResolution = atSummary.sum(atSummary.resolution)
            #expect(levels.slaResponseDecided == summaryResponse.decided)
            #expect(levels.slaResolutionDecided == summaryResolution.decided)
            if summaryResponse.decided > 0 {
                #expect(abs((levels.slaResponseAttainment ?? -1) - Double(summaryResponse.met) / Double(summaryResponse.decided)) < 1e-9)
            }
            if summaryResolution.decided > 0 {
                #expect(abs((levels.slaResolutionAttainment ?? -1) - Double(summaryResolution.met) / Double(summaryResolution.decided)) < 1e-9)
            }
            #expect(levels.olaDecided == atSummary.olaDecided && levels.olaOnTime == atSummary.olaOnTime)
            // (tiers with stints but none decided yet: in the summary with 0, not in the ledger)
            let decidedTiers = Set(levels.olaDecidedByTier.filter { $0.value > 0 }.keys)
            #expect(levels.olaDecidedByTier.filter { decidedTiers.contains($0.key) } == atSummary.ola.mapValues(\.decided))
            #expect(levels.olaOnTimeByTier.filter { decidedTiers.contains($0.key) } == atSummary.ola.mapValues(\.met))
            if atSummary.olaDecided > 0 {
                #expect(levels.olaOnTimeRate == Double(atSummary.olaOnTime) / Double(atSummary.olaDecided))
            }
            // Problems, opportunities and defects stop changing once the replay has drained.
            let final = EventLedger(events, routerCut: Int.max)
            #expect(summary.flow.problemsOpened == final.events[EventType.problemOpened.rawValue, default: 0])
            #expect(summary.opportunities.count == final.opportunities)
            #expect(summary.defects.total == final.defects)
            // The summary's event counts are the replay's own view of itr.events: exact when the router
            // emitted nothing after it (always at wall speed; at 600x when its clocks had gone quiet).
            let routerTypes = Set(final.events.keys).subtracting([
                EventType.ticketOpened.rawValue, EventType.ticketCorrelated.rawValue, EventType.reportRejected.rawValue,
            ]).filter { !$0.hasPrefix("itr.opportunity.") && !$0.hasPrefix("itr.defect.") }
            let replayedRouterEvents = replayed.observedEvents.filter { routerTypes.contains($0.key) }.values.reduce(0, +)
            let stillSince = replayedRouterEvents == emitted && summaryCut == emitted
            print("consistency: router events seen by the replay \(replayedRouterEvents), still since: \(stillSince)")
            if quiet || stillSince {
                for (figure, type) in [
                    (summary.flow.escalations, EventType.ticketEscalated), (summary.flow.resolved, .ticketResolved),
                    (summary.flow.reopened, .ticketReopened), (summary.flow.knownErrors, .problemKnownError),
                    (summary.flow.events["itr.sla.breached", default: 0], .slaBreached),
                    (summary.flow.events["itr.ola.breached", default: 0], .olaBreached),
                ] {
                    #expect(figure == final.events[type.rawValue, default: 0], "\(type.rawValue)")
                }
            }
            print("consistency: API cut \(emitted), summary cut \(summaryCut); tickets \(ledger.totalTickets), OLA \(ledger.olaOnTime)/\(ledger.olaDecided) on time, counters \(ledger.slaCounter) \(ledger.olaCounter)")
        }

        /// Starts a fleet, replays `day` through it and stops it, whatever happened.
        static func replay(
            _ day: SampleDay, name: String, clock: [String: String], quiet: Bool
        ) async throws -> (SampleReplayer.Result, SummaryReport, [String: Double]) {
            let deploymentClock = try ServiceSettings(product: "itrctl", environment: clock, arguments: ["itrctl"]).clock
            let fleet = try await start(name: name, clock: clock)
            do {
                let outcome = try await fleet.replay(day, clock: deploymentClock, quiet: quiet)
                await fleet.stop()
                return outcome
            } catch {
                await fleet.stop()
                throw error
            }
        }

        func stop() async {
            for p in processes { _ = await p.terminate() }
            await TestEnvironment.deleteVhost(url: url)
            try? FileManager.default.removeItem(at: data)
        }
    }

    /// The clock every service of a reproducible run reads: wall speed, pinned to the morning
    /// after the sample day (contract validity, and so renewal opportunities, depend on "today").
    static func pinnedClock(speed: Int = 1, start: String = "2026-11-23T01:00:00Z") -> [String: String] {
        ["ITR_CLOCK_EPOCH": "\(Int(Date().timeIntervalSince1970))", "ITR_CLOCK_START": start, "ITR_CLOCK_SPEED": "\(speed)"]
    }

    @Test(.enabled(if: TestEnvironment.serviceTestsEnabled), .timeLimit(.minutes(10)))
    func replayedThroughTheFourServices() async throws {
        let day = SampleDay(parameters: .init(seed: 7, reports: 600, start: Self.start), config: try Self.config)
        let (result, summary, serviceLevels) = try await Fleet.replay(day, name: "itrctl-e2e", clock: Self.pinnedClock(), quiet: true)

        let c = day.composition
        #expect(result.drained == true)
        #expect(result.actionsWithoutTicket == 0)
        #expect(summary.errors.isEmpty, "\(summary.errors)")
        #expect(Self.deadLettered(summary) == 0, "\(summary.queues.filter { ($0.messages ?? 0) > 0 })")
        // The dashboard's counters, the API and the summary agree with the events: checked
        // figure by figure, exactly, in Fleet.checkConsistency.
        #expect(serviceLevels["sla resolution met", default: 0] > 0)
        // What the generator put in, exactly.
        #expect(summary.intake.ticketsOpened == c.ticketsExpected)
        #expect(summary.intake.duplicates == c.byRole["duplicate"])
        // storm alarms are folded into their storm's ticket; a clearing closes its alarm's fold
        #expect(summary.intake.correlated >= (c.byRole["storm-alarm"] ?? 0))
        #expect(summary.intake.correlated <= (c.byRole["storm-alarm"] ?? 0) + (c.byRole["cleared-alarm"] ?? 0))
        #expect(summary.intake.reportsReceived >= c.reportMessages)
        #expect(summary.intake.rejected == 12)
        #expect(summary.serviceLevels.tickets == c.ticketsExpected)
        #expect(summary.flow.resolved == c.actions["resolve"])
        #expect(summary.flow.reopened == c.actions["reopen"])
        #expect(summary.flow.escalations == c.actions["escalate"])
        // What the services made of it, for this seed (a change here is a change of behaviour: look at it).
        print("e2e sample day: \(Console.json(summary.flow)) \(Console.json(summary.opportunities)) defects \(summary.defects.total)")
        #expect(summary.intake.ticketsOpened == 451)
        #expect(summary.intake.correlated == Self.expected.correlated)
        #expect(summary.flow.closed == Self.expected.closed)
        #expect(summary.flow.problemsOpened == Self.expected.problems)
        // Hinted and alarm reports by rule, the rest by the model; every ticket once.
        let decided = summary.serviceLevels.classifiedBy
        #expect((decided["rule"] ?? 0) > 0 && (decided["model"] ?? 0) > 0, "\(decided)")
        #expect(decided.values.reduce(0, +) == summary.serviceLevels.tickets, "\(decided)")
        #expect(summary.defects.total == Self.expected.defects)
        #expect(summary.opportunities.count == Self.expected.opportunities)
    }

    /// The first run's failure (issue 13): intake kept one token, the replay sent another, every
    /// HTTP report was refused with 401 and the replay still exited 0. Now `itrctl sample
    /// --replay` says which reports and actions were refused and why, and exits 3.
    @Test(.enabled(if: TestEnvironment.serviceTestsEnabled), .timeLimit(.minutes(10)))
    func aReplayWhoseReportsAreRefusedSaysSoAndFails() async throws {
        let fleet = try await Fleet.start(name: "itrctl-e2e-refused", clock: Self.pinnedClock())
        do {
            let itrctl = TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itrctl").path
            let (status, output) = try await runCommand(
                [
                    itrctl, "sample", "--replay", "--seed", "3", "--reports", "200", "--start", "2026-11-22T00:00:00Z",
                    "--amqp-url", fleet.url, "--intake-url", fleet.endpoints.intake, "--router-url", fleet.endpoints.router,
                    "--ltc-url", fleet.endpoints.ltc, "--ipd-url", fleet.endpoints.ipd, "--ticket-timeout", "20",
                ],
                environment: ["ITR_API_TOKEN": "not-the-token-intake-has", "CONFIG_DIR": TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path])
            #expect(status == 3, "\(output.suffix(3000))")
            #expect(output.contains("REPLAY NOT CLEAN"))
            #expect(output.contains("refused over HTTP: HTTP 401"), "\(output.suffix(3000))")
            #expect(output.contains("service-desk actions not sent"), "\(output.suffix(3000))")
            await fleet.stop()
        } catch {
            await fleet.stop()
            throw error
        }
    }

    /// Seed 7, 600 reports, day 2026-11-22, every service's clock pinned to 2026-11-23 01:00 UTC
    /// (renewal opportunities depend on "today" against contracts.yaml's validity).
    /// Problems: 40 since the service type is decided by the model. The keyword rules took the
    /// fifth recurring fault ("Uplink flapping after commissioning", an installation fault) for a
    /// how-to question (no keyword matched: the catch-all), so it was no incident and opened no
    /// problem (39); the model reads it as a fault, and all five recurring faults open problems.
    static let expected = (correlated: 107, closed: 113, problems: 40, defects: 9, opportunities: 46)

    /// 01:00 UTC (09:00 in China) of the first Monday at least a day from now, RFC 3339.
    static func nextMondayMorning() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var day = calendar.startOfDay(for: Date().addingTimeInterval(86_400 * 2))
        while calendar.component(.weekday, from: day) != 2 { day = day.addingTimeInterval(86_400) }
        return ISO8601DateFormatter().string(from: day.addingTimeInterval(3_600))
    }

    /// Messages in the services' dead-letter queues (not the 12 malformed reports in `itr.rejected`).
    static func deadLettered(_ summary: SummaryReport) -> Int {
        summary.queues.filter { $0.kind == .deadLetter }.reduce(0) { $0 + ($1.messages ?? 0) }
    }

    /// The sample day on an accelerated clock (what `run.sh` does): every service runs the same
    /// clock, so breaches, escalations and OLA overruns happen during the replay, and what the
    /// router emits on that clock is accepted downstream (nothing dead-lettered as "in the future").
    @Test(.enabled(if: TestEnvironment.serviceTestsEnabled), .timeLimit(.minutes(10)))
    func replayedOnAnAcceleratedClock() async throws {
        // 600x from a Monday 09:00 in China (business hours, so clocks run) one to eight days
        // AHEAD of wall time: a service validating on wall time instead of the deployment's
        // clock would dead-letter what the router stamps.
        let day = SampleDay(parameters: .init(seed: 11, reports: 300, start: Self.start), config: try Self.config)
        let (result, summary, serviceLevels) = try await Fleet.replay(
            day, name: "itrctl-e2e-fast", clock: Self.pinnedClock(speed: 600, start: Self.nextMondayMorning()), quiet: false)
        print("e2e accelerated: \(Console.json(summary.flow)) service levels \(serviceLevels)")
        #expect(result.drained == true)
        #expect(summary.errors.isEmpty, "\(summary.errors)")
        #expect(Self.deadLettered(summary) == 0, "\(summary.queues.filter { ($0.messages ?? 0) > 0 })")
        #expect(summary.intake.rejected == 12, "only the malformed reports: \(summary.intake.rejectedByReason)")
        #expect(summary.flow.events["itr.sla.breached", default: 0] > 0, "breaches happen during the replay")
        #expect(summary.flow.events["itr.ola.breached", default: 0] > 0, "OLA overruns happen during the replay")
        #expect(summary.flow.escalations > day.composition.actions["escalate", default: 0], "automatic escalations on top of the desk's")
        #expect(serviceLevels["sla resolution breached", default: 0] + serviceLevels["sla response breached", default: 0] > 0)
        #expect(serviceLevels["ola breached", default: 0] > 0, "the counters count OLA breaches")
        let attainment = try #require(summary.serviceLevels.slaResponseAttainment)
        #expect(attainment < 1, "the summary shows the breaches")
        // A tier stint that ended by escalation when its budget ran out is breached, not on time:
        // the OLA on-time rate is below 100 % next to OLA breaches (it read 100 % before issue 13).
        let olaRate = try #require(summary.serviceLevels.olaOnTimeRate)
        #expect(olaRate < 1, "OLA on-time rate \(olaRate) next to \(summary.flow.events["itr.ola.breached", default: 0]) OLA breaches")
        #expect(summary.serviceLevels.olaDecided - summary.serviceLevels.olaOnTime > 0)
    }

}

enum ITREventsServiceTypes {
    static let all = ["hardware-fault", "preventive-maintenance", "software-fault", "software-operation", "non-technical", "new-requirement", "complaint"]
}
