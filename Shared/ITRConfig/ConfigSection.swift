/// A section another module adds in its own file (e.g. `ltc.yaml`, `ipd.yaml`) without touching ITRConfig.
///
/// Declare a type, then pass it to `ConfigBundle.load(directory:sections:)` so that its
/// problems are reported with the core's at start-up and on reload; read it back with
/// `bundle.section(MySection.self)`.
///
/// ```swift
/// struct OpportunitySignals: ConfigSection {
///     static let fileName = "ltc.yaml"
///     var signals: [String]
///     static func decode(_ root: ConfigNode, core: ConfigBundle) -> OpportunitySignals? {
///         root.checkKeys(["signals"])
///         return OpportunitySignals(signals: root.required("signals")?.stringList() ?? [])
///     }
/// }
/// ```
public protocol ConfigSection: Sendable {
    /// The file in the configuration directory, e.g. `ltc.yaml`.
    static var fileName: String { get }
    /// Whether loading fails when the file is absent (default true).
    static var isRequired: Bool { get }
    /// Decodes the section, recording every problem on the nodes (`node.error(...)`);
    /// `core` holds the already decoded core sections for cross-file checks.
    /// Returning nil without recording an error is reported as a generic failure.
    static func decode(_ root: ConfigNode, core: ConfigBundle) -> Self?
}

extension ConfigSection {
    public static var isRequired: Bool { true }
}
