import Foundation
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

    public static var brokerScript: String {
        ProcessInfo.processInfo.environment["ITR_BROKER_SCRIPT"]
            ?? packageRoot.appendingPathComponent("deploy/scripts/broker.sh").path
    }

    /// Python for interop tests: the test venv when present.
    public static var python: String {
        let venv = packageRoot.appendingPathComponent(".venv-test/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env python3"
    }

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

/// Runs a command and returns its exit status and combined output.
@discardableResult
public func runCommand(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    process.environment = env
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

public struct CommandFailed: Error, CustomStringConvertible {
    public let command: [String]
    public let status: Int32
    public let output: String
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
    public func script(_ args: [String]) throws -> String {
        let command = ["bash", TestEnvironment.brokerScript] + args
        let (status, output) = try runCommand(command)
        guard status == 0 else { throw CommandFailed(command: command, status: status, output: output) }
        return output
    }

    public func start(extra: [String] = []) throws { try script(["start", "--name", name, "--port", "\(port)"] + extra) }
    public func stop(purge: Bool = false) throws {
        try script(["stop", "--name", name] + (purge ? ["--purge"] : []))
    }
    public func kill() throws { try script(["kill", "--name", name]) }
    @discardableResult
    public func ctl(_ args: String...) throws -> String { try script(["ctl", "--name", name, "--"] + args) }
}
