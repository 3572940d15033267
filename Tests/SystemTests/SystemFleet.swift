import Foundation
import ITRTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The four built service executables running as child processes on one virtual host, each
/// with a DATA_DIR of its own and a free HTTP port, the shipped configuration.
struct SystemFleet: Sendable {
    static let products = TestEnvironment.serviceProducts

    let url: String
    let dataRoot: URL
    let services: [(product: String, port: Int, process: ServiceProcess)]
    /// What each service was started with (a restart starts it the same way).
    var settings: [String: [String: String]] = [:]

    /// Starts all four and waits until each answers `/readyz` with 200 (connected and consuming).
    /// `environment` adds settings for every service, `perProduct` for one.
    static func start(
        url: String, environment: [String: String] = [:], perProduct: [String: [String: String]] = [:]
    ) async throws -> SystemFleet {
        try TestEnvironment.requireServiceBinaries()
        let dataRoot = FileManager.default.temporaryDirectory.appendingPathComponent("itr-system-\(UUID().uuidString.prefix(8))")
        var services: [(product: String, port: Int, process: ServiceProcess)] = []
        var started: [String: [String: String]] = [:]
        for product in products {
            let directory = dataRoot.appendingPathComponent(product)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try freePort()
            let settings = serviceEnvironment(url: url, port: port, dataDir: directory.path)
                .merging(environment) { $1 }.merging(perProduct[product] ?? [:]) { $1 }
            let process = try await ServiceProcess.start(product: product, environment: settings)
            services.append((product, port, process))
            started[product] = settings
        }
        let fleet = SystemFleet(url: url, dataRoot: dataRoot, services: services, settings: started)
        do {
            for service in services { try await service.process.waitReady(port: service.port) }
        } catch {
            _ = await fleet.stop()
            throw error
        }
        return fleet
    }

    /// The settings every service of a fleet gets.
    static func serviceEnvironment(url: String, port: Int, dataDir: String) -> [String: String] {
        [
            "AMQP_URL": url, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "\(port)", "DATA_DIR": dataDir,
            "CONFIG_DIR": TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path, "LOG_LEVEL": "info",
        ]
    }

    /// The service of `product`.
    func service(_ product: String) -> (product: String, port: Int, process: ServiceProcess) {
        services.first { $0.product == product }!
    }

    /// Starts `product` again (after a kill) as it was started, with `environment` changed,
    /// and waits until it is ready; returns the fleet with the new process.
    func restart(_ product: String, environment: [String: String] = [:]) async throws -> SystemFleet {
        let old = service(product)
        let settings = (self.settings[product] ?? [:]).merging(environment) { $1 }
        let process = try await ServiceProcess.start(product: product, environment: settings)
        try await process.waitReady(port: old.port)
        var fleet = SystemFleet(
            url: url, dataRoot: dataRoot,
            services: services.map { $0.product == product ? (product, old.port, process) : $0 })
        fleet.settings = self.settings
        fleet.settings[product] = settings
        return fleet
    }

    /// SIGTERM to each (in reverse start order); the exit status of each.
    func stop() async -> [String: Int32?] {
        var statuses: [String: Int32?] = [:]
        for service in services.reversed() {
            statuses[service.product] = await service.process.terminate(timeout: .seconds(30))
        }
        return statuses
    }

    /// The last lines of every service's log, for a failure message.
    var logTails: String {
        services.map { "--- \($0.product) ---\n\($0.process.log.suffix(2500))" }.joined(separator: "\n")
    }

    func removeData() { try? FileManager.default.removeItem(at: dataRoot) }

    /// A port for a test service: below the ephemeral range, checked free
    /// (``TestEnvironment/freePorts(_:)``); a port the kernel hands out for binding 0 is an
    /// ephemeral one, which an outgoing connection may take before a restarted service binds it.
    static func freePort() throws -> Int { TestEnvironment.freePorts() }
}
