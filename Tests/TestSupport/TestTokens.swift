import Foundation

/// The bearer token the tests' own reads and operator calls use against services they start:
/// identity `test-ops` with `admin` (every unbound scope and the operational endpoints) and
/// `reports:submit=*`. ``ServiceProcess/start(product:environment:arguments:)`` adds its entry
/// to every service it starts, beside whatever tokens a test configures itself.
public enum TestTokens {
    public static let ops = "itr-test-ops-token"
    public static let opsIdentity = "test-ops"
    /// `printf %s itr-test-ops-token | sha256sum` (a ServiceKit test checks it).
    public static let opsHash = "45eed1f3995abb10af7e8a4368019ce7117ff41f41ffe15475c275a5d1fb3bf0"
    /// The `API_TOKENS` entry.
    public static let opsEntry = "\(opsHash) \(opsIdentity) admin reports:submit=*"
    /// The `Authorization` header value.
    public static let opsAuthorization = "Bearer \(ops)"

    /// `API_TOKENS` with the ops entry added to `configured` (the test's own entries, if any).
    public static func withOps(_ configured: String?) -> String {
        guard let configured, !configured.isEmpty else { return opsEntry }
        return configured.contains(opsHash) ? configured : configured + ";" + opsEntry
    }
}
