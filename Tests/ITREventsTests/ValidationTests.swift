import Foundation
import ITREvents
import Testing

@Suite struct ValidationTests {
    static let now = RFC3339.parse("2025-03-01T12:00:00Z")!

    /// The sample report as a JSON object we can break field by field.
    func reportJSON() throws -> [String: Any] {
        let data = try EventCoding.encode(Samples.report)
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func problems(_ object: Any, type: EventType = .reportSubmitted) throws -> [ValidationProblem] {
        let data = try JSONSerialization.data(withJSONObject: object)
        return problems(data: data, type: type)
    }

    func problems(data: Data, type: EventType = .reportSubmitted) -> [ValidationProblem] {
        let event = CloudEvent(source: "//t", type: type.rawValue, datacontenttype: "application/json", data: data)
        func run<P: EventPayload>(_: P.Type) -> [ValidationProblem] {
            switch event.decodePayload(P.self, now: Self.now) {
            case .success: return []
            case .failure(let f): return f.problems
            }
        }
        return run(type.payloadType!)
    }

    func expectProblem(_ found: [ValidationProblem], _ path: String, _ code: ValidationProblem.Code,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(found.contains { $0.path == path && $0.code == code },
                "expected \(path) \(code), got \(found)", sourceLocation: sourceLocation)
    }

    @Test func sampleIsValid() throws {
        #expect(try problems(reportJSON()).isEmpty)
    }

    @Test func decodingErrorsBecomePathsAndCodes() throws {
        var r = try reportJSON()
        var customer = r["customer"] as! [String: Any]
        customer["account"] = nil
        r["customer"] = customer
        expectProblem(try problems(r), "data.customer.account", .missing)

        r = try reportJSON()
        r["channel"] = "fax"
        expectProblem(try problems(r), "data.channel", .unknownValue)

        r = try reportJSON()
        var atts = r["attachments"] as! [[String: Any]]
        atts.append(["uri": "https://x/1"])
        atts.append(["uri": 42])
        r["attachments"] = atts
        expectProblem(try problems(r), "data.attachments[2].uri", .wrongType)

        r = try reportJSON()
        r["occurredAt"] = "yesterday"
        expectProblem(try problems(r), "data.occurredAt", .invalidFormat)

        r = try reportJSON()
        r["summary"] = NSNull()
        expectProblem(try problems(r), "data.summary", .missing)

        r = try reportJSON()
        r["product"] = "OSN"
        expectProblem(try problems(r), "data.product", .wrongType)

        expectProblem(problems(data: Data("{\"a\":".utf8)), "data", .malformedJSON)
        expectProblem(problems(data: Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])), "data", .invalidUTF8)
        expectProblem(problems(data: Data("[]".utf8)), "data", .wrongType)
    }

    /// Issue 12: the description becomes the `x-itr-reason` header of a rejection; it stays
    /// small however long the values quoted and however many the problems.
    @Test func failureDescriptionsStaySmallWhateverTheInput() throws {
        var r = try reportJSON()
        r["channel"] = String(repeating: "传真", count: 40_000)  // 240 KB: under the body limit
        let quoted = ValidationFailure(try problems(r))
        #expect(quoted.problems.map(\.code) == [.unknownValue])
        #expect(quoted.problems[0].message.count > 80_000)  // kept whole for the problem+json answer
        #expect(quoted.description.count < 500, "\(quoted.description.prefix(600))")

        r = try reportJSON()
        r["attachments"] = (0..<20).map { ["uri": "not a uri \($0)"] }
        r["summary"] = " "
        let many = ValidationFailure(try problems(r))
        #expect(many.problems.count > ValidationFailure.listedProblems)
        #expect(many.description.hasSuffix("; and \(many.problems.count - ValidationFailure.listedProblems) more"))
        #expect(many.description.components(separatedBy: "; ").count == ValidationFailure.listedProblems + 1)
    }

    @Test func ruleViolationsAreAllReported() throws {
        var r = try reportJSON()
        r["summary"] = String(repeating: "长", count: 513)
        r["upstreamId"] = "   "
        r["occurredAt"] = "2025-03-02T12:00:00Z"
        r["alarm"] = nil
        r["attachments"] = (0..<21).map { ["uri": "https://files/\($0)"] }
        var customer = r["customer"] as! [String: Any]
        customer["contact"] = ["email": "not-an-address"]
        r["customer"] = customer
        let found = try problems(r)
        expectProblem(found, "data.summary", .tooLong)
        expectProblem(found, "data.upstreamId", .empty)
        expectProblem(found, "data.occurredAt", .futureTimestamp)
        expectProblem(found, "data.alarm", .missing)
        expectProblem(found, "data.attachments", .tooMany)
        expectProblem(found, "data.customer.contact.email", .invalidFormat)
        #expect(found.count == 6)

        r = try reportJSON()
        r["occurredAt"] = "1990-01-01T00:00:00Z"
        r["attachments"] = [["uri": "not a uri"], ["uri": "https://ok", "size": -1]]
        let more = try problems(r)
        expectProblem(more, "data.occurredAt", .absurdTimestamp)
        expectProblem(more, "data.attachments[0].uri", .invalidFormat)
        expectProblem(more, "data.attachments[1].size", .outOfRange)
    }

    @Test func chineseSummaryCountsCharactersNotBytes() throws {
        var r = try reportJSON()
        r["summary"] = String(repeating: "长", count: 512)  // 1536 UTF-8 bytes, 512 characters
        #expect(try problems(r).isEmpty)
    }

    @Test func actionsNeedTheirFields() throws {
        let actor = ["id": "eng-1"]
        expectProblem(try problems(["ticketId": "T-1", "action": "pause", "actor": actor], type: .ticketAction),
                      "data.pauseReason", .missing)
        expectProblem(try problems(["ticketId": "T-1", "action": "resolve", "actor": actor], type: .ticketAction),
                      "data.resolution", .missing)
        expectProblem(try problems(["ticketId": "T-1", "action": "fly", "actor": actor], type: .ticketAction),
                      "data.action", .unknownValue)
        expectProblem(try problems(["ticketId": "T-1", "action": "pause", "actor": actor, "pauseReason": "lunch"],
                                   type: .ticketAction), "data.pauseReason", .unknownValue)
        let resolve: [String: Any] = [
            "ticketId": "T-1", "action": "resolve", "actor": actor,
            "resolution": ["resolutionCode": "fixed", "spareParts": [["partNumber": "P", "quantity": 0]]],
        ]
        expectProblem(try problems(resolve, type: .ticketAction), "data.resolution.spareParts[0].quantity", .outOfRange)
        expectProblem(try problems(["defectId": "D-1", "status": "duplicate"], type: .defectStatus),
                      "data.duplicateOf", .missing)
        expectProblem(try problems(["opportunityId": "O", "status": "won", "value": ["amount": "12,5", "currency": "rmb"]],
                                   type: .opportunityStatus), "data.value.amount", .invalidFormat)
        expectProblem(try problems(["opportunityId": "O", "status": "won", "value": ["amount": "12.5", "currency": "rmb"]],
                                   type: .opportunityStatus), "data.value.currency", .invalidFormat)
    }

    @Test func envelopeProblems() {
        let wrongType = CloudEvent(source: "//t", type: "itr.ticket.action", data: Data("{}".utf8))
        guard case .failure(let f) = wrongType.decodePayload(ReportSubmitted.self) else {
            Issue.record("expected failure")
            return
        }
        #expect(f.problems.first?.path == "type")
        let noData = CloudEvent(source: "//t", type: "itr.report.submitted")
        guard case .failure(let g) = noData.decodePayload(ReportSubmitted.self) else { return }
        #expect(g.problems.first == ValidationProblem(path: "data", code: .missing, message: "event has no data"))
        let xml = CloudEvent(source: "//t", type: "itr.report.submitted", datacontenttype: "application/xml", data: Data("<a/>".utf8))
        guard case .failure(let h) = xml.decodePayload(ReportSubmitted.self) else { return }
        #expect(h.problems.first?.path == "datacontenttype")
        var bad = CloudEvent(id: "", source: "//t", type: "t", time: Date(timeIntervalSince1970: 0))
        bad.extensions["BAD"] = "x"
        let found = bad.validate()
        #expect(found.contains { $0.path == "id" && $0.code == .missing })
        #expect(found.contains { $0.path == "time" && $0.code == .absurdTimestamp })
        #expect(found.contains { $0.path == "BAD" })
    }

    @Test func unknownFieldsAreIgnoredAndArraysDefault() throws {
        var r = try reportJSON()
        r["futureField"] = ["x": 1]
        r["attachments"] = nil
        let data = try JSONSerialization.data(withJSONObject: r)
        let report = try EventCoding.decode(ReportSubmitted.self, from: data).get()
        #expect(report.attachments.isEmpty)
        #expect(report.summary == Samples.report.summary)
    }

    @Test func everySampleIsValidAndRoundTrips() throws {
        for (type, payload) in try Samples.all() {
            #expect(payload.validate(limits: .default, now: Self.now).isEmpty, "\(type)")
            let event = try CloudEvent(source: "//t", payload: payload)
            #expect(event.type == type.rawValue)
            #expect(problems(data: event.data!, type: type).isEmpty, "\(type)")
        }
    }
}
