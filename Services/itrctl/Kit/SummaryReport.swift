import AMQPClient
import Foundation

/// What `itrctl summary` prints after a run: computed from the services' HTTP endpoints and
/// `/metrics`, and the broker's queues.
public struct SummaryReport: Codable, Sendable {
    public struct Intake: Codable, Sendable {
        public var reportsReceived = 0
        public var receivedVia: [String: Int] = [:]
        public var ticketsOpened = 0
        public var duplicates = 0
        public var correlated = 0
        public var rejected = 0
        public var rejectedByReason: [String: Int] = [:]
    }

    public struct ServiceLevels: Codable, Sendable {
        public var tickets = 0
        public var backlog = 0
        public var byServiceType: [String: Int] = [:]
        /// How the service types were decided (`itr_router_classified_total`): rule, model, desk.
        public var classifiedBy: [String: Int] = [:]
        /// Model decisions below the triage threshold.
        public var needsTriage = 0
        public var byPriority: [String: Int] = [:]
        public var slaResponseAttainment: Double?
        public var slaResolutionAttainment: Double?
        public var olaOnTimeRate: Double?
        public var olaDecided = 0
        public var olaOnTime = 0
        public var slaResponseDecided = 0
        public var slaResolutionDecided = 0
        /// Decided and on-time OLA stints per tier.
        public var olaDecidedByTier: [String: Int] = [:]
        public var olaOnTimeByTier: [String: Int] = [:]
        /// How many of the router's events these figures reflect (`GET /v1/service-levels`).
        public var eventsEmitted: Int?
    }

    public struct Flow: Codable, Sendable {
        /// CloudEvent type → events consumed downstream (ltc-extractor sees every itr.ticket.* and itr.problem.*).
        public var events: [String: Int] = [:]
        public var escalations = 0
        public var resolved = 0
        public var closed = 0
        public var reopened = 0
        public var problemsOpened = 0
        public var knownErrors = 0
        public var problemsResolved = 0
    }

    public struct Opportunities: Codable, Sendable {
        public var count = 0
        public var byKind: [String: Int] = [:]
        /// Estimated value by currency, as decimal strings.
        public var value: [String: String] = [:]
    }

    public struct Defect: Codable, Sendable {
        public var defectId: String
        public var product: String
        public var symptom: String
        public var customers: Int
        public var incidents: Int
        public var score: Double
        public var status: String
    }

    public struct Defects: Codable, Sendable {
        public var total = 0
        public var top: [Defect] = []
    }

    public var intake = Intake()
    public var serviceLevels = ServiceLevels()
    public var flow = Flow()
    public var opportunities = Opportunities()
    public var defects = Defects()
    public var queues: [QueueReport] = []
    public var deadLetters = 0
    public var errors: [String] = []
    /// True when the flow counts include events observed on itr.events during a replay.
    public var observedEvents = false
    public var endpoints: ServiceEndpoints

    public init(endpoints: ServiceEndpoints) {
        self.endpoints = endpoints
    }

    // MARK: Collecting

    /// The samples of every instance of `product` together: a counter's sum is the service's.
    static func metrics(of product: String, _ endpoints: ServiceEndpoints, _ fetcher: HTTPFetcher) async throws -> PrometheusText {
        var text = ""
        for url in endpoints.instances(of: product) {
            text += try await fetcher.get("\(url)/metrics").text + "\n"
        }
        return PrometheusText(text)
    }

    public static func collect(
        endpoints: ServiceEndpoints, connection: AMQPConnection?, fetcher: HTTPFetcher = HTTPFetcher(timeout: 10)
    ) async -> SummaryReport {
        var report = SummaryReport(endpoints: endpoints)
        do {
            let m = try await metrics(of: "intake", endpoints, fetcher)
            report.intake.receivedVia = m.sum("itr_intake_reports_received_total", by: "via").mapValues { Int($0) }
            report.intake.reportsReceived = report.intake.receivedVia.values.reduce(0, +)
            report.intake.ticketsOpened = Int(m.sum("itr_intake_tickets_opened_total"))
            report.intake.duplicates = Int(m.sum("itr_intake_reports_duplicate_total"))
            report.intake.correlated = Int(m.sum("itr_intake_reports_correlated_total"))
            report.intake.rejectedByReason = m.sum("itr_intake_reports_rejected_total", by: "reason").mapValues { Int($0) }
            report.intake.rejected = report.intake.rejectedByReason.values.reduce(0, +)
        } catch {
            report.errors.append("intake metrics: \(error)")
        }
        // Domain events as the services downstream consumed them: for each type the largest count
        // over the services that consume it (the router, ltc-extractor and ipd-feedback each see a part).
        var consumed: [String: Int] = [:]
        var classifiedBy: [String: Int] = [:]
        var needsTriage = 0
        for (product, _) in endpoints.all where product != "intake" {
            do {
                let m = try await metrics(of: product, endpoints, fetcher)
                if product == "itr-router" {
                    classifiedBy = m.sum("itr_router_classified_total", by: "by").mapValues { Int($0) }
                    needsTriage = Int(m.sum("itr_router_classified_total", ["needs_triage": "true"]))
                }
                for (type, count) in m.sum("itr_events_consumed_total", by: "type") {
                    consumed[type] = max(consumed[type] ?? 0, Int(count))
                }
            } catch {
                report.errors.append("\(product) metrics: \(error)")
            }
        }
        report.flow.events = consumed
        report.flow.escalations = consumed["itr.ticket.escalated"] ?? 0
        report.flow.resolved = consumed["itr.ticket.resolved"] ?? 0
        report.flow.closed = consumed["itr.ticket.closed"] ?? 0
        report.flow.reopened = consumed["itr.ticket.reopened"] ?? 0
        report.flow.problemsOpened = consumed["itr.problem.opened"] ?? 0
        report.flow.knownErrors = consumed["itr.problem.known-error"] ?? 0
        report.flow.problemsResolved = consumed["itr.problem.resolved"] ?? 0
        await report.collectServiceLevels(fetcher)
        report.serviceLevels.classifiedBy = classifiedBy
        report.serviceLevels.needsTriage = needsTriage
        await report.collectOpportunities(fetcher)
        do {
            let page = try await fetcher.getJSON(JSONValue.self, "\(endpoints.ipd)/v1/defects?limit=5")
            report.defects.total = page["total"]?.int ?? 0
            report.defects.top = page.list("defects", "items").compactMap(Self.defect)
        } catch {
            report.errors.append("ipd-feedback defects: \(error)")
        }
        if let connection {
            report.queues = await QueueInventory.inspect(QueueInventory.queueNames, on: connection)
            report.deadLetters = report.queues.filter { $0.kind == .deadLetter || $0.kind == .rejected }.reduce(0) { $0 + ($1.messages ?? 0) }
        }
        return report
    }

    /// Takes event counts observed on `itr.events` (by `itrctl sample --replay`) where they are
    /// larger than what the services' metrics show (no service consumes closed or escalated).
    public mutating func merge(observed: [String: Int]) {
        for (type, n) in observed { flow.events[type] = max(flow.events[type] ?? 0, n) }
        let e = flow.events
        flow.escalations = e["itr.ticket.escalated"] ?? 0
        flow.resolved = e["itr.ticket.resolved"] ?? 0
        flow.closed = e["itr.ticket.closed"] ?? 0
        flow.reopened = e["itr.ticket.reopened"] ?? 0
        flow.problemsOpened = e["itr.problem.opened"] ?? 0
        flow.knownErrors = e["itr.problem.known-error"] ?? 0
        flow.problemsResolved = e["itr.problem.resolved"] ?? 0
        observedEvents = true
    }

    static func defect(_ entry: JSONValue) -> Defect? {
        let d = entry["defect"] ?? entry
        guard let id = d["defectId"]?.string else { return nil }
        let product = [d["productLine"]?.string, d["model"]?.string, d["affectedVersions"]?.array?.compactMap(\.string).joined(separator: "/")]
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return Defect(
            defectId: id, product: product, symptom: d["symptomSignature"]?.string ?? "",
            customers: d["impact"]?["customers"]?.int ?? 0, incidents: d["impact"]?["incidents"]?.int ?? 0,
            score: d["impact"]?["score"]?.double ?? 0, status: d["status"]?.string ?? "")
    }

    /// One `GET /v1/service-levels?groupBy=serviceType,priority`, so every figure comes from one
    /// snapshot of the router (`eventsEmitted` says which prefix of its events it reflects).
    mutating func collectServiceLevels(_ fetcher: HTTPFetcher) async {
        do {
            let report = try await fetcher.getJSON(
                JSONValue.self, "\(endpoints.router)/v1/service-levels?groupBy=serviceType,priority")
            serviceLevels = Self.serviceLevels(report)
        } catch {
            errors.append("itr-router service levels: \(error)")
        }
    }

    /// The summary's figures from a service-level report grouped by service type and priority.
    static func serviceLevels(_ report: JSONValue) -> ServiceLevels {
        var levels = ServiceLevels()
        let groups = report["groups"]?.array ?? []
        levels.tickets = groups.reduce(0) { $0 + ($1["tickets"]?.int ?? 0) }
        levels.backlog = groups.reduce(0) { $0 + ($1["backlog"]?.int ?? 0) }
        levels.slaResponseAttainment = weighted(groups, "slaResponseAttainment", "slaResponseDecided")
        levels.slaResolutionAttainment = weighted(groups, "slaResolutionAttainment", "slaResolutionDecided")
        levels.slaResponseDecided = groups.reduce(0) { $0 + ($1["slaResponseDecided"]?.int ?? 0) }
        levels.slaResolutionDecided = groups.reduce(0) { $0 + ($1["slaResolutionDecided"]?.int ?? 0) }
        for g in groups {
            levels.byServiceType[g["key"]?["serviceType"]?.string ?? "?", default: 0] += g["tickets"]?.int ?? 0
            levels.byPriority[g["key"]?["priority"]?.string ?? "?", default: 0] += g["tickets"]?.int ?? 0
        }
        let ola = report["ola"]?.array ?? []
        let decided = ola.reduce(0) { $0 + ($1["decided"]?.int ?? 0) }
        let onTime = ola.reduce(0) { $0 + ($1["onTime"]?.int ?? 0) }
        levels.olaDecided = decided
        levels.olaOnTime = onTime
        levels.olaOnTimeRate = decided > 0 ? Double(onTime) / Double(decided) : nil
        for o in ola {
            guard let tier = o["tier"]?.string else { continue }
            levels.olaDecidedByTier[tier, default: 0] += o["decided"]?.int ?? 0
            levels.olaOnTimeByTier[tier, default: 0] += o["onTime"]?.int ?? 0
        }
        levels.eventsEmitted = report["eventsEmitted"]?.int
        return levels
    }

    static func weighted(_ groups: [JSONValue], _ rate: String, _ weight: String) -> Double? {
        var total = 0.0
        var n = 0
        for g in groups {
            guard let r = g[rate]?.double, let w = g[weight]?.int, w > 0 else { continue }
            total += r * Double(w)
            n += w
        }
        return n > 0 ? total / Double(n) : nil
    }

    mutating func collectOpportunities(_ fetcher: HTTPFetcher) async {
        var offset = 0
        var values: [String: Decimal] = [:]
        do {
            while true {
                let page = try await fetcher.getJSON(JSONValue.self, "\(endpoints.ltc)/v1/opportunities?limit=500&offset=\(offset)")
                let items = page.list("items", "opportunities")
                for item in items {
                    opportunities.count += 1
                    opportunities.byKind[item["kind"]?.string ?? "?", default: 0] += 1
                    if let money = item["estimatedValue"], let amount = money["amount"]?.string.flatMap({ Decimal(string: $0) }) {
                        values[money["currency"]?.string ?? "?", default: 0] += amount
                    }
                }
                guard let next = page["nextOffset"]?.int, !items.isEmpty else { break }
                offset = next
            }
        } catch {
            errors.append("ltc-extractor opportunities: \(error)")
        }
        opportunities.value = values.mapValues { "\($0)" }
    }

    // MARK: Text

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a"
    }

    public var text: String {
        var out: [String] = []
        out.append("Reports in:        \(intake.reportsReceived) (\(intake.receivedVia.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
        out.append("Tickets opened:    \(intake.ticketsOpened)")
        out.append("Duplicates:        \(intake.duplicates)")
        out.append("Correlated alarms: \(intake.correlated)")
        out.append("Rejected:          \(intake.rejected)" + (intake.rejectedByReason.isEmpty ? "" : "  (" + intake.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        out.append("")
        out.append("Tickets by service type: " + serviceLevels.byServiceType.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if !serviceLevels.classifiedBy.isEmpty {
            out.append(
                "Service types decided by: " + serviceLevels.classifiedBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ") + "; \(serviceLevels.needsTriage) sent to triage (model not sure)")
        }
        out.append("Tickets by priority:     " + serviceLevels.byPriority.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        out.append("Backlog (open):          \(serviceLevels.backlog)")
        out.append("SLA attainment:          response \(Self.percent(serviceLevels.slaResponseAttainment)) of \(serviceLevels.slaResponseDecided) decided, resolution \(Self.percent(serviceLevels.slaResolutionAttainment)) of \(serviceLevels.slaResolutionDecided) decided")
        out.append("OLA on-time rate:        \(Self.percent(serviceLevels.olaOnTimeRate)) of \(serviceLevels.olaDecided) decided tier stints (\(serviceLevels.olaDecided - serviceLevels.olaOnTime) breached)")
        let seen = { (type: String, n: Int) in observedEvents || flow.events[type] != nil ? "\(n)" : "n/a" }
        out.append("Resolved / closed / reopened: \(flow.resolved) / \(seen("itr.ticket.closed", flow.closed)) / \(seen("itr.ticket.reopened", flow.reopened))")
        out.append("Escalations:             \(seen("itr.ticket.escalated", flow.escalations))"
            + (flow.events["itr.sla.breached"].map { ", SLA breaches \($0)" } ?? "") + (flow.events["itr.ola.breached"].map { ", OLA breaches \($0)" } ?? ""))
        out.append("Problems:                \(flow.problemsOpened) opened, \(flow.knownErrors) known errors, \(flow.problemsResolved) resolved")
        out.append("Opportunities:           \(opportunities.count)" + (opportunities.value.isEmpty ? "" : ", value " + opportunities.value.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: " + "))
            + (opportunities.byKind.isEmpty ? "" : "  (" + opportunities.byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        out.append("Defects:                 \(defects.total); top \(defects.top.count) by impact:")
        for (i, d) in defects.top.enumerated() {
            out.append("  \(i + 1). \(d.defectId)  \(d.product)  \(d.symptom.prefix(60))  customers \(d.customers), incidents \(d.incidents), score \(String(format: "%.1f", d.score)) [\(d.status)]")
        }
        out.append("Dead letters waiting:    \(deadLetters)")
        for e in errors { out.append("! \(e)") }
        out.append("")
        out.append("Where to look next (bearer token with the scope: README \"Who may do what\"):")
        out.append("  tickets          \(endpoints.router)/v1/tickets/{id}   (itrctl ticket show ID)")
        out.append("  service levels   \(endpoints.router)/v1/service-levels?groupBy=serviceType,priority")
        out.append("  opportunities    \(endpoints.ltc)/v1/opportunities   (queue feed.opportunities)")
        out.append("  defects          \(endpoints.ipd)/v1/defects   (queue feed.defects)")
        out.append("  rejected input   queue itr.rejected   (itrctl dlq show itr.rejected)")
        out.append("  metrics          \(endpoints.all.map { "\($0.url)/metrics" }.joined(separator: " ")) (metrics:read),")
        out.append("                   or without a token on each host's loopback metrics listener (HTTP port + 1000)")
        return out.joined(separator: "\n")
    }
}
