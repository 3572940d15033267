import Foundation
import IPDApp
import ServiceKit

do {
    let settings = try ServiceSettings(
        product: IPDService.product, environment: ProcessInfo.processInfo.environment, arguments: CommandLine.arguments)
    try await IPDService.run(settings: settings)
} catch let error as ServiceSettingsError where error.code == .helpRequested {
    print(error.message)
} catch {
    FileHandle.standardError.write(Data("ipd-feedback: \(error)\n".utf8))
    exit(1)
}
