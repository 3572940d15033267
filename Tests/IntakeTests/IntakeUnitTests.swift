import Foundation
import ITRConfig
import ITREvents
import ITRTestSupport
import Testing

@testable import IntakeApp

@Suite struct IntakeUnitTests {
    @Test func ticketIdsAreReadableAndSortByTime() {
        #expect(TicketNumber.utcDay(Date(timeIntervalSince1970: 0)) == "19700101")
        #expect(TicketNumber.utcDay(RFC3339.parse("2026-11-23T23:59:59Z")!) == "20261123")
        #expect(TicketNumber.utcDay(RFC3339.parse("2028-02-29T00:00:00Z")!) == "20280229")
        #expect(TicketNumber.format(day: "20261123", sequence: 123) == "T-20261123-000123")
        let ids = [TicketNumber.format(day: "20261123", sequence: 9), TicketNumber.format(day: "20261123", sequence: 10),
                   TicketNumber.format(day: "20261124", sequence: 1)]
        #expect(ids.sorted() == ids)
    }

    @Test func normalizationPerChannelKeepsTheWords() {
        var email = makeReport(channel: .email, upstreamId: "  E-1 ", summary: "Re: FW: 回复：  机房断电 power loss  ")
        email.description = "  \n  "
        let normalizedEmail = ReportNormalizer.normalize(email)
        #expect(normalizedEmail.summary == "机房断电 power loss")
        #expect(normalizedEmail.upstreamId == "E-1")
        #expect(normalizedEmail.description == nil)
        #expect(normalizedEmail.customer.contact?.phone == "+861088880000")
        #expect(normalizedEmail.customer.contact?.email == "wang.gong@example.cn")

        let phone = makeReport(channel: .phone, upstreamId: "P-1", summary: "RE: 不是邮件")
        #expect(ReportNormalizer.normalize(phone).summary == "RE: 不是邮件")

        var alarm = makeReport(channel: .monitoring, upstreamId: "M-1", alarm: Alarm(code: " OPT-LOS ", device: nil, state: .raised))
        alarm.product.serial = "SN-42"
        let normalizedAlarm = ReportNormalizer.normalize(alarm)
        #expect(normalizedAlarm.alarm == Alarm(code: "OPT-LOS", device: "SN-42", state: .raised))
    }

    @Test func rejectionReasonFollowsTheMostBasicProblem() {
        #expect(ReportRejection(problems: [.init(path: "data", code: .invalidUTF8, message: "")]).reasonCode == "invalid-utf8")
        #expect(ReportRejection(problems: [.init(path: "data", code: .malformedJSON, message: "")]).reasonCode == "malformed-data")
        let schema = ReportRejection(problems: [
            .init(path: "data.summary", code: .missing, message: "x"), .init(path: "data.language", code: .unknownValue, message: "y"),
        ])
        #expect(schema.reasonCode == "validation-failed")
        #expect(schema.message.contains("data.summary: missing") && schema.message.contains("data.language: unknown-value"))
    }

    @Test func shippedConfigurationLoads() throws {
        let policy = try shippedPolicy()
        #expect(policy.configuration.stormWindow == 15 * 60)
        #expect(policy.limits.maxBodyBytes == 262_144)
        #expect(policy.knownAccounts.contains("ACC-1001"))
        #expect(!policy.knownAccounts.contains("ACC-UNKNOWN-42"))
    }

    @Test func invalidIntakeConfigurationNamesFileAndField() throws {
        let directory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".yaml") {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        files["intake.yaml"] = "stormWindow: soon\nlimits:\n  maxAttachmnets: 3\n"
        #expect {
            _ = try ConfigBundle.decode(files: files, directory: "cfg", sections: [IntakeConfiguration.self])
        } throws: { error in
            let text = "\(error)"
            return text.contains("cfg/intake.yaml") && text.contains("stormWindow") && text.contains("maxAttachmnets")
        }
    }
}
