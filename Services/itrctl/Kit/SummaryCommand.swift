import ArgumentParser

struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "What happened.")
    func run() async throws {}
}
