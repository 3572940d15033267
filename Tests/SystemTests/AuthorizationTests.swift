import Foundation
import ITREvents
import ITRTestSupport
import Testing

/// Who may do what over HTTP, checked on the four running services: every endpoint with no
/// token (401), an unknown token (401), every token that lacks the endpoint's scope (403) and
/// every token that holds it (neither); the actor of an action is the token's identity; a
/// customer token reads and confirms its own account's tickets only.
@Suite("authorization on every HTTP endpoint", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct AuthorizationTests {
    /// Identity → (token, scopes as configured).
    static let tokens: [(identity: String, token: String, scopes: String)] = [
        ("auth-portal", "portal-令牌-1", "reports:submit=crm://auth-test/portal"),
        ("auth-reader", "reader-token-2", "tickets:read"),
        ("auth-desk", "desk-token-3", "tickets:read tickets:act"),
        ("auth-customer", "customer-token-4", "customer:confirm=ACC-1001"),
        ("auth-rnd", "rnd-token-5", "defects:read"),
        ("auth-sales", "sales-token-6", "opportunities:read"),
        ("auth-prometheus", "prometheus-token-7", "metrics:read"),
        ("auth-ops", "ops-token-8", "admin"),
    ]

    static func token(_ identity: String) -> String { tokens.first { $0.identity == identity }!.token }

    static func apiTokens() async throws -> String {
        var entries: [String] = []
        for entry in tokens {
            entries.append("\(try await SystemProbe.sha256(entry.token)) \(entry.identity) \(entry.scopes)")
        }
        return entries.joined(separator: ";")
    }

    struct Endpoint: CustomStringConvertible {
        var product: String
        var method: String
        var path: String
        var body: Data?
        var headers: [String: String] = [:]
        /// The identities whose tokens may call it.
        var allowed: Set<String>
        var description: String { "\(product) \(method) \(path)" }
    }

    static func report(account: String, id: String) throws -> (Data, [String: String]) {
        let data = try EventCoding.encode(ReportSubmitted(
            sourceSystem: "crm-portal", channel: .portal, upstreamId: id,
            customer: Customer(account: account, name: "中国联通北京分公司"),
            product: Product(line: "optical", model: "OSN 8800", version: "V100R012"),
            summary: "光模块告警 \(id)", occurredAt: Date().addingTimeInterval(-120), language: .zh))
        let headers = [
            "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": id,
            "ce-source": "crm://auth-test/portal", "ce-type": EventType.reportSubmitted.rawValue,
        ]
        return (data, headers)
    }

    @Test(.timeLimit(.minutes(6)))
    func everyEndpointNeedsItsScope() async throws {
        try TestEnvironment.requireServiceBinaries()
        let url = try await TestEnvironment.makeVhost("authz")
        let fleet = try await SystemFleet.start(url: url, environment: ["API_TOKENS": try await Self.apiTokens(), "LOG_LEVEL": "warning"])
        do {
            try await check(fleet)
        } catch {
            _ = await fleet.stop()
            throw error
        }
        _ = await fleet.stop()
        await TestEnvironment.deleteVhost(url: url)
    }

    func check(_ fleet: SystemFleet) async throws {
        func call(
            _ product: String, _ method: String, _ path: String, token: String?, body: Data? = nil, headers: [String: String] = [:]
        ) async throws -> SystemProbe.Answer {
            var all = headers
            if let token { all["Authorization"] = "Bearer \(token)" }
            if body != nil, all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
            return try await SystemProbe.request(method, port: fleet.service(product).port, path: path, headers: all, body: body)
        }

        // Two tickets: one of the customer's account, one of another.
        var tickets: [String: String] = [:]
        for (account, id) in [("ACC-1001", "auth-own-1"), ("ACC-1002", "auth-other-1")] {
            let (body, headers) = try Self.report(account: account, id: id)
            let answer = try await call("intake", "POST", "/v1/reports", token: Self.token("auth-portal"), body: body, headers: headers)
            #expect(answer.status == 202, "\(answer.text)")
            tickets[account] = try #require(answer.json["ticketId"] as? String)
        }
        let own = try #require(tickets["ACC-1001"]), other = try #require(tickets["ACC-1002"])
        for ticket in [own, other] {
            let known = await eventuallyTrue {
                (try? await call("itr-router", "GET", "/v1/tickets/\(ticket)", token: Self.token("auth-reader")))?.status == 200
            }
            #expect(known, "the router never had \(ticket)")
        }

        let note = Data(#"{"action":"note","note":"备注 from the matrix","actor":{"id":"someone-else","name":"冒名","role":"manager"}}"#.utf8)
        let (report, reportHeaders) = try Self.report(account: "ACC-1003", id: "auth-matrix-1")
        let reads: Set<String> = ["auth-reader", "auth-desk", "auth-ops"]
        let endpoints: [Endpoint] = [
            Endpoint(product: "intake", method: "POST", path: "/v1/reports", body: report, headers: reportHeaders, allowed: ["auth-portal"]),
            Endpoint(product: "itr-router", method: "GET", path: "/v1/tickets/\(own)", allowed: reads.union(["auth-customer"])),
            Endpoint(product: "itr-router", method: "GET", path: "/v1/tickets/\(other)", allowed: reads),
            Endpoint(product: "itr-router", method: "POST", path: "/v1/tickets/\(other)/actions", body: note, allowed: ["auth-desk", "auth-ops"]),
            Endpoint(product: "itr-router", method: "GET", path: "/v1/service-levels", allowed: reads),
            Endpoint(product: "itr-router", method: "GET", path: "/v1/classifier", allowed: reads),
            Endpoint(product: "itr-router", method: "GET", path: "/v1/classifier/corrections", allowed: reads),
            Endpoint(product: "ltc-extractor", method: "GET", path: "/v1/opportunities", allowed: ["auth-sales", "auth-ops"]),
            Endpoint(product: "ipd-feedback", method: "GET", path: "/v1/defects", allowed: ["auth-rnd", "auth-ops"]),
        ] + SystemFleet.products.flatMap { product in
            [
                Endpoint(product: product, method: "GET", path: "/metrics", allowed: ["auth-prometheus", "auth-ops"]),
                Endpoint(product: product, method: "GET", path: "/v1/outbox/parked", allowed: ["auth-ops"]),
                Endpoint(product: product, method: "POST", path: "/v1/outbox/parked/retry", allowed: ["auth-ops"]),
            ]
        }
        for endpoint in endpoints {
            let anonymous = try await call(endpoint.product, endpoint.method, endpoint.path, token: nil, body: endpoint.body, headers: endpoint.headers)
            #expect(anonymous.status == 401, "\(endpoint) without a token: \(anonymous.status) \(anonymous.text)")
            #expect(anonymous.text.contains("\"status\":401"), "\(endpoint): not problem+json: \(anonymous.text)")
            let unknown = try await call(endpoint.product, endpoint.method, endpoint.path, token: "no-such-token", body: endpoint.body, headers: endpoint.headers)
            #expect(unknown.status == 401, "\(endpoint) with an unknown token: \(unknown.status)")
            for entry in Self.tokens {
                let answer = try await call(endpoint.product, endpoint.method, endpoint.path, token: entry.token, body: endpoint.body, headers: endpoint.headers)
                if endpoint.allowed.contains(entry.identity) {
                    #expect((200..<300).contains(answer.status), "\(endpoint) as \(entry.identity): \(answer.status) \(answer.text.prefix(300))")
                } else {
                    #expect(answer.status == 403, "\(endpoint) as \(entry.identity) (\(entry.scopes)): \(answer.status) \(answer.text.prefix(300))")
                    #expect(answer.text.contains("\"status\":403"), "\(endpoint) as \(entry.identity): not problem+json")
                }
            }
        }
        for product in SystemFleet.products {
            for path in ["/healthz", "/readyz"] {
                #expect(try await call(product, "GET", path, token: nil).status == 200, "\(product) \(path) must stay open")
            }
        }

        // The actor is the token's identity, never the body's.
        let view = try await call("itr-router", "GET", "/v1/tickets/\(other)", token: Self.token("auth-reader"))
        #expect(view.text.contains("auth-desk") && view.text.contains("auth-ops"), "\(view.text.prefix(2000))")
        #expect(!view.text.contains("someone-else") && !view.text.contains("冒名"), "the body's actor was recorded: \(view.text.prefix(2000))")

        // A customer token: only its own account's tickets, only confirm (or reopen).
        let customer = Self.token("auth-customer")
        let confirm = Data(#"{"action":"confirm","actor":{"id":"auth-customer"}}"#.utf8)
        let foreign = try await call("itr-router", "POST", "/v1/tickets/\(other)/actions", token: customer, body: confirm)
        #expect(foreign.status == 403 && foreign.text.contains("other-account"), "\(foreign.text)")
        let acknowledge = try await call(
            "itr-router", "POST", "/v1/tickets/\(own)/actions", token: customer, body: Data(#"{"action":"acknowledge"}"#.utf8))
        #expect(acknowledge.status == 403 && acknowledge.text.contains("insufficient-scope"), "\(acknowledge.text)")
        let early = try await call("itr-router", "POST", "/v1/tickets/\(own)/actions", token: customer, body: confirm)
        #expect(early.status == 409 && early.text.contains("not-resolved"), "authorised, refused by the lifecycle: \(early.text)")
        let desk = Self.token("auth-desk")
        for body in [#"{"action":"acknowledge"}"#, #"{"action":"resolve","resolution":{"resolutionCode":"HW-COMPONENT"}}"#] {
            let answer = try await call("itr-router", "POST", "/v1/tickets/\(own)/actions", token: desk, body: Data(body.utf8))
            #expect(answer.status == 200, "\(body): \(answer.text.prefix(500))")
        }
        let confirmed = try await call("itr-router", "POST", "/v1/tickets/\(own)/actions", token: customer, body: confirm)
        #expect(confirmed.status == 200 && confirmed.text.contains(#""state":"closed""#), "\(confirmed.text.prefix(500))")
        #expect(confirmed.text.contains("auth-customer (customer)"), "the confirmation is the customer's: \(confirmed.text.prefix(3000))")
    }

    func eventuallyTrue(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }
}
