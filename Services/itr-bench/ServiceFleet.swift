import Foundation

/// The four services as separate processes (the built executables in `binDirectory`), each
/// with a DATA_DIR of its own under `workDirectory`, CONFIG_DIR = deploy/config, its own HTTP
/// port, and its log in `workDirectory/<product>.log`.
final class ServiceFleet: @unchecked Sendable {
    static let products = ["intake", "itr-router", "ltc-extractor", "ipd-feedback"]

    /// The bench's API token for intake's HTTP endpoint, and its SHA-256 (any source).
    static let apiToken = "itr-bench-token"
    static let apiTokenSHA256 = "d58517c75f535924e722cec26d31646d558a8f78764e3e19b2d9b8b26937eac7"

    let binDirectory: String
    let configDirectory: String
    let workDirectory: String
    let amqpURL: String
    let basePort: Int
    var logLevel = "info"
    private(set) var running: [String: ChildProcess] = [:]

    init(binDirectory: String, configDirectory: String, workDirectory: String, amqpURL: String, basePort: Int) {
        self.binDirectory = binDirectory
        self.configDirectory = configDirectory
        self.workDirectory = workDirectory
        self.amqpURL = amqpURL
        self.basePort = basePort
    }

    func port(_ product: String) -> Int { basePort + (Self.products.firstIndex(of: product) ?? 0) }
    func dataDirectory(_ product: String) -> String { "\(workDirectory)/data/\(product)" }
    func databasePath(_ product: String) -> String { "\(dataDirectory(product))/\(product).sqlite" }
    func process(_ product: String) -> ChildProcess? { running[product] }

    /// Starts `products` (those not running) and waits until each answers /readyz.
    func start(_ products: [String] = ServiceFleet.products, timeout: Duration = .seconds(120)) async throws {
        for product in products where running[product]?.isRunning != true {
            try FileManager.default.createDirectory(atPath: dataDirectory(product), withIntermediateDirectories: true)
            let child = try ChildProcess.start(
                name: product, command: ["\(binDirectory)/\(product)"],
                environment: [
                    "AMQP_URL": amqpURL, "DATA_DIR": dataDirectory(product), "CONFIG_DIR": configDirectory,
                    "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "\(port(product))", "LOG_LEVEL": logLevel,
                    "API_TOKENS": "\(Self.apiTokenSHA256) *",
                ],
                logPath: "\(workDirectory)/\(product).log")
            running[product] = child
        }
        for product in products { try await waitReady(product, timeout: timeout) }
    }

    func waitReady(_ product: String, timeout: Duration) async throws {
        guard let child = running[product] else { throw BenchError("\(product) is not running") }
        let deadline = ContinuousClock.now + timeout
        let port = self.port(product)
        while ContinuousClock.now < deadline {
            guard child.isRunning else {
                throw BenchError("\(product) exited (\(child.status ?? -1)) before ready: \(child.logTail)")
            }
            if let (status, _) = try? HTTPConnection.get(port: port, path: "/readyz"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("\(product) not ready after \(timeout): \(child.logTail)")
    }

    /// SIGTERM (graceful) to `products`, waiting for each to exit.
    func stop(_ products: [String] = ServiceFleet.products) async {
        for product in products {
            guard let child = running.removeValue(forKey: product) else { continue }
            await child.terminate()
        }
    }

    /// VmRSS (and VmHWM) of each running service, in MiB.
    func memory() -> [String: (rss: Double, peak: Double)] {
        var result: [String: (Double, Double)] = [:]
        for (product, child) in running {
            if let m = child.memory { result[product] = (Double(m.rss) / 1_048_576, Double(m.peak) / 1_048_576) }
        }
        return result
    }

    func cpuSeconds(_ product: String) -> Double { running[product]?.cpuSeconds ?? 0 }
}
