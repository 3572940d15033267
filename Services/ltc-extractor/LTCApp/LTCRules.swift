import Foundation
import ITRConfig
import Synchronization

/// The rules in force: `ltc.yaml` with the catalogue and contracts it refers to. Reloadable;
/// a reload that fails validation keeps the last good rules.
public final class LTCRules: Sendable {
    private let state: Mutex<(detector: SignalDetector, version: String)>
    public let directory: String

    /// Loads and validates the configuration directory (throws every problem, file:line:field).
    public init(directory: String) throws(ConfigErrors) {
        let detector = try Self.load(directory: directory)
        self.directory = directory
        self.state = Mutex(detector)
    }

    /// Rules given directly (tests).
    public init(detector: SignalDetector, version: String = "test") {
        self.directory = ""
        self.state = Mutex((detector, version))
    }

    public var detector: SignalDetector { state.withLock { $0.detector } }
    public var version: String { state.withLock { $0.version } }

    /// Re-reads the directory; on failure keeps the current rules and throws the problems.
    public func reload() throws(ConfigErrors) {
        let loaded = try Self.load(directory: directory)
        state.withLock { $0 = loaded }
    }

    static func load(directory: String) throws(ConfigErrors) -> (detector: SignalDetector, version: String) {
        let bundle = try ConfigBundle.load(directory: directory, sections: [OpportunitySignals.self])
        let signals = try bundle.section(OpportunitySignals.self)
        return (SignalDetector(rules: signals, catalogue: bundle.catalogue, contracts: bundle.contracts), bundle.rulesVersion)
    }
}
