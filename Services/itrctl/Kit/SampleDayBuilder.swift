import Foundation
import ITRConfig
import ITREvents

/// Builds the items of a `SampleDay` (see its documentation for the composition).
struct SampleDayBuilder {
    struct Source {
        var system: String
        var ceSource: String
        var route: SampleItem.Route
        var prefix: String
    }

    struct Customer {
        var contract: Contract
        var package: String
        var active: Bool
    }

    static let day: TimeInterval = 86_400

    let parameters: SampleDay.Parameters
    let config: ConfigBundle
    var random: SampleRandom
    var items: [SampleItem] = []
    var composition = SampleDay.Composition()
    private var sequence = 0
    private var upstream: [String: Int] = [:]
    private let idPrefix: String
    private let customers: [Customer]
    private let activeCustomers: [Customer]

    static let sources: [Channel: Source] = [
        .phone: Source(system: "callcenter", ceSource: "//callcenter.example.com", route: .amqp, prefix: "CC"),
        .email: Source(system: "mail-gateway", ceSource: "//mail.example.com", route: .amqp, prefix: "MAIL"),
        .field: Source(system: "field-app", ceSource: "//fieldservice.example.com", route: .amqp, prefix: "FE"),
        .monitoring: Source(system: "nms-east", ceSource: "//nms.example.com/east", route: .amqp, prefix: "NMS"),
        .portal: Source(system: "crm-portal", ceSource: SampleDay.httpSources[0], route: .http, prefix: "PORTAL"),
        .api: Source(system: "partner-api", ceSource: SampleDay.httpSources[1], route: .http, prefix: "API"),
    ]

    init(parameters: SampleDay.Parameters, config: ConfigBundle) {
        self.parameters = parameters
        self.config = config
        self.random = SampleRandom(seed: parameters.seed)
        self.idPrefix = "sd\(parameters.seed)-\(Int(parameters.start.timeIntervalSince1970 / 60))"
        let today = LocalDate(parameters.start.addingTimeInterval(Self.day / 2), in: TimeZone(identifier: "UTC")!)
        var byAccount: [String: Customer] = [:]
        for contract in config.contracts.contracts.sorted(by: { $0.validFrom < $1.validFrom }) {
            let active = contract.isValid(on: today)
            if byAccount[contract.account] == nil || active {
                byAccount[contract.account] = Customer(contract: contract, package: contract.package, active: active)
            }
        }
        customers = byAccount.values.sorted { $0.contract.account < $1.contract.account }
        activeCustomers = customers.filter(\.active)
    }

    // MARK: Building

    mutating func build() {
        let n = max(parameters.reports, 200)
        composition.accounts = customers.count
        composition.packages = Array(Set(activeCustomers.map(\.package))).sorted()
        var budget = n
        budget -= addMalformed()
        budget -= addStorms(count: max(3, n / 400))
        budget -= addRecurringFaults()
        budget -= addExpiredContracts()
        let singles = n * 12 / 100
        budget -= addSingleAlarms(count: singles)
        let duplicates = n * 2 / 100
        let humans = max(0, budget - duplicates)
        addHumanReports(count: humans)
        addDuplicates(count: duplicates)
    }

    // MARK: Reports

    private mutating func nextID() -> String {
        sequence += 1
        return "\(idPrefix)-\(sequence)"
    }

    private mutating func upstreamID(_ source: Source) -> String {
        upstream[source.prefix, default: 0] += 1
        return "\(source.prefix)-\(parameters.seed)-\(String(format: "%05d", upstream[source.prefix]!))"
    }

    /// A business-hours-weighted moment of the day (China time: most reports 01:00-12:00 UTC).
    private mutating func reportOffset() -> TimeInterval {
        let hour = random.weighted([
            (0, 1), (1, 5), (2, 8), (3, 9), (4, 9), (5, 6), (6, 8), (7, 9), (8, 8), (9, 6), (10, 4), (11, 3),
            (12, 2), (13, 2), (14, 2), (15, 1), (16, 1), (17, 1), (18, 1), (19, 1), (20, 1), (21, 1), (22, 1), (23, 1),
        ])
        return TimeInterval(hour * 3600 + random.int(0...3599))
    }

    private mutating func product(for customer: Customer, line: String? = nil) -> Product {
        let lineID = line ?? random.pick(customer.contract.products)
        let models = config.catalogue.productLines.first { $0.id == lineID }?.models ?? []
        guard !models.isEmpty else { return Product(line: lineID) }
        let model = random.pick(models)
        let version = random.pick(model.versions).version
        return Product(
            line: lineID, model: model.id, version: version, serial: "SN\(random.int(100_000...999_999))",
            site: "\(customer.contract.region)-site-\(random.int(1...12))")
    }

    private mutating func language(for customer: Customer) -> Language {
        customer.contract.region == "eu" ? .en : (random.chance(0.8) ? .zh : .en)
    }

    private func customerValue(_ customer: Customer, _ language: Language) -> ITREvents.Customer {
        let name = language == .en ? (customer.contract.customerNameEn ?? customer.contract.customerName) : customer.contract.customerName
        return ITREvents.Customer(account: customer.contract.account, name: name)
    }

    @discardableResult
    private mutating func addReport(
        _ report: ReportSubmitted, source: Source, offset: TimeInterval, role: SampleItem.Role, note: String? = nil
    ) -> CloudEvent? {
        let time = parameters.start.addingTimeInterval(offset)
        guard let event = try? CloudEvent(source: source.ceSource, payload: report, id: nextID(), time: time) else { return nil }
        items.append(
            SampleItem(
                offset: offset, route: source.route, role: role, routingKey: EventRouting.ingressKey(for: report.channel),
                event: event, note: note))
        composition.byChannel[report.channel.rawValue, default: 0] += 1
        composition.byLanguage[report.language.rawValue, default: 0] += 1
        return event
    }

    private mutating func addHumanReports(count: Int) {
        let channels: [(Channel, Int)] = [(.phone, 30), (.portal, 30), (.email, 20), (.field, 10), (.api, 10)]
        let types: [(ServiceType, Int)] = [
            (.hardwareFault, 25), (.softwareFault, 20), (.softwareOperation, 20), (.nonTechnical, 8),
            (.newRequirement, 8), (.complaint, 5), (.preventiveMaintenance, 6),
        ]
        for i in 0..<count {
            // Every package and every service type appear: the first reports walk through them.
            let customer = i < activeCustomers.count ? activeCustomers[i] : random.pick(activeCustomers)
            let type = i < ServiceType.allCases.count ? ServiceType.allCases[i] : random.weighted(types)
            let channel = i < channels.count ? channels[i].0 : random.weighted(channels)
            let language = language(for: customer)
            let phrase = random.pick(SampleText.phrases(type, language))
            let source = Self.sources[channel]!
            let offset = reportOffset()
            let severity: Severity? = type == .hardwareFault || type == .softwareFault
                ? random.weighted([(.critical, 1), (.major, 4), (.minor, 5)]) : nil
            let report = ReportSubmitted(
                sourceSystem: source.system, channel: channel, upstreamId: upstreamID(source),
                customer: customerValue(customer, language), product: product(for: customer), summary: phrase.summary,
                description: phrase.description, severity: severity.map { ReportedSeverity(reported: $0) },
                occurredAt: parameters.start.addingTimeInterval(offset - TimeInterval(random.int(0...1800))),
                language: language, categoryHint: phrase.categoryHint)
            composition.byIntendedServiceType[type.rawValue, default: 0] += 1
            if let event = addReport(report, source: source, offset: offset, role: .report) {
                addActions(for: event, offset: offset, type: type, product: report.product)
            }
        }
    }

    private mutating func addRecurringFaults() -> Int {
        var added = 0
        for fault in SampleText.recurringFaults {
            let candidates = activeCustomers.filter { $0.contract.products.contains(fault.line) }
            let occurrences = random.int(fault.occurrences)
            composition.recurringFaults["\(fault.model) \(fault.version) \(fault.component)"] = occurrences
            for _ in 0..<occurrences {
                let customer = random.pick(candidates)
                let channel: Channel = random.pick([.phone, .portal, .email])
                let source = Self.sources[channel]!
                let offset = reportOffset()
                let report = ReportSubmitted(
                    sourceSystem: source.system, channel: channel, upstreamId: upstreamID(source),
                    customer: customerValue(customer, .zh),
                    product: Product(
                        line: fault.line, model: fault.model, version: fault.version, serial: "SN\(random.int(100_000...999_999))",
                        site: "\(customer.contract.region)-site-\(random.int(1...12))", component: fault.component),
                    summary: fault.summary, description: fault.description, severity: ReportedSeverity(reported: .major),
                    occurredAt: parameters.start.addingTimeInterval(offset - 600), language: fault.summary.utf8.count > fault.summary.count ? .zh : .en)
                composition.byIntendedServiceType[fault.resolutionCode.hasPrefix("HW") ? "hardware-fault" : "software-fault", default: 0] += 1
                if let event = addReport(report, source: source, offset: offset, role: .report, note: "recurring \(fault.model) \(fault.version)") {
                    addRecurringActions(for: event, offset: offset, fault: fault)
                }
                added += 1
            }
        }
        return added
    }

    private mutating func addExpiredContracts() -> Int {
        // Customers without a valid contract today, and ACC-1012 whose new contract no longer covers routers.
        var targets: [(Customer, String)] = customers.filter { !$0.active }.map { ($0, $0.contract.products.first ?? "routers") }
        if let tianjin = activeCustomers.first(where: { $0.contract.account == "ACC-1012" }) {
            targets.append((tianjin, "routers"))
        }
        var added = 0
        for (customer, line) in targets {
            for _ in 0..<max(1, 6 / max(targets.count, 1)) {
                let source = Self.sources[.phone]!
                let offset = reportOffset()
                let phrase = random.pick(SampleText.phrases(.hardwareFault, .zh))
                let report = ReportSubmitted(
                    sourceSystem: source.system, channel: .phone, upstreamId: upstreamID(source),
                    customer: customerValue(customer, .zh), product: product(for: customer, line: line),
                    summary: phrase.summary, description: phrase.description + "（合同已到期）",
                    occurredAt: parameters.start.addingTimeInterval(offset - 300), language: .zh, categoryHint: phrase.categoryHint)
                composition.byIntendedServiceType["hardware-fault", default: 0] += 1
                if let event = addReport(report, source: source, offset: offset, role: .report, note: "contract expired or not covering \(line)") {
                    addActions(for: event, offset: offset, type: .hardwareFault, product: report.product)
                }
                composition.expiredContractReports += 1
                added += 1
            }
        }
        return added
    }

    private mutating func alarmReport(
        customer: Customer, line: String, code: String, text: String, device: String, site: String, state: AlarmState,
        at offset: TimeInterval
    ) -> ReportSubmitted {
        let source = Self.sources[.monitoring]!
        let models = config.catalogue.productLines.first { $0.id == line }?.models ?? []
        let model = models.first
        return ReportSubmitted(
            sourceSystem: source.system, channel: .monitoring, upstreamId: upstreamID(source),
            customer: ITREvents.Customer(account: customer.contract.account),
            product: Product(line: line, model: model?.id, version: model?.versions.first?.version, site: site),
            summary: "\(code) \(text)\(state == .cleared ? " (cleared)" : "")", description: nil,
            severity: ReportedSeverity(alarm: state == .cleared ? .info : random.pick([.critical, .major, .minor])),
            alarm: Alarm(code: code, device: device, state: state),
            occurredAt: parameters.start.addingTimeInterval(offset), language: .en)
    }

    private mutating func addStorms(count: Int) -> Int {
        var added = 0
        let monitoring = Self.sources[.monitoring]!
        for s in 0..<count {
            let (code, line, text) = SampleText.alarmCodes[s % SampleText.alarmCodes.count]
            let candidates = activeCustomers.filter { $0.contract.products.contains(line) }
            let customer = random.pick(candidates.isEmpty ? activeCustomers : candidates)
            let device = "\(line.uppercased())-\(customer.contract.region.uppercased())-STORM-\(s + 1)"
            let site = "\(customer.contract.region)-dc-\(s + 1)"
            let size = random.int(15...45)
            let start = reportOffset()
            composition.storms += 1
            for a in 0..<size {
                let offset = start + TimeInterval(a * 600 / size)
                let report = alarmReport(
                    customer: customer, line: line, code: code, text: text, device: device, site: site, state: .raised, at: offset)
                addReport(report, source: monitoring, offset: offset, role: a == 0 ? .report : .stormAlarm, note: "storm \(s + 1)")
                added += 1
            }
        }
        return added
    }

    private mutating func addSingleAlarms(count: Int) -> Int {
        var added = 0
        let monitoring = Self.sources[.monitoring]!
        var i = 0
        while added < count {
            i += 1
            let (code, line, text) = random.pick(SampleText.alarmCodes)
            let candidates = activeCustomers.filter { $0.contract.products.contains(line) }
            let customer = random.pick(candidates.isEmpty ? activeCustomers : candidates)
            let device = "\(line.uppercased())-\(customer.contract.region.uppercased())-\(String(format: "%04d", i))"
            let site = "\(customer.contract.region)-site-\(random.int(1...40))"
            let offset = reportOffset()
            let raised = alarmReport(customer: customer, line: line, code: code, text: text, device: device, site: site, state: .raised, at: offset)
            addReport(raised, source: monitoring, offset: offset, role: .report)
            added += 1
            if added < count, random.chance(0.33) {
                let clearedAt = offset + TimeInterval(random.int(60...600))
                let cleared = alarmReport(
                    customer: customer, line: line, code: code, text: text, device: device, site: site, state: .cleared, at: clearedAt)
                addReport(cleared, source: monitoring, offset: clearedAt, role: .clearedAlarm)
                added += 1
            }
        }
        return added
    }

    private mutating func addDuplicates(count: Int) {
        let originals = items.filter { $0.role == .report && $0.event != nil }
        guard !originals.isEmpty else { return }
        for _ in 0..<count {
            var copy = random.pick(originals)
            copy.role = .duplicate
            copy.offset = min(Self.day - 1, copy.offset + TimeInterval(random.int(1...900)))
            copy.note = "resent by the upstream system"
            if let channel = copy.routingKey.split(separator: ".").last { composition.byChannel[String(channel), default: 0] += 1 }
            items.append(copy)
        }
    }

    // MARK: Malformed

    private mutating func addMalformed() -> Int {
        let customer = activeCustomers[0]
        let good = ReportSubmitted(
            sourceSystem: "callcenter", channel: .phone, upstreamId: "CC-BAD", customer: ITREvents.Customer(account: customer.contract.account),
            product: Product(line: customer.contract.products[0]), summary: "设备宕机", occurredAt: parameters.start,
            language: .zh)
        func data(_ mutate: (inout [String: JSONValue]) -> Void) -> Data {
            var object = (try? JSONDecoder().decode(JSONValue.self, from: EventCoding.encoder.encode(good)))?.object ?? [:]
            mutate(&object)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(JSONValue.object(object))) ?? Data()
        }
        func binaryHeaders(id: String, type: String = "itr.report.submitted", source: String? = "//callcenter.example.com", offset: TimeInterval) -> [String: String] {
            var h = ["ce-specversion": "1.0", "ce-id": id, "ce-type": type, "ce-time": RFC3339Text.string(parameters.start.addingTimeInterval(offset))]
            if let source { h["ce-source"] = source }
            return h
        }
        var added = 0
        func add(_ route: SampleItem.Route, _ key: String, _ body: Data, _ contentType: String, _ headers: [String: String], _ offset: TimeInterval, _ note: String) {
            items.append(
                SampleItem(
                    offset: offset, route: route, role: .malformed, routingKey: key, rawBody: body, rawContentType: contentType,
                    rawHeaders: headers, note: note))
            added += 1
        }
        let o = { (hour: Int) in TimeInterval(hour * 3600 + 1234) }
        add(.amqp, "report.phone", Data("{\"specversion\": \"1.0\", \"id\": ".utf8), "application/cloudevents+json", [:], o(1), "truncated JSON")
        add(.amqp, "report.phone", data { _ in }, "application/json", binaryHeaders(id: nextID(), source: nil, offset: o(2)), o(2), "no ce-source")
        add(.amqp, "report.monitoring", data { $0["channel"] = .string("monitoring") }, "application/json", binaryHeaders(id: nextID(), offset: o(3)), o(3), "monitoring report without its alarm")
        add(.amqp, "report.phone", data { $0["customer"] = .object(["account": .string("")]) }, "application/json", binaryHeaders(id: nextID(), offset: o(4)), o(4), "empty customer account")
        add(.amqp, "report.fax", data { $0["channel"] = .string("fax") }, "application/json", binaryHeaders(id: nextID(), offset: o(5)), o(5), "unknown channel fax")
        add(.amqp, "report.phone", data { $0["occurredAt"] = .string("2099-01-01T00:00:00Z") }, "application/json", binaryHeaders(id: nextID(), offset: o(6)), o(6), "occurredAt in 2099")
        add(.amqp, "report.phone", data { $0.removeValue(forKey: "product") }, "application/json", binaryHeaders(id: nextID(), offset: o(7)), o(7), "no product")
        add(.amqp, "report.email", Data("这不是JSON".utf8), "application/json", binaryHeaders(id: nextID(), offset: o(8)), o(8), "body is not JSON")
        let portal = SampleDay.httpSources[0]
        add(.http, "report.portal", data { $0["summary"] = .string(String(repeating: "长", count: 600)); $0["channel"] = .string("portal") }, "application/json", binaryHeaders(id: nextID(), source: portal, offset: o(9)), o(9), "summary longer than 512 characters")
        add(.http, "report.portal", data { $0["summary"] = .string(""); $0["channel"] = .string("portal") }, "application/json", binaryHeaders(id: nextID(), source: portal, offset: o(10)), o(10), "empty summary")
        add(.http, "report.portal", Data("{\"specversion\":\"1.0\"".utf8), "application/cloudevents+json", [:], o(11), "truncated JSON")
        add(.http, "report.portal", data { $0["language"] = .string("fr"); $0["channel"] = .string("portal") }, "application/json", binaryHeaders(id: nextID(), source: portal, offset: o(12)), o(12), "unsupported language fr")
        for item in items.suffix(added) {
            if let channel = item.routingKey.split(separator: ".").last { composition.byChannel[String(channel), default: 0] += 1 }
        }
        return added
    }

    // MARK: Actions

    private mutating func addAction(
        _ kind: TicketActionKind, for report: CloudEvent, at offset: TimeInterval, configure: (inout TicketAction) -> Void = { _ in }
    ) -> Bool {
        guard offset < Self.day - 60 else { return false }
        var action = TicketAction(ticketId: "", action: kind, actor: Actor(id: random.pick(SampleText.engineers), role: "engineer"))
        configure(&action)
        let time = parameters.start.addingTimeInterval(offset)
        guard let template = try? CloudEvent(source: SampleDay.actionSource, payload: action, id: nextID(), time: time) else { return false }
        items.append(
            SampleItem(
                offset: offset, route: .amqp, role: .action, routingKey: EventRouting.ingressKey(for: kind), event: template,
                reportID: report.id, action: action))
        return true
    }

    private mutating func addActions(for report: CloudEvent, offset: TimeInterval, type: ServiceType, product: Product) {
        guard random.chance(0.85) else { return }
        var t = offset + TimeInterval(random.int(120...(4 * 3600)))
        guard addAction(.acknowledge, for: report, at: t) else { return }
        if random.chance(0.1) {
            t += TimeInterval(random.int(60...1800))
            _ = addAction(.note, for: report, at: t) { $0.note = "已联系客户，收集日志中 / collecting logs" }
        }
        if random.chance(0.08) {
            t += TimeInterval(random.int(300...3600))
            guard addAction(.pause, for: report, at: t, configure: { $0.pauseReason = .waitingCustomer }) else { return }
            t += TimeInterval(random.int(600...(3 * 3600)))
            guard addAction(.resume, for: report, at: t) else { return }
        }
        if (type == .hardwareFault || type == .softwareFault), random.chance(0.08) {
            t += TimeInterval(random.int(300...3600))
            _ = addAction(.escalate, for: report, at: t) {
                $0.escalation = TicketAction.Escalation(kind: .functional, toTier: nil, reason: "needs product support / 需要产品线支持")
            }
        }
        guard random.chance(0.7) else { return }
        t += TimeInterval(random.int(1200...(16 * 3600)))
        let resolution = resolution(for: type, product: product)
        guard addAction(.resolve, for: report, at: t, configure: { $0.resolution = resolution }) else { return }
        if !resolution.spareParts.isEmpty {
            composition.sparePartResolutions += 1
            if resolution.spareParts.contains(where: { $0.inWarranty == false }) { composition.outOfWarrantyParts += 1 }
        }
        t += TimeInterval(random.int(600...(6 * 3600)))
        if random.chance(0.04) {
            _ = addAction(.reopen, for: report, at: t) { $0.reason = "问题复现 / the fault came back" }
        } else if random.chance(0.75) {
            _ = addAction(.confirm, for: report, at: t) { $0.actor = Actor(id: "customer", role: "customer") }
        }
    }

    private mutating func addRecurringActions(for report: CloudEvent, offset: TimeInterval, fault: SampleText.RecurringFault) {
        var t = offset + TimeInterval(random.int(120...3600))
        guard addAction(.acknowledge, for: report, at: t) else { return }
        t += TimeInterval(random.int(1800...(10 * 3600)))
        let resolution = TicketAction.Resolution(
            resolutionCode: fault.resolutionCode, rootCause: fault.rootCause, workaround: fault.workaround)
        guard addAction(.resolve, for: report, at: t, configure: { $0.resolution = resolution }) else { return }
        t += TimeInterval(random.int(600...(4 * 3600)))
        if random.chance(0.8) { _ = addAction(.confirm, for: report, at: t) { $0.actor = Actor(id: "customer", role: "customer") } }
    }

    private mutating func resolution(for type: ServiceType, product: Product) -> TicketAction.Resolution {
        switch type {
        case .hardwareFault:
            let code = random.weighted([
                ("HW-COMPONENT", 40), ("CUST-ENVIRONMENT", 20), ("INSTALL-CABLING", 15), ("SUPPLIER-OPTICS", 10), ("NFF", 15),
            ])
            var parts: [SparePart] = []
            if code == "HW-COMPONENT" || code == "SUPPLIER-OPTICS", random.chance(0.6),
                let numbers = SampleText.spareParts[product.line]
            {
                parts = [SparePart(partNumber: random.pick(numbers), quantity: random.int(1...2), inWarranty: !random.chance(0.4))]
            }
            return TicketAction.Resolution(
                resolutionCode: code, rootCause: code == "NFF" ? nil : "component replaced / 更换故障部件", spareParts: parts)
        case .softwareFault:
            let code = random.weighted([("SW-DEFECT", 30), ("INSTALL-CONFIG", 25), ("CUST-MISUSE", 25), ("NFF-SELF-RECOVERED", 20)])
            return TicketAction.Resolution(resolutionCode: code, rootCause: "see ticket notes / 详见处理记录")
        default:
            return TicketAction.Resolution(resolutionCode: "NFF", rootCause: nil, workaround: nil)
        }
    }
}

/// RFC 3339 text for hand-written headers.
enum RFC3339Text {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
