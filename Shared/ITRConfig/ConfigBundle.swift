import Foundation
import Yams

/// Every section of the configuration directory, decoded, cross-checked and versioned.
///
/// Files: `calendars.yaml`, `catalogue.yaml`, `contracts.yaml`, `classification.yaml`,
/// `assignment.yaml`, `problems.yaml`, `quality.yaml`, `lifecycle.yaml` (all required).
/// Other `*.yaml` / `*.yml` files are parsed (a YAML syntax error in any of them is
/// reported) and included in the rules version, but otherwise left to the module that
/// declares them as a `ConfigSection` (so `ltc.yaml` and `ipd.yaml` may ship before or
/// after their services). Files with other extensions are ignored.
public struct ConfigBundle: Sendable {
    public static let coreFiles: [String] = [
        CalendarsSection.fileName, CatalogueSection.fileName, ContractsSection.fileName,
        ClassificationSection.fileName, AssignmentSection.fileName, ProblemsSection.fileName,
        QualitySection.fileName, LifecycleSection.fileName,
    ]

    /// The directory as given (used as the prefix of file paths in errors).
    public var directory: String
    /// Contents of every YAML file by file name.
    public var files: [String: String]
    /// FNV-1a 64 of the files' contents, see `RulesVersion`.
    public var rulesVersion: String

    public var calendars: CalendarsSection
    public var catalogue: CatalogueSection
    public var contracts: ContractsSection
    public var classification: ClassificationSection
    public var assignment: AssignmentSection
    public var problems: ProblemsSection
    public var quality: QualitySection
    public var lifecycle: LifecycleSection

    var extensions: [String: any ConfigSection] = [:]

    // MARK: Loading

    /// Reads every YAML file of `directory` and decodes it; throws all problems at once.
    public static func load(
        directory: String, sections: [any ConfigSection.Type] = []
    ) throws(ConfigErrors) -> ConfigBundle {
        let manager = FileManager.default
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigErrors([ConfigError(
                file: directory, line: 0, column: 0, field: "", message: "cannot read configuration directory: \(error.localizedDescription)")])
        }
        var files: [String: String] = [:]
        var errors: [ConfigError] = []
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = manager.contents(atPath: path) else {
                errors.append(ConfigError(file: path, line: 0, column: 0, field: "", message: "cannot read file"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                errors.append(ConfigError(file: path, line: 0, column: 0, field: "", message: "file is not UTF-8"))
                continue
            }
            files[name] = text
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return try decode(files: files, directory: directory, sections: sections)
    }

    /// Decodes files given in memory (name → contents); `directory` prefixes file paths in errors.
    public static func decode(
        files: [String: String], directory: String, sections: [any ConfigSection.Type] = []
    ) throws(ConfigErrors) -> ConfigBundle {
        let diagnostics = ConfigDiagnostics()
        func path(_ name: String) -> String { directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name) }

        var roots: [String: ConfigNode] = [:]
        for name in files.keys.sorted() {
            do {
                if let node = try Yams.compose(yaml: files[name]!) {
                    roots[name] = ConfigNode(node: node, path: "", file: path(name), diagnostics: diagnostics)
                } else {
                    diagnostics.report(file: path(name), line: 1, column: 1, "file is empty")
                }
            } catch let error as YamlError {
                let (line, column, message) = describe(error)
                diagnostics.report(file: path(name), line: line, column: column, "invalid YAML: \(message)")
            } catch {
                diagnostics.report(file: path(name), line: 1, column: 1, "invalid YAML: \(error)")
            }
        }
        for name in coreFiles where files[name] == nil {
            diagnostics.report(file: path(name), "missing required configuration file")
        }
        for section in sections where section.isRequired && files[section.fileName] == nil {
            diagnostics.report(file: path(section.fileName), "missing required configuration file")
        }

        func decodeSection<T>(_ name: String, _ empty: T, _ decoder: (ConfigNode) -> T) -> T {
            guard let root = roots[name] else { return empty }
            return decoder(root)
        }
        var bundle = ConfigBundle(
            directory: directory,
            files: files,
            rulesVersion: RulesVersion.hash(files: files),
            calendars: decodeSection(CalendarsSection.fileName, CalendarsSection(calendars: []), CalendarsSection.decode),
            catalogue: decodeSection(
                CatalogueSection.fileName,
                CatalogueSection(offerings: [], packages: [], currency: "CNY", prices: [], productLines: []),
                CatalogueSection.decode),
            contracts: decodeSection(ContractsSection.fileName, ContractsSection(contracts: []), ContractsSection.decode),
            classification: decodeSection(
                ClassificationSection.fileName,
                ClassificationSection(serviceTypeRules: [], impactRules: [], urgencyRules: [], priorityMatrix: PriorityMatrix(cells: [])),
                ClassificationSection.decode),
            assignment: decodeSection(
                AssignmentSection.fileName,
                AssignmentSection(tiers: [], groupRules: [], olaBudgets: [:], functionalChain: [], hierarchicalSteps: [], slaWarningAt: 0.75),
                AssignmentSection.decode),
            problems: decodeSection(
                ProblemsSection.fileName,
                ProblemsSection(joinRuleId: "", recurrenceRuleId: "", recurrenceThreshold: 3, recurrenceWindow: 0,
                                majorIncidentRuleId: "", majorIncidentPriorities: []),
                ProblemsSection.decode),
            quality: decodeSection(QualitySection.fileName, QualitySection(codes: []), QualitySection.decode),
            lifecycle: decodeSection(
                LifecycleSection.fileName, LifecycleSection(reopenWindow: 0, confirmationTimeout: 0, pausingReasons: []),
                LifecycleSection.decode))

        bundle.crossCheck(roots)

        for section in sections {
            guard let root = roots[section.fileName] else { continue }
            let before = diagnostics.errors.count
            if let value = section.decode(root, core: bundle) {
                bundle.extensions[section.fileName] = value
            } else if diagnostics.errors.count == before {
                root.error("section could not be decoded")
            }
        }

        if !diagnostics.errors.isEmpty { throw ConfigErrors(diagnostics.errors) }
        return bundle
    }

    /// A module's own section, decoded at load time (when passed to `load(directory:sections:)`)
    /// or now from the stored file.
    public func section<S: ConfigSection>(_ type: S.Type) throws(ConfigErrors) -> S {
        if let value = extensions[S.fileName] as? S { return value }
        let file = directory.isEmpty ? S.fileName : (directory as NSString).appendingPathComponent(S.fileName)
        guard let text = files[S.fileName] else {
            throw ConfigErrors([ConfigError(file: file, line: 0, column: 0, field: "", message: "missing configuration file")])
        }
        let diagnostics = ConfigDiagnostics()
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigErrors([ConfigError(file: file, line: 1, column: 1, field: "", message: "invalid YAML: \(error)")])
        }
        guard let node else {
            throw ConfigErrors([ConfigError(file: file, line: 1, column: 1, field: "", message: "file is empty")])
        }
        let root = ConfigNode(node: node, path: "", file: file, diagnostics: diagnostics)
        let value = S.decode(root, core: self)
        if !diagnostics.errors.isEmpty { throw ConfigErrors(diagnostics.errors) }
        guard let value else { throw ConfigErrors([ConfigError(file: file, line: 1, column: 1, field: "", message: "section could not be decoded")]) }
        return value
    }

    static func describe(_ error: YamlError) -> (Int, Int, String) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return (mark.line, mark.column, prefix + problem)
        case let .duplicatedKeysInMapping(duplicates, context):
            return (context.mark.line, context.mark.column, "duplicated keys \(duplicates.joined(separator: ", "))")
        default:
            return (1, 1, "\(error)")
        }
    }
}
