import Foundation
import ITRConfig
import ITRCtlKit
import ITRTestSupport
import ServiceKit
import Testing

/// deploy/rabbitmq/users.json is what `itrctl topology users` prints, and the rights in it are
/// exactly what each user needs (the broker test BrokerAccessTests runs the services with them).
@Suite struct BrokerUsersFileTests {
    @Test func shippedFileIsTheGeneratedOne() throws {
        let path = TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/users.json")
        let shipped = try String(contentsOf: path, encoding: .utf8)
        #expect(shipped == (try BrokerUsers.definitionsJSON()), "regenerate: itrctl topology users > deploy/rabbitmq/users.json")
        #expect(!shipped.contains("password"), "users.json holds no password or hash: the deployment adds them")
        #expect(!shipped.contains("guest"))
    }

    func matches(_ pattern: String, _ name: String) -> Bool {
        guard !pattern.isEmpty else { return false }
        return name.range(of: pattern, options: .regularExpression) != nil
    }

    @Test func eachServiceMayTouchItsOwnQueuesAndNoOneElses() {
        for entry in ITRTopology.serviceQueues {
            let p = BrokerUsers.permission(forService: entry.product)
            #expect(matches(p.read, entry.queue), "\(entry.product) consumes its queue")
            #expect(matches(p.configure, entry.queue) && matches(p.configure, entry.queue + ".dlq"))
            #expect(matches(p.write, "itr.events") && matches(p.write, "itr.dlx"), "\(entry.product) publishes events and dead letters")
            #expect(!matches(p.write, "itr.ingress"), "\(entry.product) publishes nothing on itr.ingress")
            #expect(matches(p.write, "amq.default") == (entry.product == "intake"), "only intake keeps copies in itr.rejected")
            for other in ITRTopology.serviceQueues where other.product != entry.product {
                #expect(!matches(p.read, other.queue), "\(entry.product) may not consume \(other.queue)")
                #expect(!matches(p.configure, other.queue) && !matches(p.write, other.queue))
            }
            for feed in ["feed.defects", "feed.opportunities"] { #expect(!matches(p.read, feed), "\(entry.product) reads \(feed)") }
            #expect(!matches(p.configure, "itr.events-x") && !matches(p.configure, "xitr.events"), "anchored patterns")
        }
        #expect(BrokerUsers.exactly(["a.b", "c|d", ""]) == #"^(a\.b|amq\.default|c\|d)$"#)
        #expect(BrokerUsers.exactly([]) == "")
    }

    @Test func outsideRolesPublishOnlyTheirRoutingKeys() {
        let topics = Dictionary(uniqueKeysWithValues: BrokerUsers.topicPermissions.map { ($0.user, $0) })
        #expect(matches(topics["itr-desk"]?.write ?? "", "ticket.confirm") && !matches(topics["itr-desk"]?.write ?? "", "report.portal"))
        #expect(matches(topics["itr-upstream"]?.write ?? "", "report.alarm") && !matches(topics["itr-upstream"]?.write ?? "", "ticket.resolve"))
        #expect(matches(topics["itr-rnd"]?.write ?? "", "defect.accepted") && !matches(topics["itr-rnd"]?.write ?? "", "ticket.close"))
        let permissions = Dictionary(uniqueKeysWithValues: BrokerUsers.permissions.map { ($0.user, $0) })
        #expect(Set(permissions.keys) == Set(BrokerUsers.names))
        #expect(matches(permissions["itr-sales"]?.read ?? "", "feed.opportunities") && !matches(permissions["itr-sales"]?.read ?? "", "feed.defects"))
        #expect(matches(topics["itr-sales"]?.write ?? "", "opportunity.won") && !matches(topics["itr-sales"]?.write ?? "", "ticket.note"))
        #expect((permissions["itr-upstream"]?.configure ?? "").isEmpty && (permissions["itr-sales"]?.configure ?? "").isEmpty)
    }

    @Test func accessYAMLIsValidatedWithFileLineAndField() throws {
        func decode(_ yaml: String) throws -> BrokerActors {
            var files: [String: String] = [:]
            let directory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".yaml") {
                files[name] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            }
            files[BrokerActors.fileName] = yaml
            return try ConfigBundle.decode(files: files, directory: "cfg", sections: [BrokerActors.self]).section(BrokerActors.self)
        }
        let shipped = try decode(String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/config/access.yaml"), encoding: .utf8))
        #expect(shipped.entry(forUser: "itr-desk")?.actor == "service-desk-tools")
        #expect(shipped.entry(forUser: "guest") == nil && shipped.entry(forUser: nil) == nil)
        let limited = try decode("brokerActors:\n  - user: portal\n    actor: customer-portal\n    actions: [confirm, reopen]\n")
        #expect(limited.entry(forUser: "portal")?.allows(.confirm) == true && limited.entry(forUser: "portal")?.allows(.resolve) == false)
        for (yaml, message) in [
            ("brokerActors:\n  - user: a\n    actor: b\n    actions: [fly]\n", "unknown action \"fly\""),
            ("brokerActors:\n  - user: a\n    actor: b\n  - user: a\n    actor: c\n", "listed twice"),
            ("brokerActors:\n  - user: a\n", "actor"),
            ("brokerActors:\n  - user: a\n    actor: b\n    role: x\n", "role"),
        ] {
            do {
                _ = try decode(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect("\(error)".contains("cfg/access.yaml:") && "\(error)".contains(message), "\(yaml) → \(error)")
            }
        }
    }
}
