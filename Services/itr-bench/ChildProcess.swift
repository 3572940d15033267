import Foundation
import ServiceKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn (Foundation's `Process` has been seen to hang
/// here), its output in a log file, reaped by a thread of its own; plus what /proc says about
/// it (resident memory, CPU time) for the benchmarks.
final class ChildProcess: Sendable {
    let name: String
    let pid: pid_t
    let logPath: String
    private let exitStatus = Mutex<Int32?>(nil)

    private init(name: String, pid: pid_t, logPath: String) {
        self.name = name
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts `command` (looked up in PATH) with this process's environment plus `environment`;
    /// stdout and stderr go to `logPath`.
    static func start(
        name: String, command: [String], environment: [String: String] = [:], logPath: String
    ) throws -> ChildProcess {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let pid: pid_t
        do {
            pid = try ChildSpawn.spawn(command, environment: env, outputPath: logPath, append: true)
        } catch {
            throw BenchError("\(error)")
        }
        let child = ChildProcess(name: name, pid: pid, logPath: logPath)
        let spawned = pid
        let reaper = Thread { [child] in
            let status = ChildSpawn.waitStatus(spawned)
            child.exitStatus.withLock { $0 = status }
        }
        reaper.start()
        return child
    }

    /// Runs `command` to completion; returns its status and output.
    static func run(_ command: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("itr-bench-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try start(name: command[0], command: command, environment: environment, logPath: log)
        while child.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (child.status ?? -1, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Runs `command` and throws with its output unless it exits 0.
    @discardableResult
    static func check(_ command: [String], environment: [String: String] = [:]) async throws -> String {
        let (status, output) = try await run(command, environment: environment)
        guard status == 0 else { throw BenchError("\(command.joined(separator: " ")) exited \(status): \(output.suffix(2000))") }
        return output
    }

    var isRunning: Bool { exitStatus.withLock { $0 == nil } }
    var status: Int32? { exitStatus.withLock { $0 } }
    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }

    /// Resident set size now (`VmRSS`) and its peak (`VmHWM`), in bytes.
    var memory: (rss: Int, peak: Int)? { Self.memory(process: "\(pid)") }

    /// `VmRSS` and `VmHWM` of `/proc/<process>/status` (`self`: this process), in bytes.
    static func memory(process: String) -> (rss: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8) else { return nil }
        func kib(_ key: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        guard let rss = kib("VmRSS:"), let peak = kib("VmHWM:") else { return nil }
        return (rss * 1024, peak * 1024)
    }

    /// User + system CPU time consumed so far, in seconds (/proc/<pid>/stat fields 14 and 15).
    var cpuSeconds: Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime is field 14, stime field 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func signal(_ sig: Int32) { _ = kill(pid, sig) }

    /// SIGTERM, wait up to `timeout`, then SIGKILL.
    func terminate(timeout: Duration = .seconds(30)) async {
        signal(SIGTERM)
        await waitExit(timeout: timeout)
        if isRunning {
            signal(SIGKILL)
            await waitExit(timeout: .seconds(10))
        }
    }

    func waitExit(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
