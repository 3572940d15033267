import Crypto
import Foundation

/// Bearer-token authentication and authorisation for every HTTP endpoint: each token has an
/// identity (who acts; the actor of what it does) and scopes (what it may do).
///
/// Tokens are never stored in clear: the configuration holds the SHA-256 of each token
/// (64 hex digits), the identity and the scopes, some bound to values:
///
///     # <sha256 hex>  <identity>  <scope>[=<value>,...] ...
///     9f86d0...0a08 crm-eu       reports:submit=/crm/eu,/crm/cn
///     2c26b4...e7ae desk.wang    tickets:read tickets:act
///     fcde2b...2f2e acme-portal  customer:confirm=ACC-1003,ACC-1004
///     a591a6...d9b4 prometheus   metrics:read
///     (older form, still read: <sha256 hex> <source>[,<source>...] = reports:submit for those
///     sources, identity "token-<n>")
///
/// Scopes (``Scope``): `reports:submit=<sources>` (`*` = any source), `tickets:read`,
/// `tickets:act`, `customer:confirm=<accounts>`, `defects:read`, `opportunities:read`,
/// `metrics:read`, `admin` (the operational endpoints, and every unbound scope).
/// One entry per line (or separated by `;` in the `API_TOKENS` variable); blank lines and
/// `#` comments are ignored. Compute a hash with `printf %s TOKEN | sha256sum`.
/// With no entry configured every request is refused (401).
public struct TokenAuthenticator: Sendable {
    /// What a token may do. Some scopes are bound to values (sources, accounts).
    public enum Scope: String, Sendable, Hashable, CaseIterable, Comparable {
        /// `POST /v1/reports` with the bound CloudEvent sources (`*`: any).
        case reportsSubmit = "reports:submit"
        /// Ticket views, service levels, the classifier and its corrections.
        case ticketsRead = "tickets:read"
        /// Every ticket action, as the token's identity.
        case ticketsAct = "tickets:act"
        /// The customer's own tickets (bound accounts): read them, confirm (or reopen) a resolution.
        case customerConfirm = "customer:confirm"
        case defectsRead = "defects:read"
        case opportunitiesRead = "opportunities:read"
        /// `GET /metrics` on the service's main listener.
        case metricsRead = "metrics:read"
        /// The operational endpoints (parked outbox rows) and every unbound scope.
        case admin

        /// Scopes that name what they apply to (`scope=value,...`); the others take no value.
        public var isBound: Bool { self == .reportsSubmit || self == .customerConfirm }

        /// What `admin` includes besides its own endpoints: every scope that is not bound to
        /// someone's sources or accounts (an operator neither submits reports nor confirms for a customer).
        public static let impliedByAdmin: Set<Scope> = [.ticketsRead, .ticketsAct, .defectsRead, .opportunitiesRead, .metricsRead]

        public static func < (lhs: Scope, rhs: Scope) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// A configured token: its hash, who it is and what it may do.
    public struct Grant: Sendable, Hashable {
        public var tokenHash: [UInt8]
        /// Who acts with this token: the actor of its ticket actions, the label of its counters.
        public var identity: String
        /// Each scope held, with its values (empty for an unbound scope).
        public var scopes: [Scope: Set<String>]
        /// The index of the entry in the configuration (for logs; never the token).
        public var entry: Int

        public init(tokenHash: [UInt8], identity: String, scopes: [Scope: Set<String>], entry: Int) {
            self.tokenHash = tokenHash
            self.identity = identity
            self.scopes = scopes
            self.entry = entry
        }

        /// True when the token holds `scope` (directly, or through `admin`).
        public func has(_ scope: Scope) -> Bool {
            scopes[scope] != nil || (scopes[.admin] != nil && Scope.impliedByAdmin.contains(scope))
        }

        /// The CloudEvent sources it may submit reports with (`*` = any).
        public var sources: Set<String> { scopes[.reportsSubmit] ?? [] }
        /// The accounts whose tickets it may read and confirm as the customer.
        public var accounts: Set<String> { scopes[.customerConfirm] ?? [] }

        public var allowsAnySource: Bool { sources.contains("*") }

        public func allows(source: String) -> Bool {
            allowsAnySource || sources.contains(source)
        }

        /// True when the token acts for the customer `account` (`customer:confirm` bound to it).
        public func actsFor(account: String) -> Bool { accounts.contains(account) }

        /// Throws a 403 problem when `source` is not allowed for this token.
        public func authorize(source: String) throws(ProblemDetails) {
            guard has(.reportsSubmit) else { throw Self.lacking([.reportsSubmit], identity: identity) }
            guard allows(source: source) else {
                throw .forbidden("this token may not submit events with source \"\(source)\"")
            }
        }

        /// Throws a 403 problem unless the token holds one of `scopes`.
        public func require(anyOf scopes: [Scope]) throws(ProblemDetails) {
            guard scopes.contains(where: has) else { throw Self.lacking(scopes, identity: identity) }
        }

        static func lacking(_ scopes: [Scope], identity: String) -> ProblemDetails {
            let names = scopes.map(\.rawValue).joined(separator: " or ")
            return ProblemDetails(
                status: .forbidden, type: "https://itr.example.com/problems/insufficient-scope", title: "insufficient-scope",
                detail: "the token of \(identity) lacks the scope \(names)",
                problems: [.init(path: "Authorization", code: "insufficient-scope", message: "requires \(names)")])
        }
    }

    /// The outcome for one request and source.
    public enum Decision: Sendable, Hashable {
        case allowed(entry: Int)
        /// 401: no bearer token, or an unknown one.
        case unauthorized(String)
        /// 403: a known token not allowed to use the source.
        case forbidden(String)
    }

    public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
        public var origin: String
        public var line: Int
        public var message: String
        public var description: String { "\(origin):\(line): \(message)" }
    }

    public let grants: [Grant]

    public init(grants: [Grant]) {
        self.grants = grants
    }

    /// Parses the line format described above; `origin` names the file or variable in errors.
    /// `semicolons`: whether `;` also separates entries (the `API_TOKENS` variable, test strings);
    /// a file (`API_TOKENS_FILE`) has one entry per line.
    public init(parsing text: String, origin: String, semicolons: Bool = true) throws(ConfigurationError) {
        var grants: [Grant] = []
        var identities: [String: Int] = [:]
        // A file has one entry per line; the API_TOKENS variable also separates them with `;`.
        // Comments are cut first, so a `;` in a comment never starts an entry.
        let inline = semicolons
        var lines: [Substring] = []
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            if inline { lines += line.split(separator: ";", omittingEmptySubsequences: false) } else { lines.append(line) }
        }
        for (number, line) in lines.enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            func fail(_ message: String) -> ConfigurationError {
                ConfigurationError(origin: origin, line: number + 1, message: message)
            }
            guard fields.count >= 2 else {
                throw fail("expected \"<sha256 hex> <identity> <scope>[=<value>,...] ...\"")
            }
            guard let digest = Self.decodeHex(fields[0]), digest.count == SHA256.byteCount else {
                throw fail("expected 64 hex digits (the SHA-256 of the token)")
            }
            guard !grants.contains(where: { $0.tokenHash == digest }) else { throw fail("the same token is configured twice") }
            var identity: String
            var scopes: [Scope: Set<String>] = [:]
            if fields.count == 2 {
                // The older form: the sources a submitting system may use.
                identity = "token-" + fields[0].prefix(8).lowercased()
                let sources = Set(fields[1].split(separator: ",").map { String($0) })
                guard !sources.isEmpty else { throw fail("expected at least one source") }
                scopes[.reportsSubmit] = sources
            } else {
                identity = String(fields[1])
                guard Self.isValidIdentity(identity) else {
                    throw fail(
                        "identity \"\(identity)\" must be 1 to 64 letters, digits or . _ - @ : / (it is recorded as the actor)")
                }
                for field in fields.dropFirst(2) {
                    let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard let scope = Scope(rawValue: String(parts[0])) else {
                        throw fail(
                            "unknown scope \"\(parts[0])\" (known: \(Scope.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    guard scopes[scope] == nil else { throw fail("scope \(scope.rawValue) given twice") }
                    let values = parts.count == 2 ? parts[1].split(separator: ",").map { String($0) } : []
                    if scope.isBound {
                        guard !values.isEmpty else {
                            throw fail(
                                "scope \(scope.rawValue) needs the \(scope == .reportsSubmit ? "sources (or *)" : "accounts") it is bound to: \(scope.rawValue)=<value>,...")
                        }
                        if scope == .customerConfirm, values.contains("*") {
                            throw fail("customer:confirm is bound to named accounts, never *")
                        }
                    } else if parts.count == 2 {
                        throw fail("scope \(scope.rawValue) takes no value")
                    }
                    scopes[scope] = Set(values)
                }
            }
            if let earlier = identities[identity] {
                throw fail("identity \(identity) is already the name of entry \(earlier + 1): one identity per token")
            }
            identities[identity] = grants.count
            grants.append(Grant(tokenHash: digest, identity: identity, scopes: scopes, entry: grants.count))
        }
        self.grants = grants
    }

    static func isValidIdentity(_ identity: String) -> Bool {
        (1...64).contains(identity.utf8.count)
            && identity.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-@:/".unicodeScalars.contains(scalar))
            }
    }

    /// Reads `API_TOKENS_FILE` (a path) and `API_TOKENS` (inline, `;`-separated) from the environment;
    /// both may be given (their entries together; a token or identity configured twice is an error).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenAuthenticator {
        var sources: [(text: String, origin: String, semicolons: Bool)] = []
        if let path = environment["API_TOKENS_FILE"], !path.isEmpty {
            do {
                sources.append((try String(contentsOfFile: path, encoding: .utf8), path, false))
            } catch {
                throw ConfigurationError(origin: "API_TOKENS_FILE", line: 0, message: "cannot read \(path): \(error.localizedDescription)")
            }
        }
        if let inline = environment["API_TOKENS"], !inline.isEmpty { sources.append((inline, "API_TOKENS", true)) }
        var grants: [Grant] = []
        for (text, origin, semicolons) in sources {
            for grant in try TokenAuthenticator(parsing: text, origin: origin, semicolons: semicolons).grants {
                if grants.contains(where: { $0.tokenHash == grant.tokenHash || $0.identity == grant.identity }) {
                    throw ConfigurationError(
                        origin: origin, line: 0,
                        message: "token or identity \(grant.identity) is configured in API_TOKENS_FILE and API_TOKENS")
                }
                var grant = grant
                grant.entry = grants.count
                grants.append(grant)
            }
        }
        return TokenAuthenticator(grants: grants)
    }

    /// The SHA-256 hex digest of a token, the form it is configured in.
    public static func hash(token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Finds the grant for an `Authorization` header value (`Bearer <token>`), or throws 401.
    /// The comparison runs in constant time and always visits every configured hash.
    public func authenticate(authorization: String?) throws(ProblemDetails) -> Grant {
        guard let authorization else { throw .unauthorized("a bearer token is required") }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        var found: Grant?
        for grant in grants {
            if Self.constantTimeEqual(grant.tokenHash, digest), found == nil {
                found = grant
            }
        }
        guard let found else { throw .unauthorized("unknown token") }
        return found
    }

    /// The grant of the request's bearer token when it holds one of `scopes`: 401 without a
    /// (known) token, 403 with a token that lacks them.
    public func authorize(authorization: String?, anyOf scopes: [Scope]) throws(ProblemDetails) -> Grant {
        let grant = try authenticate(authorization: authorization)
        try grant.require(anyOf: scopes)
        return grant
    }

    /// The 401/403/allowed decision for one request and source.
    public func decide(authorization: String?, source: String) -> Decision {
        do {
            let grant = try authenticate(authorization: authorization)
            try grant.authorize(source: source)
            return .allowed(entry: grant.entry)
        } catch {
            return error.statusCode == 403 ? .forbidden(error.detail ?? "") : .unauthorized(error.detail ?? "")
        }
    }

    /// Compares two byte strings without branching on their contents.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    static func decodeHex(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
