import Foundation
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
}
