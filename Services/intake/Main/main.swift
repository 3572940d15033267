import Foundation
import IntakeApp
import ServiceKit

do {
    let settings = try ServiceSettings(
        product: IntakeService.product, environment: ProcessInfo.processInfo.environment, arguments: CommandLine.arguments)
    try await IntakeService.run(settings: settings)
} catch let error as ServiceSettingsError where error.code == .helpRequested {
    print(error.message)
} catch {
    FileHandle.standardError.write(Data("intake: \(error)\n".utf8))
    exit(1)
}
