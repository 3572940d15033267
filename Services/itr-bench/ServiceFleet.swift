import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The four services as separate processes (the built executables in `binDirectory`), each
/// with a DATA_DIR of its own under `workDirectory`, CONFIG_DIR = deploy/config, its own HTTP
/// port, and its log in `workDirectory/<product>.log`.
///
/// With `instances` 2 each product runs twice, as deploy/scripts/run.sh's `ha` profile does:
/// `<product>-1` and `<product>-2`, each with its `ITR_INSTANCE`, HTTP port, DATA_DIR and log,
/// both on the product's DATABASE_URL (PostgreSQL: SQLite cannot be shared) and its queue. What
/// is asked of a product (port, CPU, memory) is of its first instance (port) or summed over all.
final class ServiceFleet: @unchecked Sendable {
    static let products = ["intake", "itr-router", "ltc-extractor", "ipd-feedback"]

    /// The bench's API token for intake's HTTP endpoint, and its SHA-256 (any source).
    static let apiToken = "itr-bench-token"
    static let apiTokenSHA256 = "d58517c75f535924e722cec26d31646d558a8f78764e3e19b2d9b8b26937eac7"

    let binDirectory: String
    let configDirectory: String
    let workDirectory: String
    let amqpURL: String
    /// Processes per product (1, or 2 on a shared PostgreSQL database).
    let instances: Int
    /// product → one port per instance.
    private let ports: [String: [Int]]
    var logLevel = "info"
    /// product → DATABASE_URL (empty: SQLite in DATA_DIR).
    var databaseURLs: [String: String] = [:]
    /// product → its running instances (index = instance - 1).
    private(set) var running: [String: [ChildProcess]] = [:]

    init(binDirectory: String, configDirectory: String, workDirectory: String, amqpURL: String, basePort: Int, instances: Int = 1) {
        self.binDirectory = binDirectory
        self.configDirectory = configDirectory
        self.workDirectory = workDirectory
        self.amqpURL = amqpURL
        self.instances = max(1, instances)
        // Free ports, so a service that failed to bind is never mistaken for another one answering.
        var ports: [String: [Int]] = [:]
        for (i, product) in Self.products.enumerated() {
            ports[product] = (0..<self.instances).map { Self.freePort() ?? basePort + i + 10 * $0 }
        }
        self.ports = ports
    }

    /// The HTTP port of the product's first instance.
    func port(_ product: String) -> Int { ports[product]![0] }

    /// The instance's name: the product alone, or `<product>-<n>` when it runs more than once.
    func name(_ product: String, instance: Int) -> String { instances == 1 ? product : "\(product)-\(instance + 1)" }

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
    /// The DATA_DIR of the product's first instance (the only one on SQLite).
    func dataDirectory(_ product: String) -> String { dataDirectory(product, instance: 0) }
    func dataDirectory(_ product: String, instance: Int) -> String { "\(workDirectory)/data/\(name(product, instance: instance))" }
    func databasePath(_ product: String) -> String { "\(dataDirectory(product))/\(product).sqlite" }

    /// Starts `products` (the instances not running) and waits until each answers /readyz.
    func start(_ products: [String] = ServiceFleet.products, timeout: Duration = .seconds(120)) async throws {
        for product in products {
            var children = running[product] ?? []
            for instance in 0..<instances where instance >= children.count || !children[instance].isRunning {
                let child = try start(product, instance: instance)
                if instance < children.count { children[instance] = child } else { children.append(child) }
            }
            running[product] = children
        }
        for product in products { try await waitReady(product, timeout: timeout) }
    }

    private func start(_ product: String, instance: Int) throws -> ChildProcess {
        let name = name(product, instance: instance)
        try FileManager.default.createDirectory(atPath: dataDirectory(product, instance: instance), withIntermediateDirectories: true)
        var environment = [
            "AMQP_URL": amqpURL, "DATA_DIR": dataDirectory(product, instance: instance), "CONFIG_DIR": configDirectory,
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "\(ports[product]![instance])", "LOG_LEVEL": logLevel,
            "API_TOKENS": "\(Self.apiTokenSHA256) itr-bench reports:submit=* admin",
            // The bench reads /metrics with its token on the main listener: no second one.
            "METRICS_PORT": "0",
            // One token drives thousands of requests per second here: measure, do not limit.
            "HTTP_RATE_LIMIT": "0",
            "DATABASE_URL": databaseURLs[product] ?? "",
        ]
        if instances > 1 { environment["ITR_INSTANCE"] = name }
        let child = try ChildProcess.start(
            name: name, command: ["\(binDirectory)/\(product)"], environment: environment, logPath: "\(workDirectory)/\(name).log")
        Self.recordPID(child.pid)
        return child
    }

    /// Waits until every instance of `product` answers /readyz.
    func waitReady(_ product: String, timeout: Duration) async throws {
        guard let children = running[product], !children.isEmpty else { throw BenchError("\(product) is not running") }
        let deadline = ContinuousClock.now + timeout
        for (child, port) in zip(children, ports[product]!) {
            try await Self.waitReady(child, port: port, until: deadline, timeout: timeout)
        }
    }

    private static func waitReady(_ child: ChildProcess, port: Int, until deadline: ContinuousClock.Instant, timeout: Duration) async throws {
        while ContinuousClock.now < deadline {
            guard child.isRunning else {
                throw BenchError("\(child.name) exited (\(child.status ?? -1)) before ready: \(child.logTail)")
            }
            if let (status, _) = try? HTTPConnection.get(port: port, path: "/readyz"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("\(child.name) not ready after \(timeout): \(child.logTail)")
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

    /// SIGTERM (graceful) to every instance of `products`, waiting for each to exit.
    func stop(_ products: [String] = ServiceFleet.products) async {
        for product in products {
            for child in running.removeValue(forKey: product) ?? [] { await child.terminate() }
        }
    }

    /// VmRSS (and VmHWM, the peak) of each running service in MiB, summed over its instances.
    func memory() -> [String: (rss: Double, peak: Double)] {
        var result: [String: (rss: Double, peak: Double)] = [:]
        for (product, children) in running {
            let sampled = children.compactMap(\.memory)
            guard !sampled.isEmpty else { continue }
            result[product] = (
                Double(sampled.map(\.rss).reduce(0, +)) / 1_048_576, Double(sampled.map(\.peak).reduce(0, +)) / 1_048_576
            )
        }
        return result
    }

    /// CPU seconds of the product's instances so far, summed.
    func cpuSeconds(_ product: String) -> Double { (running[product] ?? []).map { $0.cpuSeconds ?? 0 }.reduce(0, +) }
}
