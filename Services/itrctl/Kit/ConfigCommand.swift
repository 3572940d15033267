import ArgumentParser
import Foundation
import ITRConfig

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the rules and catalogue files (deploy/config).",
        subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration directory exactly as the services do at start-up.",
            discussion: """
                Loads every YAML file with the core sections and every section the services add, and
                prints each problem as file:line:column: field: message. Exit status 0 when the
                directory is valid (a service would start with it), 1 when not.
                """)
        @Argument(help: "The directory, e.g. deploy/config.") var directory: String = "deploy/config"
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let result = ConfigValidation.validate(directory: directory)
            if output.json {
                Console.printJSON(result)
            } else if result.valid {
                print("\(directory): valid (rules version \(result.rulesVersion ?? "?")\(result.modelVersion.map { ", model \($0)" } ?? ""), \(result.files.count) files: \(result.files.joined(separator: ", ")))")
            } else {
                for e in result.errors { print(e) }
                print("\(directory): \(result.errors.count) problem\(result.errors.count == 1 ? "" : "s")")
            }
            if !result.valid { throw ExitCode(1) }
        }
    }
}

/// The result of validating a configuration directory.
public struct ConfigValidation: Codable, Sendable {
    public var directory: String
    public var valid: Bool
    public var rulesVersion: String?
    /// The service-type model's version (nil: none named, or invalid).
    public var modelVersion: String?
    public var files: [String]
    public var errors: [String]

    /// Sections the services add to the core ones (see `ServiceConfigSections`).
    public static func validate(directory: String, sections: [any ConfigSection.Type] = ServiceConfigSections.all) -> ConfigValidation {
        do {
            let bundle = try ConfigBundle.load(directory: directory, sections: sections)
            // The model file classification.yaml names is part of what the router starts with.
            let model = try bundle.serviceTypeModel()
            var files = bundle.files.keys.sorted()
            if let reference = bundle.classification.model { files.append(reference.file) }
            return ConfigValidation(
                directory: directory, valid: true, rulesVersion: bundle.rulesVersion, modelVersion: model?.version,
                files: files, errors: [])
        } catch {
            return ConfigValidation(
                directory: directory, valid: false, rulesVersion: nil, modelVersion: nil, files: [],
                errors: error.errors.sorted().map(\.description))
        }
    }
}
