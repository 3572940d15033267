import Foundation
import ITREvents
import LTCApp
import ServiceKit
import Testing

/// Each signal through the processor (temporary SQLite, shipped rules), events read from the outbox.
@Suite("Opportunity signals")
struct SignalTests {
    let router = Product(line: "routers", model: "RX8000", version: "V8R12", serial: "2102351", site: "北京亦庄机房")

    @Test func newRequirementIsIdentifiedWithOwnerAndCausation() async throws {
        let h = try Harness()
        let open = opened("T-1", account: "ACC-1001", product: router, at: t("2026-03-01T02:00:00Z"))
        let cls = classified("T-1", account: "ACC-1001", type: .newRequirement, package: "gold", at: t("2026-03-01T02:01:00Z"))
        #expect(try await h.deliver(open, cls) == [.processed, .processed])
        let events = try await h.emitted()
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.type == "itr.opportunity.identified")
        #expect(event.source == OpportunityProcessor.source)
        #expect(event.causationID == cls.id)
        #expect(event.correlationID == "T-1")
        let data = try EventCoding.decoder.decode(OpportunityIdentified.self, from: event.data!)
        #expect(data.kind == .newRequirement && data.account == "ACC-1001")
        #expect(data.product == Product(line: "routers", model: "RX8000"))
        #expect(data.ticketIds == ["T-1"] && data.signals == ["new-requirement"])
        #expect(data.suggestedOwner == "cn-north" && data.status == .open && data.confidence == 0.6)
        #expect(data.estimatedValue == nil && data.quantity == 1)
        #expect(data.validate().isEmpty)
    }

    @Test func complaintsNeverBecomeOpportunities() async throws {
        let h = try Harness()
        // ACC-1004's contract expires 2026-02-28: any other ticket would be a renewal signal.
        try await h.deliver(
            opened("T-C", account: "ACC-1004", product: router, at: t("2026-02-10T01:00:00Z")),
            classified("T-C", account: "ACC-1004", type: .complaint, priority: .p1, package: "gold", at: t("2026-02-10T01:01:00Z")),
            resolved("T-C", account: "ACC-1004", product: router, parts: [SparePart(partNumber: "02310QKM", quantity: 1, inWarranty: false)],
                     type: .complaint, at: t("2026-02-11T01:00:00Z")),
            breached("T-C", account: "ACC-1004", package: "gold", at: t("2026-02-11T02:00:00Z")))
        #expect(try await h.emitted().isEmpty)
        #expect(try await h.list().total == 0)
    }

    @Test func renewalForExpiringAndExpiredContractsNotForRenewedOnes() async throws {
        let h = try Harness()
        try await h.deliver(
            classified("T-R1", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-15T03:00:00Z")),
            classified("T-R2", account: "ACC-1019", type: .softwareFault, package: "bronze", at: t("2026-02-01T03:00:00Z")),
            // ACC-1012 let Silver expire on 2025-12-31 but renewed on Bronze for 2026: nothing to renew.
            classified("T-R3", account: "ACC-1012", type: .softwareFault, package: "bronze", at: t("2026-02-01T03:00:00Z")))
        let found = try await h.opportunities()
        #expect(found.count == 2)
        let expiring = try #require(found.first { $0.data.account == "ACC-1004" }?.data)
        #expect(expiring.kind == .renewal && expiring.signals == ["contract-expiring"])
        #expect(expiring.estimatedValue == Money(amount: "380000.00", currency: "CNY"))
        #expect(expiring.priceLines.map(\.offering) == ["RNW-GOLD"])
        #expect(expiring.confidence == 0.7 && expiring.suggestedOwner == "cn-east")
        #expect(expiring.reasons.first?.contains("2026-02-28") == true)
        let expired = try #require(found.first { $0.data.account == "ACC-1019" }?.data)
        #expect(expired.confidence == 0.85 && expired.estimatedValue?.amount == "90000.00" && expired.suggestedOwner == "cn-west")
    }

    @Test func partsQuoteOutOfWarrantyOrContractPricedPerPartNumber() async throws {
        let h = try Harness()
        let switchProduct = Product(line: "switches", model: "SX6800", version: "V2R5", site: "苏州园区")
        try await h.deliver(
            // Bronze has no spare-parts offering: out of contract.
            resolved("T-P1", account: "ACC-1016", product: switchProduct,
                     parts: [SparePart(partNumber: "02130752", quantity: 2)], at: t("2026-03-02T08:00:00Z")),
            // Gold covers parts: only the part stated out of warranty counts; unknown part kept without price.
            resolved("T-P2", account: "ACC-1001", product: router,
                     parts: [SparePart(partNumber: "02310QKM", quantity: 1, inWarranty: false),
                             SparePart(partNumber: "02310QKN", quantity: 3, inWarranty: true),
                             SparePart(partNumber: "99999999", quantity: 1, inWarranty: false),
                             SparePart(partNumber: "03031ABC", quantity: 1)],
                     at: t("2026-03-02T09:00:00Z")))
        let found = try await h.opportunities()
        #expect(found.count == 2)
        let bronze = try #require(found.first { $0.data.account == "ACC-1016" }?.data)
        #expect(bronze.kind == .partsQuote && bronze.quantity == 2)
        #expect(bronze.priceLines == [PriceLine(offering: "SP-SW-PSU-600", description: "SX6800 600W power supply", quantity: 2,
                                                unitPrice: Money(amount: "3100.00", currency: "CNY"))])
        #expect(bronze.estimatedValue == Money(amount: "6200.00", currency: "CNY"))
        #expect(bronze.reasons.first?.contains("bronze has no spare-parts-nbd") == true)
        let gold = try #require(found.first { $0.data.account == "ACC-1001" }?.data)
        #expect(gold.quantity == 2 && gold.estimatedValue?.amount == "8600.00")
        #expect(gold.reasons.contains { $0.contains("99999999") && $0.contains("not in the price list") })
        #expect(!gold.reasons.contains { $0.contains("02310QKN") || $0.contains("03031ABC") })
    }

    @Test func expansionWhenCapacityAlarmsRecurOnOneSite() async throws {
        let h = try Harness()
        let storage = Product(line: "storage", model: "OS5000", version: "6.1.7", serial: "S1", site: "上海张江数据中心")
        let capacity = Alarm(code: "CAP-POOL-USAGE", device: "OS5000-01", state: .raised)
        try await h.deliver(
            opened("T-E1", account: "ACC-1002", product: storage, at: t("2026-03-01T00:00:00Z"), alarm: capacity),
            opened("T-E2", account: "ACC-1002", product: storage, at: t("2026-03-03T00:00:00Z"),
                   alarm: Alarm(code: "HW-DISK-FAIL", state: .raised)),
            opened("T-E3", account: "ACC-1002", product: storage, at: t("2026-03-05T00:00:00Z"), alarm: capacity))
        #expect(try await h.emitted().isEmpty)  // two capacity alarms: below the threshold of 3
        try await h.deliver(opened("T-E4", account: "ACC-1002", product: storage, at: t("2026-03-08T00:00:00Z"), alarm: capacity))
        let found = try await h.opportunities()
        #expect(found.count == 1)
        let data = try #require(found.first?.data)
        #expect(data.kind == .expansion && data.ticketIds == ["T-E1", "T-E3", "T-E4"])
        #expect(data.estimatedValue == Money(amount: "9800.00", currency: "CNY") && data.priceLines.first?.offering == "SP-ST-SSD-3T84")
        // A folded repeat on a ticket already counted changes nothing visible: no update.
        let repeatAlarm = try CloudEvent(
            source: intakeSource,
            payload: TicketCorrelated(ticketId: "T-E4", reportId: "r-x", upstreamId: "u-x", alarmCode: "CAP-POOL-USAGE", count: 2,
                                      firstSeenAt: t("2026-03-08T00:00:00Z"), lastSeenAt: t("2026-03-08T01:00:00Z"), cleared: false))
        try await h.deliver(repeatAlarm)
        #expect(try await h.emitted().count == 1)
        // Another site of the same account and product: the same opportunity, quantity 2.
        var other = storage
        other.site = "上海外高桥机房"
        for (i, day) in ["10", "11", "12"].enumerated() {
            try await h.deliver(opened("T-F\(i)", account: "ACC-1002", product: other, at: t("2026-03-\(day)T00:00:00Z"), alarm: capacity))
        }
        let all = try await h.opportunities()
        #expect(all.count == 2)
        #expect(all[1].type == "itr.opportunity.updated" && all[1].data.opportunityId == data.opportunityId)
        #expect(all[1].data.quantity == 2 && all[1].data.estimatedValue?.amount == "19600.00")
    }

    @Test func upgradeForRepeatedIncidentsOnAVersionPastEndOfSupport() async throws {
        let h = try Harness()
        for i in 1...3 {
            let product = Product(line: "routers", model: "RX8000", version: "V8R9", serial: "SN-\(i)", site: "济南")
            let at = t("2026-02-0\(i)T04:00:00Z")
            try await h.deliver(
                opened("T-U\(i)", account: "ACC-1009", product: product, at: at),
                classified("T-U\(i)", account: "ACC-1009", type: i == 2 ? .hardwareFault : .softwareFault, package: "silver",
                           at: at.addingTimeInterval(60)))
        }
        // A supported version does not count.
        try await h.deliver(
            opened("T-U9", account: "ACC-1009", product: router, at: t("2026-02-04T04:00:00Z")),
            classified("T-U9", account: "ACC-1009", type: .softwareFault, package: "silver", at: t("2026-02-04T04:01:00Z")))
        let found = try await h.opportunities()
        #expect(found.count == 1)
        let data = try #require(found.first?.data)
        #expect(data.kind == .upgrade && data.ticketIds == ["T-U1", "T-U2", "T-U3"] && data.quantity == 3)
        #expect(data.product == Product(line: "routers", model: "RX8000", version: "V8R9"))
        #expect(data.estimatedValue == Money(amount: "45000.00", currency: "CNY"))
        #expect(data.reasons.first?.contains("2025-12-31") == true && data.suggestedOwner == "cn-north")
    }

    @Test func packageUpgradeAfterManyHighPriorityTicketsOrBreaches() async throws {
        let h = try Harness()
        var events = (1...3).map {
            classified("T-K\($0)", account: "ACC-1007", type: .softwareFault, priority: .p2, package: "silver",
                       at: t("2026-03-0\($0)T01:00:00Z"))
        }
        events.append(breached("T-K1", account: "ACC-1007", package: "silver", at: t("2026-03-04T01:00:00Z")))  // same ticket again
        events.append(classified("T-K4", account: "ACC-1007", type: .softwareFault, priority: .p4, package: "silver", at: t("2026-03-04T02:00:00Z")))
        try await h.deliver(events)
        #expect(try await h.emitted().isEmpty)  // three tickets so far
        try await h.deliver(breached("T-K4", account: "ACC-1007", package: "silver", at: t("2026-03-05T01:00:00Z")))
        #expect(try await h.emitted().isEmpty)
        try await h.deliver(breached("T-K5", account: "ACC-1007", package: "silver", at: t("2026-03-06T01:00:00Z")))
        let found = try await h.opportunities()
        #expect(found.count == 1)
        let data = try #require(found.first?.data)
        #expect(data.kind == .packageUpgrade && data.ticketIds.count == 5 && data.product == nil)
        #expect(data.priceLines.first?.offering == "UPG-SILVER-GOLD" && data.estimatedValue?.amount == "150000.00")
        #expect(data.reasons.first?.contains("offer gold") == true && data.suggestedOwner == "cn-east")
        // Gold has nowhere to go.
        let gold = try Harness()
        for i in 1...6 {
            try await gold.deliver(classified("T-G\(i)", account: "ACC-1001", type: .softwareFault, priority: .p1, package: "gold",
                                              at: t("2026-03-0\(i)T01:00:00Z")))
        }
        #expect(try await gold.emitted().isEmpty)
    }
}
