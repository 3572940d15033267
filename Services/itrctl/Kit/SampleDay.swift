import Foundation
import ITRConfig
import ITREvents

/// A day of a mid-size vendor's after-sales, generated from a seed: the same seed, size and
/// start give the same messages, byte for byte.
///
/// Composition for `reports` = N (every report message counts: alarms, duplicates, malformed):
/// - 12 malformed reports (bad JSON, a missing source, a monitoring report without its alarm,
///   an empty account, an unknown channel, a time in 2099, an over-long summary, ...);
/// - alarm storms: N/400 (at least 3) devices each raising 15-45 alarms within ten minutes,
///   which intake folds into one ticket per storm; single alarms, a third of them cleared later;
/// - about 2% duplicates (the same event sent again);
/// - recurring faults on five product versions (`SampleText.recurringFaults`), 4-12 reports each
///   across customers, so the router opens problems; four are caused by the product, so
///   ipd-feedback reports defects once they are resolved;
/// - six reports from customers whose contract has expired or does not cover the product
///   (ACC-1019, ACC-1012's routers) for renewal opportunities;
/// - the rest: reports of every service type from every channel, in Chinese and English, by
///   customers on every package (accounts from contracts.yaml), including new requirements;
/// - service-desk actions on the human-reported tickets: acknowledge, note, pause/resume,
///   escalate, resolve (with quality responsibility and, for hardware, spare parts, some out of
///   warranty), confirm or reopen — each at a plausible time after the report; those that would
///   fall after the end of the day are left out (the ticket stays open).
public struct SampleDay: Sendable {
    public struct Parameters: Sendable, Hashable {
        public var seed: UInt64
        public var reports: Int
        /// The first instant of the day; every item's time is `start + offset`.
        public var start: Date

        public init(seed: UInt64 = 7, reports: Int = 3000, start: Date) {
            self.seed = seed
            self.reports = reports
            self.start = start
        }
    }

    /// What the generator put in, so a run can be checked against it.
    public struct Composition: Codable, Sendable, Hashable {
        public var messages = 0
        public var reportMessages = 0
        public var byRole: [String: Int] = [:]
        public var byChannel: [String: Int] = [:]
        public var byLanguage: [String: Int] = [:]
        public var byRoute: [String: Int] = [:]
        public var byIntendedServiceType: [String: Int] = [:]
        public var storms = 0
        public var recurringFaults: [String: Int] = [:]
        public var expiredContractReports = 0
        public var accounts = 0
        public var packages: [String] = []
        public var actions: [String: Int] = [:]
        public var sparePartResolutions = 0
        public var outOfWarrantyParts = 0
        /// Reports that should each open a ticket (`report` role).
        public var ticketsExpected = 0
    }

    public static let actionSource = "//servicedesk.example.com"
    public static let httpSources = ["//portal.example.com", "//api.partner.example.com"]

    public let parameters: Parameters
    public let items: [SampleItem]
    public let composition: Composition

    public init(parameters: Parameters, config: ConfigBundle) {
        var builder = SampleDayBuilder(parameters: parameters, config: config)
        builder.build()
        self.parameters = parameters
        self.items = builder.items.enumerated().sorted { a, b in
            a.element.offset != b.element.offset ? a.element.offset < b.element.offset : a.offset < b.offset
        }.map(\.element)
        var composition = builder.composition
        composition.messages = items.count
        for item in items {
            composition.byRole[item.role.rawValue, default: 0] += 1
            composition.byRoute[item.route.rawValue, default: 0] += 1
            if item.role == .action, let kind = item.action?.action { composition.actions[kind.rawValue, default: 0] += 1 }
        }
        composition.reportMessages = items.filter { $0.role != .action }.count
        composition.ticketsExpected = composition.byRole[SampleItem.Role.report.rawValue] ?? 0
        self.composition = composition
    }

    /// The items as JSON lines (`itrctl sample --out`).
    public func jsonLines() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var out = ""
        for item in items {
            var line = SampleLine(
                offset: item.offset, time: parameters.start.addingTimeInterval(item.offset), route: item.route,
                role: item.role, exchange: "itr.ingress", routingKey: item.routingKey, forReport: item.reportID, note: item.note)
            if let event = item.event {
                line.event = try? JSONDecoder().decode(JSONValue.self, from: CloudEventJSON.encode(event))
            }
            if let body = item.rawBody {
                line.raw = String(decoding: body, as: UTF8.self)
                line.contentType = item.rawContentType
                line.headers = item.rawHeaders.isEmpty ? nil : item.rawHeaders
            }
            if let data = try? encoder.encode(line) { out += String(decoding: data, as: UTF8.self) + "\n" }
        }
        return out
    }
}
