import ArgumentParser

struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Generate or replay the sample day.")
    func run() async throws {}
}
