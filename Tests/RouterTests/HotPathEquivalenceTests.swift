import Foundation
import ITRConfig
import ITRTestSupport
import Testing
import TextClassifier
@testable import RouterApp

/// The router's precomputed hot-path structures agree with the direct computations they replace.
@Suite struct HotPathEquivalenceTests {
    /// A deterministic generator, so a failure reproduces.
    typealias Random = SplitMix64

    static let berlinOffice: BusinessCalendar = {
        let hours = [CalendarDefinition.Interval(start: 8 * 60, end: 12 * 60), CalendarDefinition.Interval(start: 13 * 60, end: 17 * 60)]
        return BusinessCalendar(CalendarDefinition(
            id: "de-split", timeZone: berlin, weeklyHours: [1: hours, 2: hours, 3: hours, 4: hours, 5: hours, 6: [.init(start: 0, end: 24 * 60)]],
            holidays: [LocalDate(year: 2026, month: 3, day: 30), LocalDate(year: 2026, month: 12, day: 25)],
            extraWorkingDays: [LocalDate(year: 2026, month: 10, day: 25)]))
    }()

    /// Over a year of random instants (holidays, make-up days, both DST switches in Berlin),
    /// the cached calendar gives exactly what the day-by-day Foundation computation gives.
    @Test(arguments: ["cn-business", "de-split"])
    func calendarCacheAgreesWithDirectComputation(_ id: String) {
        let calendar = id == "cn-business" ? chinaBusiness : Self.berlinOffice
        var random = Random(seed: id == "cn-business" ? 1 : 2)
        let yearStart = at(2026, 1, 1, 0).timeIntervalSince1970
        let yearEnd = at(2027, 1, 1, 0).timeIntervalSince1970
        var mismatches: [String] = []
        for _ in 0..<1_500 {
            let start = Date(timeIntervalSince1970: random.uniform(yearStart...yearEnd).rounded(.down))
            let end = start.addingTimeInterval(random.uniform(0...(20 * 86_400)))
            let duration = random.uniform(0...(80 * hour))
            if calendar.businessTime(from: start, to: end) != calendar.directBusinessTime(from: start, to: end) {
                mismatches.append("businessTime \(start) \(end)")
            }
            if calendar.date(adding: duration, to: start) != calendar.directDate(adding: duration, to: start) {
                mismatches.append("date adding \(duration) to \(start)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func dayNumbersRoundTrip() {
        for number in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(LocalDate.fromDayNumber(number).dayNumber == number)
        }
        #expect(LocalDate(year: 1970, month: 1, day: 1).dayNumber == 0)
        #expect(LocalDate.fromDayNumber(20_517) == LocalDate(year: 2026, month: 3, day: 5))
        let instant = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(LocalDate(utc: instant) == LocalDate(instant, in: TimeZone(identifier: "UTC")!))
    }

    static let texts = [
        "核心路由器宕机，全网业务中断", "如何配置 vlan？", "设备异常重启，日志显示进程崩溃 crash", "upgrade failed, rolled back",
        "the router hangs after a config change", "debug logs show a bug", "bug: link down", "链路闪断 link-flap 告警",
        "希望增加流量统计新功能", "power supply failure, red led", "", "hang", "x-hang-y", "hang2", "咨询：license 到期",
        "café crash", "sla 违约 breach!", "光模块收光异常",
    ]
    static let keywords = [
        "宕机", "中断", "hang", "bug", "crash", "link down", "如何", "how to", "vlan", "配置", "license", "crash", "闪断",
        "新功能", "led", "rolled back", "breach", "光模块", "x", "2", "café",
    ]

    @Test func keywordSetAgreesWithStringSearch() {
        for text in Self.texts {
            let folded = FeatureExtractor.folded(text)
            let bytes = Array(folded.utf8)
            for keyword in Self.keywords {
                let naive = RuleMatcher.containsKeyword(folded, FeatureExtractor.folded(keyword))
                #expect(KeywordSet([keyword]).matches(bytes) == naive, "\(keyword) in \(text)")
            }
            let naiveAny = Self.keywords.contains { RuleMatcher.containsKeyword(folded, FeatureExtractor.folded($0)) }
            #expect(KeywordSet(Self.keywords).matches(bytes) == naiveAny)
        }
    }

    @Test func shippedRulesClassifyAsBefore() throws {
        let rules = try shippedRules()
        for (index, text) in Self.texts.enumerated() {
            let facts = ReportFacts(
                title: text, description: Self.texts[(index + 3) % Self.texts.count], channel: index % 4 == 0 ? "Monitoring" : "portal",
                alarmCode: index % 5 == 0 ? "alm-1001" : nil, productLine: "routers", region: "cn-north")
            let fast = rules.classifier.classify(facts)
            // The reference: the same rules evaluated with the String keyword search.
            func naive<O>(_ list: [OrderedRule<O>], _ serviceType: ServiceType?) -> String? {
                list.first { rule in
                    var condition = rule.when
                    let keywords = condition.keywords
                    condition.keywords = []
                    let text = FeatureExtractor.folded(facts.title + "\n" + facts.description)
                    return RuleMatcher.matches(condition, facts, serviceType: serviceType)
                        && (keywords.isEmpty || keywords.contains { RuleMatcher.containsKeyword(text, FeatureExtractor.folded($0)) })
                }?.id
            }
            // What no rule decides, the model does (under its step's id).
            #expect(fast.serviceTypeRuleId == naive(rules.classifier.rules.serviceTypeRules, nil) ?? "st.model")
            #expect((fast.decision.by == .model) == (naive(rules.classifier.rules.serviceTypeRules, nil) == nil))
            #expect(fast.impactRuleId == naive(rules.classifier.rules.impactRules, fast.serviceType) ?? "builtin.default")
            #expect(fast.urgencyRuleId == naive(rules.classifier.rules.urgencyRules, fast.serviceType) ?? "builtin.default")
            let assignment = rules.assigner.assign(facts, serviceType: fast.serviceType)
            // (triage aside: the assigner's rules are what is compared here)
            #expect(assignment.ruleId == naive(rules.assigner.rules.groupRules, fast.serviceType) ?? "builtin.default")
        }
    }

    @Test func storedJSONIsWhatTheEncoderWrites() throws {
        let facts: [TicketFact] = [
            .opened, .acknowledged, .resumed, .noted("客户说 \"重启\" 后恢复\n/ok"),
            .classified(serviceType: .softwareFault, priority: .p1, ruleId: "st.software.keywords", rulesVersion: "sha256:ab12"),
            .classified(serviceType: .hardwareFault, priority: .p3, ruleId: "rule/with\"quote", rulesVersion: "v\\1"),
            .assigned(tier: "L1", group: "service-desk-cn"), .assigned(tier: "L2", group: "组/二线"),
            .paused(.waitingCustomer), .escalated(from: "L1", to: "L2", reason: .olaBreach),
            .resolved(Resolution(code: "SW-DEFECT", rootCause: "内存越界", workaround: nil, spareParts: ["02130752"])),
            .closed(.confirmationTimeout), .reopened(reason: "复发"), .cancelled(reason: "dup"), .merged(into: "T-9"),
        ]
        for fact in facts {
            let expected = String(decoding: try TicketRepository.encoder.encode(fact), as: UTF8.self)
            #expect(try FactJSON.encode(fact) == expected)
            #expect(try TicketRepository.decoder.decode(TicketFact.self, from: Data(try FactJSON.encode(fact).utf8)) == fact)
            #expect(try FactJSON.decode(expected) == fact)
        }
        // Texts of another shape (another key order, spaces, escapes) still decode, via the decoder.
        let others: [(String, TicketFact)] = [
            (#"{"assigned":{"tier":"L2","group":"g"}}"#, .assigned(tier: "L2", group: "g")),
            (#"{"assigned": {"group": "g", "tier": "L1"}}"#, .assigned(tier: "L1", group: "g")),
            (#"{"assigned":{"group":"a\"b","tier":"L1"}}"#, .assigned(tier: "L1", group: #"a"b"#)),
            (
                #"{"classified":{"priority":"P2","ruleId":"r\/1","rulesVersion":"v","serviceType":"software-operation"}}"#,
                .classified(serviceType: .softwareOperation, priority: .p2, ruleId: "r/1", rulesVersion: "v")
            ),
        ]
        for (text, fact) in others {
            #expect(try FactJSON.decode(text) == fact)
        }
        #expect(throws: (any Error).self) { try FactJSON.decode(#"{"classified":{"priority":"P9","ruleId":"r","rulesVersion":"v","serviceType":"software-operation"}}"#) }
        let kinds: [PlannedMoment.Kind] = [
            .responseBreach, .slaBreach, .autoClose, .slaWarning(share: 0.75),
            .hierarchical(stepId: "notify-manager", share: 0.5, notify: ["manager", "director"]),
            .olaBreach(tier: "L1", escalateTo: "L2"), .olaBreach(tier: "L3", escalateTo: nil),
        ]
        for kind in kinds {
            let expected = String(decoding: try TicketRepository.encoder.encode(kind), as: UTF8.self)
            #expect(try MomentKindJSON.encode(kind) == expected)
            #expect(try MomentKindJSON.encode(kind) == expected)  // cached
        }
    }
}
