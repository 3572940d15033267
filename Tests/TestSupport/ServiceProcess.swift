import Foundation
import ServiceKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A built service executable (`.build/debug/<product>`) running as a child process, for tests
/// that kill and restart a service.
///
///     let intake = try await ServiceProcess.start(product: "intake", environment: [
///         "AMQP_URL": url, "DATA_DIR": dir, "HTTP_PORT": "\(port)", "CONFIG_DIR": configDir])
///     try await intake.waitReady(port: port)
///     intake.kill9()
///
/// Started with posix_spawn (Foundation's `Process` has been seen to hang here); its stdout and
/// stderr go to ``logPath``. A thread of its own reaps it, so ``isRunning`` is always current.
public final class ServiceProcess: Sendable {
    public let product: String
    public let pid: pid_t
    /// Where the child's stdout and stderr go (JSON log lines).
    public let logPath: String
    private let exitStatus = Mutex<Int32?>(nil)

    private init(product: String, pid: pid_t, logPath: String) {
        self.product = product
        self.pid = pid
        self.logPath = logPath
    }

    /// The executable of `product` in the package's debug build directory.
    public static func executablePath(product: String) -> String {
        TestEnvironment.packageRoot.appendingPathComponent(".build/debug/\(product)").path
    }

    /// Starts `product` with the test process's environment plus `environment`, plus the ops test
    /// token (``TestTokens``) in `API_TOKENS` and no metrics listener (`METRICS_PORT=0`: the
    /// default HTTP_PORT + 1000 could be another test service's port) unless `environment` sets one.
    public static func start(product: String, environment: [String: String], arguments: [String] = []) async throws -> ServiceProcess {
        let path = executablePath(product: product)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CommandFailed(command: [path], status: -1, output: "not built: run swift build --product \(product)")
        }
        let logPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(product)-\(UUID().uuidString.prefix(8)).log").path
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        env["API_TOKENS"] = TestTokens.withOps(env["API_TOKENS"])
        if env["METRICS_PORT"] == nil { env["METRICS_PORT"] = "0" }

        let command = [path] + arguments
        let pid: pid_t
        do {
            pid = try ChildSpawn.spawn(command, environment: env, outputPath: logPath)
        } catch {
            throw CommandFailed(command: command, status: -1, output: "\(error)")
        }
        let process = ServiceProcess(product: product, pid: pid, logPath: logPath)
        let child = pid
        let reaper = Thread { [process] in
            let status = ChildSpawn.waitStatus(child)
            process.exitStatus.withLock { $0 = status }
        }
        reaper.start()
        return process
    }

    /// True until the process has exited (and been reaped).
    public var isRunning: Bool { exitStatus.withLock { $0 == nil } }

    /// The exit status (128 + signal when killed), once exited.
    public var status: Int32? { exitStatus.withLock { $0 } }

    /// The child's output so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Polls `GET http://127.0.0.1:<port>/readyz` until it answers 200; throws when the process
    /// exits first or `timeout` passes.
    public func waitReady(port: Int, timeout: Duration = .seconds(60)) async throws {
        let url = URL(string: "http://127.0.0.1:\(port)/readyz")!
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard isRunning else {
                // Its own last words first (stderr is not buffered: they may precede the last log lines).
                let lastWords = log.split(separator: "\n").filter { $0.hasPrefix("\(product):") }.joined(separator: "\n")
                throw CommandFailed(
                    command: [product], status: status ?? -1,
                    output: "exited before ready: \(lastWords)\n...\n\(log.suffix(1500))")
            }
            var request = URLRequest(url: url)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailed(command: [product], status: -1, output: "not ready after \(timeout): \(log.suffix(3000))")
    }

    /// SIGKILL, then waits until the process is gone.
    public func kill9() async {
        _ = kill(pid, SIGKILL)
        await waitForExit(timeout: .seconds(30))
    }

    /// SIGTERM (graceful stop), then waits up to `timeout`; SIGKILL if it is still running.
    /// Returns the exit status.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) async -> Int32? {
        _ = kill(pid, SIGTERM)
        await waitForExit(timeout: timeout)
        if isRunning {
            _ = kill(pid, SIGKILL)
            await waitForExit(timeout: .seconds(10))
        }
        return status
    }

    private func waitForExit(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
