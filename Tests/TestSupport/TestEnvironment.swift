import Foundation
import ServiceKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where the tests find the package, the broker and its script.
public enum TestEnvironment {
    /// The package root (this file is Tests/TestSupport/TestEnvironment.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var amqpURL: String {
        ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"
    }

    /// Set by the test command (deploy/scripts/test.sh): broker tests must run, and fail if no broker.
    public static var brokerRequired: Bool { ProcessInfo.processInfo.environment["ITR_TEST_BROKER"] == "1" }

    /// Broker tests run when a broker answers on 127.0.0.1:5672, or when they are required.
    public static let brokerTestsEnabled: Bool = brokerRequired || portOpen(5672)

    /// The four service executables the end-to-end tests start.
    public static let serviceProducts = ["intake", "itr-router", "ltc-extractor", "ipd-feedback"]

    /// Whether the four service executables are built (`.build/debug`).
    public static var serviceBinariesBuilt: Bool {
        serviceProducts.allSatisfy { FileManager.default.isExecutableFile(atPath: ServiceProcess.executablePath(product: $0)) }
    }

    /// Tests that start the built services: they run where broker tests run and the binaries are
    /// built, and ALWAYS when the broker is required (`ITR_TEST_BROKER=1`, the test command):
    /// then a missing binary fails the test (``requireServiceBinaries()``) instead of skipping it.
    public static var serviceTestsEnabled: Bool { brokerRequired || (brokerTestsEnabled && serviceBinariesBuilt) }

    /// Throws, naming what is missing, unless the four service executables are built.
    public static func requireServiceBinaries() throws {
        let missing = serviceProducts.filter { !FileManager.default.isExecutableFile(atPath: ServiceProcess.executablePath(product: $0)) }
        guard missing.isEmpty else {
            throw CommandFailed(
                command: missing.map { ServiceProcess.executablePath(product: $0) }, status: -1,
                output: "service executables not built (ITR_TEST_BROKER=1 says they should be): swift build --build-tests")
        }
    }

    public static var brokerScript: String {
        ProcessInfo.processInfo.environment["ITR_BROKER_SCRIPT"]
            ?? packageRoot.appendingPathComponent("deploy/scripts/broker.sh").path
    }

    /// Python for interop tests: the test venv when present.
    public static var python: String {
        let venv = packageRoot.appendingPathComponent(".venv-test/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env python3"
    }

    /// Runs ``python`` with `arguments`; its exit status and what it printed (stdout and stderr).
    /// Through ``runCommand(_:environment:in:)``: the wait is on a thread of its own, so a script
    /// that runs for seconds (a consumer waiting for messages) holds none of the few cooperative
    /// threads every other test runs on.
    public static func runPython(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let command = python.split(separator: " ").map(String.init)
        return try await runCommand(command + arguments)
    }

    /// A base port such that `base ..< base + count` are free for test listeners: drawn below
    /// the kernel's ephemeral range (32768-60999 on Linux), where outgoing connections take
    /// their local ports, and checked not to be listening. (A random port inside that range
    /// collided with a broker connection's local port: "Address already in use".)
    public static func freePorts(_ count: Int = 1) -> Int {
        while true {
            let base = Int.random(in: 20_000...(32_000 - count))
            let range = base..<(base + count)
            // Never the same port twice in one test process: a service a test has stopped for a
            // moment (a kill -9 and restart) must find its port still its own, not taken by a
            // concurrent test that found it closed.
            let claimed = handedOut.withLock { ports -> Bool in
                guard range.allSatisfy({ !ports.contains($0) }) else { return false }
                ports.formUnion(range)
                return true
            }
            guard claimed else { continue }
            if range.allSatisfy({ !portOpen(UInt16($0)) }) { return base }
        }
    }

    private static let handedOut = Mutex<Set<Int>>([])

    public static func portOpen(_ port: UInt16, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }

    /// A name no other test run uses (queues, exchanges, nodes).
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix).\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Runs a command (looked up in PATH) and returns its exit status and combined output.
///
/// ``ChildSpawn`` (no descriptor of the test process reaches the child) and the wait on a thread
/// of its own. Output goes to a file, not a pipe, because a daemon the command starts (a broker,
/// epmd) may keep a pipe open for ever.
@discardableResult
public func runCommand(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("itr-cmd-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    var command = arguments
    if let directory { command = ["sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path] + arguments }

    let pid: pid_t
    do {
        pid = try ChildSpawn.spawn(command, environment: env, outputPath: outputPath)
    } catch {
        throw CommandFailed(command: command, status: -1, output: "\(error)")
    }
    let status: Int32 = await withCheckedContinuation { cont in
        Thread { cont.resume(returning: ChildSpawn.waitStatus(pid)) }.start()
    }
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (status, output)
}

public struct CommandFailed: Error, CustomStringConvertible {
    public let command: [String]
    public let status: Int32
    public let output: String
    public init(command: [String], status: Int32, output: String) {
        self.command = command
        self.status = status
        self.output = output
    }

    public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output.suffix(2000))" }
}

/// A RabbitMQ node of its own, started through deploy/scripts/broker.sh, for tests that stop,
/// restart or kill the broker without disturbing the shared one.
public struct BrokerNode: Sendable {
    public let name: String
    public let port: Int

    public init(name: String, port: Int) {
        self.name = name
        self.port = port
    }

    public var url: String { "amqp://guest:guest@127.0.0.1:\(port)/%2f" }

    @discardableResult
    public func script(_ args: [String]) async throws -> String {
        let command = ["bash", TestEnvironment.brokerScript] + args
        let (status, output) = try await runCommand(command)
        guard status == 0 else { throw CommandFailed(command: command, status: status, output: output) }
        return output
    }

    public func start(extra: [String] = []) async throws { try await script(["start", "--name", name, "--port", "\(port)"] + extra) }
    public func stop(purge: Bool = false) async throws {
        try await script(["stop", "--name", name] + (purge ? ["--purge"] : []))
    }
    public func kill() async throws { try await script(["kill", "--name", name]) }
    @discardableResult
    public func ctl(_ args: String...) async throws -> String { try await script(["ctl", "--name", name, "--"] + args) }
}

extension TestEnvironment {
    /// The node the broker tests run against (deploy/scripts/test.sh exports ITR_BROKER_NAME).
    public static var brokerNode: BrokerNode {
        let env = ProcessInfo.processInfo.environment
        return BrokerNode(name: env["ITR_BROKER_NAME"] ?? "itr-test", port: Int(env["ITR_TEST_AMQP_PORT"] ?? "") ?? 5672)
    }

    /// A fresh virtual host of its own on the test broker (guest has all permissions), so a
    /// suite can use the contract's fixed exchange and queue names without meeting another
    /// suite's messages. Returns its AMQP URL.
    public static func makeVhost(_ prefix: String) async throws -> String {
        let vhost = uniqueName(prefix)
        let node = brokerNode
        try await node.ctl("add_vhost", vhost)
        try await node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        let base = amqpURL
        let root = base.range(of: "/", options: .backwards, range: base.index(base.startIndex, offsetBy: 8)..<base.endIndex)
            .map { String(base[..<$0.lowerBound]) } ?? base
        return "\(root)/\(vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)"
    }

    /// A fresh virtual host (``makeVhost(_:)``) on which every broker user of
    /// `deploy/rabbitmq/users.json` has its deployment rights (permissions and topic permissions,
    /// as on `/`), and a function giving a user's URL for it (its password from the test node's
    /// state directory: `broker.sh url`).
    public static func makeVhostWithUsers(_ prefix: String) async throws -> (url: String, userURL: @Sendable (String) async throws -> String) {
        let url = try await makeVhost(prefix)
        let vhost = String(url.split(separator: "/").last ?? "").removingPercentEncoding ?? ""
        try await brokerNode.script(["users", "--name", brokerNode.name, "--vhost", vhost])
        let node = brokerNode
        return (url, { user in
            let base = try await node.script(["url", "--name", node.name, "--user", user]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let slash = base.range(of: "/", options: .backwards) else {
                throw CommandFailed(command: ["broker.sh", "url", user], status: -1, output: base)
            }
            return String(base[..<slash.lowerBound]) + "/" + (url.split(separator: "/").last.map(String.init) ?? "")
        })
    }

    /// Deletes a virtual host made by `makeVhost` (and everything in it).
    public static func deleteVhost(url: String) async {
        guard let name = url.split(separator: "/").last.flatMap({ String($0).removingPercentEncoding }) else { return }
        _ = try? await brokerNode.ctl("delete_vhost", name)
    }
}

extension TestEnvironment {
    /// The `export NAME='value'` lines a script prints (`broker.sh cluster env`, `postgres.sh
    /// env`) as a dictionary, quotes removed.
    public static func exports(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
                .trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        return values
    }
}
