import AMQPClient
import Foundation
import ITREvents
import LTCApp
import ServiceKit
import Testing

@Suite("Merge window, sales status, duplicates and bad input")
struct MergeAndStatusTests {
    @Test func laterSignalsWithinTheWindowUpdateOutsideOpenANewOne() async throws {
        let h = try Harness()
        try await h.deliver(classified("T-1", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-15T03:00:00Z")))
        try await h.deliver(classified("T-2", account: "ACC-1004", type: .hardwareFault, package: "gold", at: t("2026-01-20T03:00:00Z")))
        var found = try await h.opportunities()
        #expect(found.map(\.type) == ["itr.opportunity.identified", "itr.opportunity.updated"])
        #expect(found[1].data.opportunityId == found[0].data.opportunityId)
        #expect(found[1].data.ticketIds == ["T-1", "T-2"])
        #expect(found[1].data.quantity == 1 && found[1].data.estimatedValue?.amount == "380000.00")  // same contract: same unit
        #expect(abs(found[1].data.confidence - 0.75) < 1e-9)
        // New requirements of one account and product: 31 days later is outside the 30-day window.
        let product = Product(line: "optical", model: "OX9600")
        try await h.deliver(
            opened("T-3", account: "ACC-1003", product: product, at: t("2026-03-01T00:00:00Z")),
            classified("T-3", account: "ACC-1003", type: .newRequirement, at: t("2026-03-01T00:01:00Z")),
            opened("T-4", account: "ACC-1003", product: product, at: t("2026-03-20T00:00:00Z")),
            classified("T-4", account: "ACC-1003", type: .newRequirement, at: t("2026-03-20T00:01:00Z")),
            opened("T-5", account: "ACC-1003", product: product, at: t("2026-04-01T00:00:00Z")),
            classified("T-5", account: "ACC-1003", type: .newRequirement, at: t("2026-04-01T00:01:00Z")))
        found = try await h.opportunities()
        let requirement = found.filter { $0.data.kind == .newRequirement }
        #expect(requirement.map(\.type) == ["itr.opportunity.identified", "itr.opportunity.updated", "itr.opportunity.identified"])
        #expect(requirement[1].data.quantity == 2 && requirement[1].data.ticketIds == ["T-3", "T-4"])
        #expect(requirement[2].data.opportunityId != requirement[0].data.opportunityId)
        #expect(try await h.list(OpportunityQuery(account: "ACC-1003")).total == 2)
    }

    @Test func salesStatusIsAppliedAndImpossibleReportsAreRejected() async throws {
        let h = try Harness()
        try await h.deliver(classified("T-1", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-15T03:00:00Z")))
        let id = try #require(try await h.opportunities().first?.data.opportunityId)
        let accepted = statusReport(id, .accepted)
        #expect(try await h.deliver(accepted) == [.processed])
        #expect(try await h.deliver(statusReport(id, .won, value: Money(amount: "360000.00", currency: "CNY"))) == [.processed])
        let events = try await h.emitted()
        #expect(events.count == 3)
        #expect(events[1].type == "itr.opportunity.updated" && events[1].correlationID == id && events[1].causationID == accepted.id)
        let won = try EventCoding.decoder.decode(OpportunityUpdated.self, from: events[2].data!)
        #expect(won.status == .won)
        let stored = try #require(try await h.list(OpportunityQuery(status: .won)).items.first)
        #expect(stored.wonValue?.amount == "360000.00" && stored.statusNote == "销售反馈" && stored.revision == 3)

        let dispositions = try await h.deliver(statusReport(id, .lost), statusReport("OPP-404", .accepted), statusReport(id, .won))
        #expect(dispositions[0] == .invalid(reasonCode: "invalid-transition", message: "an opportunity that is won cannot become lost"))
        #expect(dispositions[1] == .invalid(reasonCode: "unknown-opportunity", message: "no opportunity OPP-404"))
        #expect(dispositions[2] == .processed)  // a repeat of the current status
        #expect(try await h.emitted().count == 3)
        // A signal within the window of a closed opportunity opens nothing.
        try await h.deliver(classified("T-2", account: "ACC-1004", type: .softwareFault, package: "gold", at: t("2026-01-20T03:00:00Z")))
        #expect(try await h.emitted().count == 3)
    }

    @Test func aDuplicateDeliveryHasNoSecondEffect() async throws {
        let h = try Harness()
        let event = classified("T-1", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T00:00:00Z"))
        #expect(try await h.deliver(event, event) == [.processed, .duplicate])
        #expect(try await h.deliver(event) == [.duplicate])
        #expect(try await h.emitted().count == 1)
        #expect(try await h.list().total == 1)
    }

    @Test func malformedAndUnexpectedEventsAreRejectedWithAReasonAndLeaveNoTrace() async throws {
        let h = try Harness()
        var bad = classified("T-1", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T00:00:00Z"))
        bad.data = Data(#"{"ticketId":"T-1","serviceType":"wish","impact":"minor"}"#.utf8)
        let assigned = try CloudEvent(
            source: routerSource, payload: TicketAssigned(ticketId: "T-1", group: "L1-desk", tier: .l1))
        var notCloudEvent = AMQPMessage(body: Data("hello".utf8))
        notCloudEvent.properties.contentType = "text/plain"
        let dispositions = try await h.processor.handle([
            InboundMessage(message: AMQPCloudEventCodec.encode(bad), exchange: "itr.events", routingKey: bad.type),
            InboundMessage(message: AMQPCloudEventCodec.encode(assigned), exchange: "itr.events", routingKey: assigned.type),
            InboundMessage(message: notCloudEvent, exchange: "itr.events", routingKey: "itr.ticket.opened"),
        ])
        guard case .invalid("invalid-data", let reason) = dispositions[0] else {
            Issue.record("expected invalid-data, got \(dispositions[0])")
            return
        }
        #expect(reason.contains("data.serviceType"))
        #expect(dispositions[1] == .invalid(reasonCode: "unexpected-type", message: "ltc-extractor does not consume itr.ticket.assigned"))
        guard case .invalid = dispositions[2] else {
            Issue.record("expected invalid, got \(dispositions[2])")
            return
        }
        // Not claimed: the same id, corrected, is processed.
        let good = classified("T-1", account: "ACC-1001", type: .newRequirement, at: t("2026-03-01T00:00:00Z"), id: bad.id)
        #expect(try await h.deliver(good) == [.processed])
        #expect(try await h.emitted().count == 1)
    }

    @Test func listFiltersAndPages() async throws {
        let h = try Harness()
        for i in 0..<7 {
            try await h.deliver(classified("T-\(i)", account: "ACC-10\(10 + i)", type: .newRequirement, at: t("2026-03-0\(i + 1)T00:00:00Z")))
        }
        let page1 = try await h.list(OpportunityQuery(limit: 3))
        #expect(page1.total == 7 && page1.items.count == 3 && page1.items.first?.account == "ACC-1016")  // newest first
        let page3 = try await h.list(OpportunityQuery(limit: 3, offset: 6))
        #expect(page3.items.map(\.account) == ["ACC-1010"])
        let period = try await h.list(OpportunityQuery(from: t("2026-03-02T00:00:00Z"), to: t("2026-03-04T00:00:00Z")))
        #expect(period.items.map(\.account) == ["ACC-1012", "ACC-1011"])
        #expect(try await h.list(OpportunityQuery(kind: .renewal)).total == 0)

        let parsed = try OpportunityQuery(parameters: [("kind", "parts-quote"), ("from", "2026-03-01"), ("limit", "10")])
        #expect(parsed.kind == .partsQuote && parsed.from == t("2026-03-01T00:00:00Z") && parsed.limit == 10)
        #expect(throws: ProblemDetails.self) { try OpportunityQuery(parameters: [("kind", "gift")]) }
        do {
            _ = try OpportunityQuery(parameters: [("limit", "0"), ("status", "maybe"), ("colour", "red")])
            Issue.record("expected a problem")
        } catch {
            #expect(error.statusCode == 400 && Set(error.problems.map(\.path)) == ["limit", "status", "colour"])
        }
    }
}
