import Crypto
import Foundation

/// Bearer-token authentication for upstream systems, each token bound to the CloudEvent
/// `source` values it may use.
///
/// Tokens are never stored in clear: the configuration holds the SHA-256 of each token
/// (64 hex digits) followed by a comma-separated list of sources (`*` = any source):
///
///     # crm system
///     9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 /crm/eu,/crm/cn
///     2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae *
///
/// One entry per line (or separated by `;` in the `API_TOKENS` variable); blank lines and
/// `#` comments are ignored. Compute a hash with `printf %s TOKEN | sha256sum`.
/// With no entry configured every request is refused (401).
public struct TokenAuthenticator: Sendable {
    /// A configured token: its hash and what it may do.
    public struct Grant: Sendable, Hashable {
        public var tokenHash: [UInt8]
        public var sources: Set<String>
        /// The index of the entry in the configuration (for logs; never the token).
        public var entry: Int

        public var allowsAnySource: Bool { sources.contains("*") }

        public func allows(source: String) -> Bool {
            allowsAnySource || sources.contains(source)
        }

        /// Throws a 403 problem when `source` is not allowed for this token.
        public func authorize(source: String) throws(ProblemDetails) {
            guard allows(source: source) else {
                throw .forbidden("this token may not submit events with source \"\(source)\"")
            }
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
    public init(parsing text: String, origin: String) throws(ConfigurationError) {
        var grants: [Grant] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == ";" })
        for (number, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw ConfigurationError(
                    origin: origin, line: number + 1, message: "expected \"<sha256 hex> <source>[,<source>...]\"")
            }
            guard let digest = Self.decodeHex(fields[0]), digest.count == SHA256.byteCount else {
                throw ConfigurationError(origin: origin, line: number + 1, message: "expected 64 hex digits (the SHA-256 of the token)")
            }
            let sources = Set(fields[1].split(separator: ",").map { String($0) })
            guard !sources.isEmpty else {
                throw ConfigurationError(origin: origin, line: number + 1, message: "expected at least one source")
            }
            grants.append(Grant(tokenHash: digest, sources: sources, entry: grants.count))
        }
        self.grants = grants
    }

    /// Reads `API_TOKENS_FILE` (a path) and `API_TOKENS` (inline, `;`-separated) from the environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenAuthenticator {
        var grants: [Grant] = []
        if let path = environment["API_TOKENS_FILE"], !path.isEmpty {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            grants += try TokenAuthenticator(parsing: text, origin: path).grants
        }
        if let inline = environment["API_TOKENS"], !inline.isEmpty {
            grants += try TokenAuthenticator(parsing: inline, origin: "API_TOKENS").grants
        }
        return TokenAuthenticator(grants: grants.enumerated().map { index, grant in
            var grant = grant
            grant.entry = index
            return grant
        })
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
