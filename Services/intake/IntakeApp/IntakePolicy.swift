import Foundation
import ITRConfig
import ITREvents

/// Everything intake decides with, prepared once from the configuration (never re-parsed per
/// message) and swapped as a whole on reload.
public struct IntakePolicy: Sendable {
    public var configuration: IntakeConfiguration
    /// Customer accounts in the contract catalogue; others are accepted and flagged.
    public var knownAccounts: Set<String>
    /// The rules version the policy was built from (for logs).
    public var rulesVersion: String
    /// The zh↔en symptom synonyms of `problems.yaml`: known errors are matched by the router's
    /// fingerprint recipe, synonyms included.
    public var symptomSynonyms: SymptomSynonyms

    public var limits: ReportLimits { configuration.limits }

    public init(
        configuration: IntakeConfiguration = IntakeConfiguration(), knownAccounts: Set<String> = [], rulesVersion: String = "",
        symptomSynonyms: SymptomSynonyms = .none
    ) {
        self.configuration = configuration
        self.knownAccounts = knownAccounts
        self.rulesVersion = rulesVersion
        self.symptomSynonyms = symptomSynonyms
    }

    /// From a loaded bundle (which must have been loaded with `IntakeConfiguration` among its sections,
    /// or have no `intake.yaml`).
    public init(bundle: ConfigBundle) throws(ConfigErrors) {
        let configuration = bundle.files[IntakeConfiguration.fileName] == nil
            ? IntakeConfiguration() : try bundle.section(IntakeConfiguration.self)
        self.init(
            configuration: configuration, knownAccounts: Set(bundle.contracts.contracts.map(\.account)),
            rulesVersion: bundle.rulesVersion, symptomSynonyms: bundle.problems.synonyms)
    }

    /// Loads `directory` and builds the policy; throws every configuration problem.
    public static func load(directory: String) throws(ConfigErrors) -> IntakePolicy {
        try IntakePolicy(bundle: ConfigBundle.load(directory: directory, sections: [IntakeConfiguration.self]))
    }
}
