import Foundation
import ITRTestSupport
import Testing

@testable import ServiceKit

@Suite struct TokenAuthenticatorTests {
    @Test func hashIsSHA256Hex() {
        #expect(TokenAuthenticator.hash(token: "test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    }

    func authenticator() throws -> TokenAuthenticator {
        let text = """
            # upstream CRM
            \(TokenAuthenticator.hash(token: "crm-secret")) /crm/eu,/crm/cn
            \(TokenAuthenticator.hash(token: "ops-secret")) *   # operators

            """
        return try TokenAuthenticator(parsing: text, origin: "tokens.txt")
    }

    @Test func decisions() throws {
        let auth = try authenticator()
        #expect(auth.grants.count == 2)
        #expect(auth.decide(authorization: "Bearer crm-secret", source: "/crm/cn") == .allowed(entry: 0))
        #expect(auth.decide(authorization: "bearer crm-secret", source: "/crm/eu") == .allowed(entry: 0))
        guard case .forbidden = auth.decide(authorization: "Bearer crm-secret", source: "/monitoring") else {
            Issue.record("expected 403")
            return
        }
        #expect(auth.decide(authorization: "Bearer ops-secret", source: "/anything/监控") == .allowed(entry: 1))
        guard case .unauthorized = auth.decide(authorization: nil, source: "/crm/cn"),
            case .unauthorized = auth.decide(authorization: "Bearer wrong", source: "/crm/cn"),
            case .unauthorized = auth.decide(authorization: "Basic Y3JtLXNlY3JldA==", source: "/crm/cn")
        else {
            Issue.record("expected 401")
            return
        }
    }

    @Test func problemStatuses() throws {
        let auth = try authenticator()
        #expect(throws: ProblemDetails.self) { try auth.authenticate(authorization: "Bearer nope") }
        do {
            _ = try auth.authenticate(authorization: nil)
        } catch {
            #expect(error.statusCode == 401)
            #expect(error.extraHeaders["WWW-Authenticate"] == "Bearer")
        }
        let grant = try auth.authenticate(authorization: "Bearer crm-secret")
        do {
            try grant.authorize(source: "/erp")
            Issue.record("expected 403")
        } catch {
            #expect(error.statusCode == 403)
        }
    }

    @Test func noTokensMeansEveryoneIsRefused() throws {
        let auth = try TokenAuthenticator.fromEnvironment([:])
        guard case .unauthorized = auth.decide(authorization: "Bearer x", source: "/a") else {
            Issue.record("expected 401")
            return
        }
    }

    @Test func environmentAndFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID()).txt")
        try "\(TokenAuthenticator.hash(token: "file-token")) /file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let auth = try TokenAuthenticator.fromEnvironment([
            "API_TOKENS_FILE": file.path,
            "API_TOKENS": "\(TokenAuthenticator.hash(token: "a")) /a;\(TokenAuthenticator.hash(token: "b")) /b,/c",
        ])
        #expect(auth.grants.count == 3)
        #expect(auth.decide(authorization: "Bearer file-token", source: "/file") == .allowed(entry: 0))
        #expect(auth.decide(authorization: "Bearer b", source: "/c") == .allowed(entry: 2))
    }

    @Test func malformedConfigurationNamesTheLine() {
        do {
            _ = try TokenAuthenticator(parsing: "# ok\nnot-hex /a\n", origin: "tokens.txt")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.description.hasPrefix("tokens.txt:2:"))
        }
        #expect(throws: TokenAuthenticator.ConfigurationError.self) {
            try TokenAuthenticator(parsing: TokenAuthenticator.hash(token: "x"), origin: "API_TOKENS")
        }
    }

    @Test func constantTimeEquality() {
        #expect(TokenAuthenticator.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!TokenAuthenticator.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!TokenAuthenticator.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    // MARK: Scoped tokens

    func h(_ token: String) -> String { TokenAuthenticator.hash(token: token) }

    @Test func scopedEntriesCarryIdentityScopesAndBindings() throws {
        let auth = try TokenAuthenticator(
            parsing: """
                # who       what
                \(h("desk")) desk.wang tickets:read tickets:act   # the desk
                \(h("acme")) acme-portal customer:confirm=ACC-1003,ACC-1004
                \(h("crm")) crm-eu reports:submit=/crm/eu,/crm/cn
                \(h("ops")) ops admin
                \(h("old")) /legacy,/other
                """, origin: "tokens.txt")
        #expect(auth.grants.map(\.identity) == ["desk.wang", "acme-portal", "crm-eu", "ops", "token-" + h("old").prefix(8)])
        let desk = try auth.authorize(authorization: "Bearer desk", anyOf: [.ticketsAct])
        #expect(desk.has(.ticketsRead) && !desk.has(.metricsRead) && !desk.has(.reportsSubmit) && desk.accounts.isEmpty)
        let acme = try auth.authenticate(authorization: "Bearer acme")
        #expect(acme.actsFor(account: "ACC-1004") && !acme.actsFor(account: "ACC-1005") && !acme.has(.ticketsRead))
        let crm = try auth.authenticate(authorization: "Bearer crm")
        #expect(crm.allows(source: "/crm/cn") && !crm.allows(source: "/crm") && !crm.has(.ticketsRead))
        // admin: the operational endpoints and every unbound scope, never someone's sources or accounts.
        let ops = try auth.authenticate(authorization: "Bearer ops")
        for scope in TokenAuthenticator.Scope.impliedByAdmin { #expect(ops.has(scope)) }
        #expect(!ops.has(.reportsSubmit) && !ops.has(.customerConfirm) && ops.has(.admin))
        // the older two-field form: reports from those sources, nothing else.
        let old = try auth.authenticate(authorization: "Bearer old")
        #expect(old.allows(source: "/other") && old.has(.reportsSubmit) && !old.has(.ticketsRead))
        #expect(auth.decide(authorization: "Bearer old", source: "/legacy") == .allowed(entry: 4))
    }

    @Test func aMissingScopeIs403AndNoTokenIs401() throws {
        let auth = try TokenAuthenticator(parsing: "\(h("reader")) reader tickets:read", origin: "t")
        do {
            _ = try auth.authorize(authorization: "Bearer reader", anyOf: [.ticketsAct, .customerConfirm])
            Issue.record("expected 403")
        } catch {
            #expect(error.statusCode == 403)
            #expect(error.detail?.contains("reader") == true && error.detail?.contains("tickets:act or customer:confirm") == true)
            #expect(error.type.hasSuffix("insufficient-scope"))
        }
        for header in [nil, "Bearer nope", "Basic cmVhZGVy"] as [String?] {
            do {
                _ = try auth.authorize(authorization: header, anyOf: [.ticketsRead])
                Issue.record("expected 401 for \(header ?? "nil")")
            } catch {
                #expect(error.statusCode == 401)
            }
        }
        // a reader has no reports:submit: 403 before any source is looked at
        let reader = try auth.authenticate(authorization: "Bearer reader")
        #expect(throws: ProblemDetails.self) { try reader.authorize(source: "/any") }
        #expect(auth.decide(authorization: "Bearer reader", source: "/any") == .forbidden("the token of reader lacks the scope reports:submit"))
    }

    @Test func everyMistakeInAnEntryIsNamedWithItsLine() {
        let cases: [(String, String)] = [
            ("\(h("a")) desk tickets:write", "unknown scope \"tickets:write\""),
            ("\(h("a")) desk tickets:read=ACC-1", "scope tickets:read takes no value"),
            ("\(h("a")) portal reports:submit", "needs the sources"),
            ("\(h("a")) acme customer:confirm=", "needs the accounts"),
            ("\(h("a")) acme customer:confirm=*", "never *"),
            ("\(h("a")) desk tickets:read tickets:read", "given twice"),
            ("\(h("a")) de$k tickets:read", "identity \"de$k\""),
            ("\(h("a")) \(String(repeating: "x", count: 65)) tickets:read", "1 to 64"),
            ("\(h("a")) desk tickets:read\n\(h("b")) desk admin", "already the name of entry 1"),
            ("\(h("a")) desk tickets:read\n\(h("a")) ops admin", "configured twice"),
            ("\(h("a"))", "expected \"<sha256 hex> <identity>"),
        ]
        for (text, message) in cases {
            do {
                _ = try TokenAuthenticator(parsing: "# tokens\n" + text, origin: "tokens.txt")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(message), "\(text) → \(error)")
                #expect(error.line >= 2, "\(text) → line \(error.line)")
            }
        }
    }

    @Test func fileAndInlineEntriesMustNotConfigureATokenTwice() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID()).txt")
        try "\(h("ops")) ops admin\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: TokenAuthenticator.ConfigurationError.self) {
            try TokenAuthenticator.fromEnvironment(["API_TOKENS_FILE": file.path, "API_TOKENS": "\(h("other")) ops tickets:read"])
        }
        do {
            _ = try TokenAuthenticator.fromEnvironment(["API_TOKENS_FILE": "/nonexistent/tokens"])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("API_TOKENS_FILE") && "\(error)".contains("/nonexistent/tokens"))
        }
    }

    @Test func aSemicolonInAFileCommentStartsNoEntry() throws {
        let auth = try TokenAuthenticator(
            parsing: "# desk; ops; and the rest\n\(h("desk")) desk tickets:read # read; not act\n", origin: "/run/secrets/api_tokens", semicolons: false)
        #expect(auth.grants.map(\.identity) == ["desk"])
        let inline = try TokenAuthenticator(parsing: "\(h("a")) a tickets:read;\(h("b")) b admin", origin: "API_TOKENS")
        #expect(inline.grants.map(\.identity) == ["a", "b"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID()).txt")
        try "# a; b\n\(h("ops")) ops admin # ops; all\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try TokenAuthenticator.fromEnvironment(["API_TOKENS_FILE": file.path]).grants.map(\.identity) == ["ops"])
    }

    @Test func theTestSuitesOpsTokenHashIsRight() {
        #expect(TokenAuthenticator.hash(token: TestTokens.ops) == TestTokens.opsHash)
    }
}
