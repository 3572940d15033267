import Foundation

#if canImport(Glibc)
import Glibc
#endif

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
    private let ports: [String: Int]
    var logLevel = "info"
    /// product → DATABASE_URL (empty: SQLite in DATA_DIR).
    var databaseURLs: [String: String] = [:]
    private(set) var running: [String: ChildProcess] = [:]

    init(binDirectory: String, configDirectory: String, workDirectory: String, amqpURL: String, basePort: Int) {
        self.binDirectory = binDirectory
        self.configDirectory = configDirectory
        self.workDirectory = workDirectory
        self.amqpURL = amqpURL
        // Free ports, so a service that failed to bind is never mistaken for another one answering.
        var ports: [String: Int] = [:]
        for (i, product) in Self.products.enumerated() { ports[product] = Self.freePort() ?? basePort + i }
        self.ports = ports
    }

    func port(_ product: String) -> Int { ports[product]! }

    /// A port the kernel says is free now (bind to port 0 on 127.0.0.1).
    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
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
                    "API_TOKENS": "\(Self.apiTokenSHA256) itr-bench reports:submit=* admin",
                    // The bench reads /metrics with its token on the main listener: no second one.
                    "METRICS_PORT": "0",
                    // One token drives thousands of requests per second here: measure, do not limit.
                    "HTTP_RATE_LIMIT": "0",
                    "DATABASE_URL": databaseURLs[product] ?? "",
                ],
                logPath: "\(workDirectory)/\(product).log")
            running[product] = child
            Self.recordPID(child.pid)
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

    /// Appends `pid` to `$ITR_BENCH_PIDFILE` when set, so deploy/scripts/bench.sh can stop
    /// services left behind by a benchmark that died.
    static func recordPID(_ pid: pid_t) {
        guard let path = ProcessInfo.processInfo.environment["ITR_BENCH_PIDFILE"],
            let handle = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil)
        else { return }
        handle.seekToEndOfFile()
        handle.write(Data("\(pid)\n".utf8))
        try? handle.close()
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
